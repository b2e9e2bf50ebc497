"""Tables of embeddings and their HNSW indexes: create, bulk-load with COPY, index a stage, report sizes."""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
from pgvector import HalfVector, Vector
from psycopg import sql

from ..checks import check_choice, check_dim, check_embeddings
from .server import Connection

Storage = Literal["vector", "halfvec"]
Stage = Literal["prefix", "binary"]


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


def table_type(conn: Connection, table: str, queries: np.ndarray | None = None) -> tuple[str, int]:
    """`column_type`, refusing a missing table or `queries` whose dimension is not the table's."""
    found = column_type(conn, table)
    if found is None:
        raise ValueError(f"there is no table {table}: load_embeddings(conn, {table!r}, emb) first")
    if queries is not None and queries.shape[1] != found[1]:
        raise ValueError(f"queries have dim={queries.shape[1]} but table {table} holds {found[0]}({found[1]}): "
                         "encode the queries with the model that encoded the table, at full dimension")
    return found


def table_sql(table: str, dim: int, storage: Storage = "vector") -> sql.Composed:
    """`CREATE TABLE IF NOT EXISTS docs (id bigint PRIMARY KEY, embedding vector(384))` (notebook 09)."""
    check_choice(storage, ("vector", "halfvec"), "storage")
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} (id bigint PRIMARY KEY, embedding {}({}))").format(
        sql.Identifier(check_table(table)), sql.SQL(storage), sql.Literal(check_dim(dim, 16_000)))


def create_table(conn: Connection, table: str, dim: int, storage: Storage = "vector", replace: bool = False) -> None:
    """Create the table of `table_sql`; halfvec takes 2 bytes a number, not 4. Refuses one of another type."""
    statement = table_sql(table, dim, storage)
    if replace:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    conn.execute(statement)
    found = column_type(conn, table)
    if found != (storage, dim):
        raise ValueError(f"table {table} already holds {'%s(%s)' % found if found else 'no'} embeddings, not "
                         f"{storage}({dim}): use another table name, or replace=True to drop and recreate it")


def load_embeddings(conn: Connection, table: str, emb: np.ndarray, storage: Storage = "vector",
                    replace: bool = False) -> int:
    """Bulk-load unit-length embeddings with COPY, then ANALYZE; row i gets id i, as in FAISS. Returns the row count."""
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
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))  # the planner's row counts, after a bulk load
    return len(emb)


def index_name(table: str, stage: Stage, dim: int | None = None) -> str:
    """The name the lab gives a stage's HNSW index: docs_prefix64_hnsw, docs_binary_hnsw."""
    return f"{check_table(table)}_{'prefix%s' % dim if stage == 'prefix' else 'binary'}_hnsw"


def stage_key(conn: Connection, table: str, stage: Stage, dim: int | None) -> tuple[sql.Composed, str, int | None]:
    """The indexed expression of a first stage, its operator class, and `dim` checked against the table."""
    storage, full_dim = table_type(conn, table)
    if check_choice(stage, ("prefix", "binary"), "stage") == "binary":
        return sql.SQL("binary_quantize(embedding)::bit({})").format(sql.Literal(full_dim)), "bit_hamming_ops", None
    if dim is None:
        raise ValueError("stage='prefix' needs dim, the length of the Matryoshka prefix")
    dim = check_dim(dim, full_dim)
    # Prefixes of unit vectors are not unit length; cosine (<=>) re-normalises them, as `truncate` does.
    key = sql.SQL("subvector(embedding, 1, {d})::{t}({d})").format(d=sql.Literal(dim), t=sql.SQL(storage))
    return key, f"{storage}_cosine_ops", dim


def index_sql(conn: Connection, table: str, stage: Stage, dim: int | None = None) -> sql.Composed:
    """`CREATE INDEX ... USING hnsw ((expression) opclass)` for a funnel's first stage (notebook 09)."""
    key, ops, dim = stage_key(conn, table, stage, dim)
    return sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (({}) {})").format(
        sql.Identifier(index_name(table, stage, dim)), sql.Identifier(table), key, sql.SQL(ops))


def create_index(conn: Connection, table: str, stage: Stage, dim: int | None = None) -> str:
    """Build the HNSW index of a funnel's first stage (a Matryoshka prefix, or binary codes); returns its name."""
    conn.execute(index_sql(conn, table, stage, dim))
    return index_name(table, stage, stage_key(conn, table, stage, dim)[2])


def sizes(conn: Connection, table: str) -> dict[str, int]:
    """Bytes on disk of the table (pg_table_size: rows, and the vectors over ~2 KB that TOAST stores apart), of
    all its indexes (pg_indexes_size), and of each index by name (pg_relation_size)."""
    table = check_table(table)
    total = conn.execute("SELECT pg_table_size(%(t)s::regclass), pg_indexes_size(%(t)s::regclass)", {"t": table})
    each = conn.execute("SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                        "WHERE indrelid = %s::regclass ORDER BY 1", [table])
    table_bytes, index_bytes = total.fetchone() or (0, 0)
    return {"table": table_bytes, "indexes": index_bytes, **dict(each.fetchall())}
