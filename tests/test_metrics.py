import ir_measures
import numpy as np
import pytest
from ir_measures import MRR, R, nDCG

from mrl_helpers import mrr, ndcg, recall, to_run


def random_run_and_qrels(seed: int, decimals: int):
    rng = np.random.default_rng(seed)
    docs = [f"d{i}" for i in range(60)]
    qrels = {f"q{q}": {d: int(rng.integers(1, 3)) for d in rng.choice(docs, rng.integers(1, 6), replace=False)}
             for q in range(25)}
    run = {q: {d: float(np.round(rng.random(), decimals)) for d in rng.choice(docs, 30, replace=False)} for q in qrels}
    return run, qrels


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 5, 10, 100])
def test_metrics_equal_ir_measures(seed, k):
    run, qrels = random_run_and_qrels(seed, decimals=8)
    expected = ir_measures.calc_aggregate([nDCG @ k, R @ k, MRR @ k], qrels, run)
    assert ndcg(run, qrels, k) == pytest.approx(expected[nDCG @ k], abs=1e-6)
    assert recall(run, qrels, k) == pytest.approx(expected[R @ k], abs=1e-6)
    assert mrr(run, qrels, k) == pytest.approx(expected[MRR @ k], abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 5, 10])
def test_ties_are_broken_as_trec_eval_does(seed, k):
    """Scores rounded to one decimal tie often; pytrec_eval (ir-measures' nDCG and R provider) decides."""
    run, qrels = random_run_and_qrels(seed, decimals=1)
    expected = ir_measures.calc_aggregate([nDCG @ k, R @ k], qrels, run)
    assert ndcg(run, qrels, k) == pytest.approx(expected[nDCG @ k], abs=1e-6)
    assert recall(run, qrels, k) == pytest.approx(expected[R @ k], abs=1e-6)


def test_a_perfect_run_scores_one_and_a_missing_query_zero():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    run = {"q1": {"a": 0.9, "c": 0.1}}
    assert ndcg(run, qrels, 10) == recall(run, qrels, 10) == mrr(run, qrels, 10) == 0.5


def test_to_run_maps_positions_to_ids():
    run = to_run(np.array([[0.9, 0.5]]), np.array([[2, 0]]), ["q"], ["a", "b", "c"])
    assert run == {"q": {"c": 0.9, "a": 0.5}}
