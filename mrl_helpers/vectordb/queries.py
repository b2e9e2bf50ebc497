"""The searches as SQL: exact, a first stage's HNSW shortlist, the funnel that rescores it, and their plans.

Each `*_sql` function returns the statement that its search runs ({names} filled in by psycopg.sql,
%(values)s bound by the server), so a notebook can print the very text that runs: `.as_string(conn)`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from psycopg import sql

from ..checks import check_embeddings, check_k
from .server import Connection
from .tables import Stage, check_table, index_name, stage_key, table_type

# An HNSW index scan returns at most hnsw.ef_search rows, and pgvector refuses an ef_search above 1000:
# so a shortlist (k × oversampling) holds at most 1000 rows.
EF_SEARCH_MAX = 1000
EF_SEARCH_DEFAULT = 40  # pgvector's default

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
    key, _, dim = stage_key(conn, table, stage, dim)
    name = index_name(table, stage, dim)
    if conn.execute("SELECT to_regclass(%s)", [name]).fetchone() in (None, (None,)):
        raise ValueError(f"there is no index {name}: create_index(conn, {table!r}, {stage!r}, {dim}) first")
    order = "<=> %(prefix)s" if stage == "prefix" else "<~> binary_quantize(%(query)s)"
    return sql.SQL(SHORTLIST_SQL.replace("\n", "\n" + indent)).format(
        table=sql.Identifier(table), key=key, order=sql.SQL(order))


def funnel_sql(conn: Connection, table: str, stage: Stage, dim: int | None = None) -> sql.Composed:
    """The funnel: the shortlist in a subquery, rescored by the full vectors. `.as_string(conn)` to read it."""
    return sql.SQL(FUNNEL_SQL).format(shortlist=shortlist_sql(conn, table, stage, dim, indent="    "))


def ef_search_sql(ef_search: int) -> sql.Composed:
    """`SET LOCAL hnsw.ef_search = 400`: SET takes no bound parameter, so the checked integer is written in."""
    return sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(check_k(ef_search, "ef_search")))


def check_shortlist(shortlist: int, k: int) -> int:
    """The ef_search a shortlist needs: max(shortlist, 40), refused above what an HNSW scan can return."""
    if check_k(shortlist, "shortlist") > EF_SEARCH_MAX:
        raise ValueError(f"shortlist={shortlist}: an HNSW scan returns at most hnsw.ef_search rows and pgvector caps "
                         f"hnsw.ef_search at {EF_SEARCH_MAX}, so ask for at most {EF_SEARCH_MAX} (k × oversampling)")
    if check_k(k) > shortlist:
        raise ValueError(f"k={k} is more than shortlist={shortlist}: the shortlist must hold the k results")
    return max(shortlist, EF_SEARCH_DEFAULT)


def _run(conn: Connection, table: str, statement: sql.Composable, queries: np.ndarray, dim: int | None = None,
         ef_search: int | None = None, **params: int) -> list[list[tuple[Any, ...]]]:
    """Run `statement` once per query, in one transaction: a SET LOCAL lasts until its end."""
    queries = check_embeddings(queries, "queries")
    table_type(conn, table, queries)
    with conn.transaction():
        if ef_search is not None:
            conn.execute(ef_search_sql(ef_search))
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
    return _arrays(_run(conn, table, exact_sql(table), queries, k=check_k(k)), k)


def shortlist(conn: Connection, table: str, queries: np.ndarray, n: int, stage: Stage,
              dim: int | None = None) -> np.ndarray:
    """The ids (n_queries, n) that a first stage's HNSW index shortlists, before any rescoring."""
    ef, statement = check_shortlist(n, 1), shortlist_sql(conn, table, stage, dim)
    return _ids(_run(conn, table, statement, queries, dim, ef, shortlist=n), n)


def funnel_search(conn: Connection, table: str, queries: np.ndarray, k: int, stage: Stage, dim: int | None = None,
                  shortlist: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Shortlist with a stage's HNSW index, rescore by the full vectors: (scores, ids), as `search.funnel_search`.

    hnsw.ef_search is set to max(shortlist, 40) for this search only (SET LOCAL). On a small table PostgreSQL
    rightly reads every row instead of the index (exact, then): `SET enable_seqscan = off` shows the index at work.
    """
    ef, statement = check_shortlist(shortlist, k), funnel_sql(conn, table, stage, dim)
    return _arrays(_run(conn, table, statement, queries, dim, ef, shortlist=shortlist, k=k), k)


def explain(conn: Connection, table: str, query: np.ndarray, k: int, stage: Stage, dim: int | None = None,
            shortlist: int = 40, analyze: bool = False) -> dict[str, Any]:
    """The plan PostgreSQL picks for one funnel query (EXPLAIN (FORMAT JSON)): which index does it scan?

    `analyze=True` runs the query too (EXPLAIN ANALYZE): each node then has its "Actual Rows" and "Actual Total Time".
    """
    ef = check_shortlist(shortlist, k)
    statement = sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) " if analyze else "EXPLAIN (FORMAT JSON) ")
    rows = _run(conn, table, statement + funnel_sql(conn, table, stage, dim), np.atleast_2d(query)[:1], dim, ef,
                shortlist=shortlist, k=k)
    plan: dict[str, Any] = rows[0][0][0][0]["Plan"]  # one row, one column: a JSON list of one plan
    return plan


def indexes_scanned(plan: dict[str, Any]) -> list[str]:
    """The names of the indexes an EXPLAIN plan scans, from its top node down."""
    here = [plan["Index Name"]] if "Index Name" in plan else []
    return here + [name for child in plan.get("Plans", []) for name in indexes_scanned(child)]


def per_query_seconds(search_one: Callable[[np.ndarray], object], queries: np.ndarray, warmup: int = 3) -> float:
    """Median wall time of `search_one(q)` over the rows q of `queries`, one query (shape (1, d)) per call."""
    queries = check_embeddings(queries, "queries")
    for q in queries[:warmup]:
        search_one(q[None])
    times = []
    for q in queries:
        start = time.perf_counter()
        search_one(q[None])
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def sql_seconds(conn: Connection, table: str, statement: sql.Composable, queries: np.ndarray, dim: int | None = None,
                ef_search: int | None = None, **params: int) -> float:
    """Median time of one query of `statement` (planning, running, sending the rows back), as a client sees it."""
    queries = check_embeddings(queries, "queries")
    table_type(conn, table, queries)
    with conn.transaction():
        if ef_search is not None:
            conn.execute(ef_search_sql(ef_search))
        return per_query_seconds(
            lambda q: conn.execute(statement, {"query": q[0], "prefix": q[0, :dim], **params}).fetchall(), queries)
