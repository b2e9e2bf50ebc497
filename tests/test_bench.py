"""The benchmark measures what it says: exact configs are exact, results survive JSON, bad options are named.

Timings are never asserted here: they belong in the benchmark's own tables, as ratios.
"""

import json
import subprocess
import sys

import faiss
import numpy as np
import pytest
from conftest import unit_rows

from mrl_helpers import binarize, binary_index, calibrate_int8, float_index, quantize_int8, search
from mrl_helpers.__main__ import main
from mrl_helpers.bench import (
    FAISS_BLAS_THRESHOLD, FAST_CODE_BYTES, BenchSettings, Config, configurations, faiss_rule_min_queries,
    fast_code_bytes, int8_index, memory_bandwidth, pad_codes, prepare, recall_at_k, run_bench,
)
from mrl_helpers.bench_report import check_results, load_results, project, results_frame, results_table, save_results

D = 64


def anisotropic(rng, n, d=D):
    """Unit rows whose variance falls along the dimensions, like real embeddings (not isotropic noise)."""
    x = unit_rows(rng, n, d) * np.linspace(3, 0.2, d).astype(np.float32) + 0.3
    return x / np.linalg.norm(x, axis=1, keepdims=True)


TINY = BenchSettings(n=(400, 800), dims=(64, 32, 16), shortlists=(20, 40), batch_sizes=(4, 16), repeats=2,
                     batch_repeats=1, queries=16, bandwidth_mb=8)


@pytest.fixture(scope="module")
def tiny_results():
    rng = np.random.default_rng(0)
    return run_bench(anisotropic(rng, 300), anisotropic(rng, 40), TINY, source="test", progress=False)


def test_every_configuration_is_measured_at_every_n(tiny_results):
    names = {config.name for config in configurations(TINY.checked(D), D)}
    frame = results_frame(tiny_results)
    assert set(frame["n"]) == {400, 800}
    assert set(frame["config"]) == names  # every shortlist here is at most a tenth of N
    assert {"float32 64", "int8 64", "binary 16 (4 B)", "binary 16", "numpy 64",
            "binary 64 → float32 · 40", "float32 16 → float32 · 20"} <= names
    assert (frame["latency_p95_s"] >= frame["latency_median_s"]).all()
    assert (frame["index_bytes"] == frame["n"] * frame["code_bytes"]).all()


def test_exact_configurations_have_recall_one(tiny_results):
    frame = results_frame(tiny_results)
    for name in ("float32 64", "float32 64 · BLAS for 1 query", "numpy 64"):
        assert (frame.loc[frame["config"] == name, "recall_at_k"] == 1).all(), name
    real = {row["config"]: row["recall_at_k"] for row in tiny_results["real"]}
    assert real["float32 64"] == 1 and real["numpy 64"] == 1


def test_the_table_puts_ratios_first_and_the_baseline_at_one(tiny_results):
    table = results_table(tiny_results)
    assert list(table.columns[:4]) == ["config", "speedup", "batch speedup", "smaller by"]
    base = table[table["config"] == "float32 64"].iloc[0]
    assert base["speedup"] == 1 and base["batch speedup"] == 1 and base["smaller by"] == 1
    assert table.loc[table["config"] == "binary 64", "smaller by"].iloc[0] == 32
    assert table.loc[table["config"] == "int8 64", "smaller by"].iloc[0] == 4
    with pytest.raises(ValueError, match=r"n=123 was not measured; measured: \[400, 800\]"):
        results_table(tiny_results, 123)


def test_json_round_trip(tiny_results, tmp_path):
    path = save_results(tiny_results, tmp_path / "results.json")
    again = load_results(path)
    assert again == json.loads(json.dumps(tiny_results))
    assert results_table(again).equals(results_table(tiny_results))
    broken = {key: value for key, value in again.items() if key != "bandwidth"}
    with pytest.raises(ValueError, match="results has no 'bandwidth'"):
        check_results(broken)
    with pytest.raises(ValueError, match="schema_version=0 is not 1"):
        check_results({**again, "schema_version": 0})
    with pytest.raises(ValueError, match=r"results\['rows'\]\[0\]\['recall_at_k'\]=None must be a float"):
        check_results({**again, "rows": [{**again["rows"][0], "recall_at_k": None}]})


def test_a_funnel_with_a_shortlist_of_everything_is_exact_search(rng):
    docs, queries = anisotropic(rng, 300), anisotropic(rng, 12)
    _, exact = search(float_index(docs), queries, 10)
    for precision, dim, code in (("binary", 64, 8), ("binary", 16, 4), ("float32", 16, 64)):
        prepared = prepare(Config("funnel", precision, dim, code, shortlist=300), docs, queries, 10)
        assert recall_at_k(prepared.run(prepared.queries), exact) == 1, (precision, dim)


def test_padding_binary_codes_changes_speed_not_distances(rng):
    docs, queries = binarize(anisotropic(rng, 200, 48)), binarize(anisotropic(rng, 5, 48))
    assert docs.shape[1] == 6 and fast_code_bytes(6) == 8 and fast_code_bytes(48) == 64 and fast_code_bytes(96) == 96
    d_plain, _ = search(binary_index(docs), queries, 200)
    d_padded, _ = search(binary_index(pad_codes(docs, 8)), pad_codes(queries, 8), 200)
    np.testing.assert_array_equal(d_plain, d_padded)
    assert set(FAST_CODE_BYTES) >= {fast_code_bytes(b) for b in range(1, 65)}


def test_int8_index_holds_the_codes_of_quantize_int8(rng):
    docs, queries = anisotropic(rng, 300), anisotropic(rng, 5)
    index = int8_index(docs)
    ranges = calibrate_int8(docs)
    stored = faiss.vector_to_array(index.codes).reshape(300, D)
    np.testing.assert_array_equal(stored.astype(np.int16) - 128, quantize_int8(docs, ranges))
    scores, ids = search(index, queries, 10)
    decoded = index.sa_decode(stored)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ decoded.T, ids, 1), rtol=1e-4, atol=1e-5)
    assert index.code_size == D  # one byte per dimension


def test_faiss_rule_is_faiss_default():
    fresh = subprocess.run([sys.executable, "-c", "import faiss; print(faiss.cvar.distance_compute_blas_threshold)"],
                           capture_output=True, text=True, check=True)
    assert int(fresh.stdout) == FAISS_BLAS_THRESHOLD
    assert faiss_rule_min_queries(64) * 64 >= FAISS_BLAS_THRESHOLD > (faiss_rule_min_queries(64) - 1) * 64
    assert faiss_rule_min_queries(384) == 334


def test_memory_bandwidth_reports_gigabytes_per_second():
    bandwidth = memory_bandwidth(8e6, repeats=2)
    assert bandwidth["read_gb_s"] > 0 and bandwidth["copy_gb_s"] > 0 and bandwidth["array_bytes"] >= 8e6 - 4 * 4096


def test_projection_follows_the_measured_slope(tiny_results):
    fake = json.loads(json.dumps(tiny_results))
    for row in fake["rows"]:
        row["n"] *= 1000  # 400k and 800k vectors
        row["index_bytes"] *= 1000
        row["latency_median_s"] = 1e-9 * row["n"] * row["code_bytes"]  # exactly linear in N
    table = project(fake, targets=(10**8, 10**9), fit_from=100_000)
    base = table[table["config"] == "float32 64"].set_index("n")
    np.testing.assert_allclose(base["slope"], 1, rtol=1e-9)
    np.testing.assert_allclose(base.loc[10**9, "latency_s"], 1e-9 * 10**9 * 256, rtol=1e-6)
    np.testing.assert_allclose(base.loc[10**9, "latency_linear_s"], 1e-9 * 10**9 * 256, rtol=1e-9)
    assert base.loc[10**9, "ram_gb"] == 256.0  # 256 bytes per vector × 1e9
    assert not base.loc[10**9, "fits_this_machine"] or fake["machine"]["ram_bytes"] > 256e9


def test_quick_mode_runs_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "quick.json"
    assert main(["--model", "minilm", "bench", "--quick", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "float32 384" in printed and "Goals:" in printed and "memory bandwidth" in printed
    results = load_results(out)
    assert results["settings"]["n"] == [10_000, 30_000]
    assert results_frame(results).query("config == 'float32 384'")["recall_at_k"].eq(1).all()


@pytest.mark.parametrize(("argv", "message"), [
    (["--n", "0"], "n=(0,): 0 is not a positive integer"),
    (["--n", "10k"], "--n='10k' must be comma-separated integers"),
    (["--precisions", "fp16"], "precisions='fp16' is not one of 'float32', 'int8', 'binary'"),
    (["--shortlists", "15"], "shortlists: 15 must be a multiple of k=10"),
    (["--batch-sizes", "512", "--queries", "64"], "batch_sizes: 512 is larger than queries=64"),
    (["--binary-padding", "always"], "binary_padding='always' is not one of 'fast', 'none', 'both'"),
    (["--threads", "0"], "threads=0 must be a positive integer"),
    (["--peers", "faiss"], "peers='faiss' is not one of 'numpy', 'sentence-transformers'"),
    (["--funnels", "binary@97"], "funnels: 'binary@97' has dim=97; binary codes need a multiple of 8"),
    (["--funnels", "pq@64"], "funnels: 'pq@64' must look like 'binary@96' or 'float32@64'"),
    (["--dims", "1000"], "dims: 1000 is larger than the full dimension 384"),
])
def test_bad_options_are_named(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", "minilm", "bench", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
