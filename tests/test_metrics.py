import ir_measures
import numpy as np
import pytest
from ir_measures import MRR, R, nDCG

from mrl_helpers import mrr, ndcg, overlap_at_k, recall, to_run


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


@pytest.mark.parametrize("k", [1, 5, 10])
def test_overlap_at_k_is_recall_at_k_against_the_reference_top_k(rng, k):
    """Overlap@k = ir-measures' R@k when the qrels are the reference's top k, each judged relevant."""
    reference = np.stack([rng.permutation(50)[:k] for _ in range(20)])
    ids = np.where(rng.random((20, k)) < 0.5, reference[:, ::-1], rng.integers(0, 50, (20, k)))
    qrels = {f"q{q}": {f"d{j}": 1 for j in row} for q, row in enumerate(reference)}
    run = {f"q{q}": {f"d{j}": float(k - r) for r, j in enumerate(dict.fromkeys(row.tolist()))} for q, row in enumerate(ids)}
    expected = ir_measures.calc_aggregate([R @ k], qrels, run)[R @ k]
    assert overlap_at_k(ids, reference, k) == pytest.approx(expected, abs=1e-9)


def test_overlap_at_k_counts_a_wider_shortlist_and_never_faiss_padding():
    reference = np.array([[1, 2, 3, 4]])
    assert overlap_at_k([[9, 8, 7, 6, 4, 3]], reference, 2) == 0.0  # only the reference's top 2 count: 1 and 2
    assert overlap_at_k([[2, 9, 1, -1]], reference, 2) == 1.0
    assert overlap_at_k([-1, -1], [0, 1], 2) == 0.0  # one query as a 1-D row; padding is never a hit
    with pytest.raises(ValueError, match="one row per query"):
        overlap_at_k([[1], [2]], reference, 1)
    with pytest.raises(ValueError, match="k"):
        overlap_at_k([[1]], reference, 0)
