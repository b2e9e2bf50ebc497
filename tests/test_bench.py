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

from mrl_helpers import binarize, binary_index, calibrate_int8, float_index, overlap_at_k, quantize_int8, search
from mrl_helpers.__main__ import main
from mrl_helpers.bench import (
    FAST_CODE_BYTES, GOALS, BenchSettings, Config, baseline, check_results, configurations,
    fast_code_bytes, goals, load_results, memory_bandwidth, pad_codes, prepare, project,
    format_table, results_frame, results_table, run_bench, save_results, sq8_index, summary_table,
)
from mrl_helpers.bench.goals import BandwidthGoal, FunnelGoal

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
    keys = {config.key for config in configurations(TINY.checked(D), D)}
    frame = results_frame(tiny_results)
    assert set(frame["n"]) == {400, 800}
    assert set(frame["key"]) == keys  # every shortlist here is at most a tenth of N
    assert {"float32-64", "sq8-64", "binary-16-pad4", "binary-16", "numpy-64",
            "binary-64-rescore40", "float32-16-rescore20"} <= keys
    assert (frame["latency_p95_s"] >= frame["latency_median_s"]).all()
    assert (frame["index_bytes"] == frame["n"] * frame["code_bytes"]).all()


def test_exact_configurations_have_recall_one(tiny_results):
    frame = results_frame(tiny_results)
    exact = [Config.scan("float32", D), Config.scan("float32", D, blas_for_one_query=True), Config.of_peer("numpy", D)]
    for config in exact:
        assert (frame.loc[frame["key"] == config.key, "recall_at_k"] == 1).all(), config.label
    real = {row["key"]: row["recall_at_k"] for row in tiny_results["real"]}
    assert all(real[config.key] == 1 for config in exact)


def test_keys_are_unique_follow_from_the_fields_and_not_from_the_labels(tiny_results):
    configs = configurations(TINY.checked(D), D)
    assert len({c.key for c in configs}) == len({c.label for c in configs}) == len(configs)
    assert all(Config.from_row(row) == config for row in tiny_results["rows"]
               for config in configs if config.key == row["key"])
    funnel = Config.scan("binary", 16, 4).rescored(40)
    assert (funnel.key, funnel.label) == ("binary-16-pad4-rescore40", "binary 16 (4 B) → float32 · 40")
    assert funnel.first_stage == Config.scan("binary", 16, 4)
    frame = results_frame(tiny_results)
    assert set(frame.loc[frame["kind"] == "funnel", "first_stage"]) <= set(frame.loc[frame["kind"] == "scan", "key"])
    row = tiny_results["rows"][0]
    with pytest.raises(ValueError, match=r"has key='float32 64', but its fields make 'float32-64'"):
        check_results({**tiny_results, "rows": [{**row, "key": "float32 64"}]})


def test_goals_are_data_and_checked_as_given(tiny_results):
    funnels = [(g.min_speedup, g.min_recall) for g in GOALS.values() if isinstance(g, FunnelGoal)]
    assert funnels == [(25, 0.99), (60, 0.98)]
    table = goals(tiny_results)
    assert list(table.columns) == ["goal", "config", "reached", "met"]
    assert {"binary-full-funnel", "bandwidth"} <= set(table.index)
    frame = results_frame(tiny_results)
    pct = frame.loc[(frame["n"] == 800) & (frame["key"] == baseline(D).key), "pct_of_bound"].iloc[0]
    mine = goals(tiny_results, targets={"easy": BandwidthGoal(pct / 2), "hard": BandwidthGoal(pct * 2)})
    assert mine["met"].tolist() == [True, False] and "≥" in mine.loc["hard", "goal"]


def test_the_table_puts_ratios_first_and_the_baseline_at_one(tiny_results):
    table = results_table(tiny_results)
    assert list(table.columns[:4]) == ["config", "speedup", "batch speedup", "smaller by"]
    base = table.loc[baseline(D).key]
    assert base["config"] == "float32 64"  # the label, for people; the key, for code
    assert base["speedup"] == 1 and base["batch speedup"] == 1 and base["smaller by"] == 1
    assert table.loc[Config.scan("binary", D).key, "smaller by"] == 32
    assert table.loc[Config.scan("sq8", D).key, "smaller by"] == 4
    with pytest.raises(ValueError, match=r"n=123 was not measured; measured: \[400, 800\]"):
        results_table(tiny_results, 123)


def test_the_summary_keeps_the_rows_that_compare_and_reads_as_ratios(tiny_results):
    full, summary = results_table(tiny_results), summary_table(tiny_results, shortlist=40)
    assert set(summary.index) < set(full.index) and (summary["config"] == full.loc[summary.index, "config"]).all()
    assert {baseline(D).key, Config.scan("binary", D).key, Config.of_peer("numpy", D).key,
            Config.scan("binary", D).rescored(40).key} <= set(summary.index)
    assert not any(key.endswith("-rescore20") for key in summary.index)  # one shortlist, not every one
    html = format_table(summary).to_html()
    assert baseline(D).key not in html, "no index: the label is for people"
    assert f"{full.loc[Config.scan('binary', D).key, 'smaller by']:,.1f}×" in html


def test_json_round_trip(tiny_results, tmp_path):
    path = save_results(tiny_results, tmp_path / "results.json")
    again = load_results(path)
    assert again == json.loads(json.dumps(tiny_results))
    assert results_table(again).equals(results_table(tiny_results))
    broken = {key: value for key, value in again.items() if key != "bandwidth"}
    with pytest.raises(ValueError, match="results has no 'bandwidth'"):
        check_results(broken)
    with pytest.raises(ValueError, match="schema_version=0 is not 2"):
        check_results({**again, "schema_version": 0})
    with pytest.raises(ValueError, match=r"results\['rows'\]\[0\]\['recall_at_k'\]=None must be a float"):
        check_results({**again, "rows": [{**again["rows"][0], "recall_at_k": None}]})


def test_a_funnel_with_a_shortlist_of_everything_is_exact_search(rng):
    docs, queries = anisotropic(rng, 300), anisotropic(rng, 12)
    _, exact = search(float_index(docs), queries, 10)
    for precision, dim, code in (("binary", 64, 8), ("binary", 16, 4), ("float32", 16, 64)):
        prepared = prepare(Config("funnel", precision, dim, code, shortlist=300), docs, queries, 10)
        assert overlap_at_k(prepared.run(prepared.queries), exact, 10) == 1, (precision, dim)


def test_padding_binary_codes_changes_speed_not_distances(rng):
    docs, queries = binarize(anisotropic(rng, 200, 48)), binarize(anisotropic(rng, 5, 48))
    assert docs.shape[1] == 6 and fast_code_bytes(6) == 8 and fast_code_bytes(48) == 64 and fast_code_bytes(96) == 96
    d_plain, _ = search(binary_index(docs), queries, 200)
    d_padded, _ = search(binary_index(pad_codes(docs, 8)), pad_codes(queries, 8), 200)
    np.testing.assert_array_equal(d_plain, d_padded)
    assert set(FAST_CODE_BYTES) >= {fast_code_bytes(b) for b in range(1, 65)}


def test_sq8_index_holds_the_codes_of_quantize_int8_and_scores_float_queries(rng):
    docs, queries = anisotropic(rng, 300), anisotropic(rng, 5)
    index = sq8_index(docs)
    ranges = calibrate_int8(docs)
    stored = faiss.vector_to_array(index.codes).reshape(300, D)
    np.testing.assert_array_equal(stored.astype(np.int16) - 128, quantize_int8(docs, ranges))
    # Each byte stands for the centre of its bucket between the calibrated min and max (computed here, not by faiss)
    centres = ranges[0] + (stored + 0.5) / 255 * (ranges[1] - ranges[0])
    np.testing.assert_allclose(index.sa_decode(stored), centres, rtol=1e-5, atol=1e-6)
    scores, ids = search(index, queries, 10)  # float queries, never quantized: unlike notebook 05's int8
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ centres.T, ids, 1), rtol=1e-4, atol=1e-5)
    assert index.is_trained and index.code_size == D  # one byte per dimension


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
    base = table[table["key"] == baseline(D).key].set_index("n")
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
    frame = results_frame(results)
    assert frame.loc[frame["key"] == baseline(384).key, "recall_at_k"].eq(1).all()


@pytest.mark.parametrize(("argv", "message"), [
    (["--n", "0"], "n=(0,): 0 is not a positive integer"),
    (["--n", "10k"], "--n='10k' must be comma-separated integers"),
    (["--precisions", "fp16"], "precisions='fp16' is not one of 'float32', 'sq8', 'binary'"),
    (["--precisions", "int8"], "precisions='int8' is not one of 'float32', 'sq8', 'binary'"),
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


def test_the_sentence_transformers_peer_asked_a_few_queries_at_a_time_finds_what_one_call_finds(rng):
    """The peer asks sentence-transformers 8 queries at a time (its rescoring memory); asked all at once, the same ids."""
    from mrl_helpers.bench.indexes import PEER_QUERIES, prepare
    from mrl_helpers.bench.peers import semantic_search_faiss

    if semantic_search_faiss() is None:
        pytest.skip("this sentence-transformers has no util.quantization.semantic_search_faiss: the peer is left out")
    docs, queries = anisotropic(rng, 500), anisotropic(rng, 3 * PEER_QUERIES + 1)
    ids = prepare(Config.of_peer("sentence-transformers", D, shortlist=40), docs, queries, 10).run((queries,))
    hits, _ = semantic_search_faiss()(queries, corpus_index=binary_index(binarize(docs)), corpus_precision="ubinary",
                                      top_k=10, rescore=True, rescore_multiplier=4)
    assert ids.shape == (len(queries), 10)
    np.testing.assert_array_equal(ids, [[hit["corpus_id"] for hit in row] for row in hits])
