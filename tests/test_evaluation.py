import pytest

from mrl_helpers import bytes_per_vector, evaluate, ndcg, ndcg_of, retrieve, to_run


def test_bytes_per_vector():
    assert [bytes_per_vector(384, p) for p in ("float32", "int8", "binary", "binary+rescore")] == [1536, 384, 48, 48]


def test_scifact_full_dimension_reproduces_mteb(model, scifact):
    """MTEB's published SciFact test scores for all-MiniLM-L6-v2: nDCG@10 = 0.64508, recall@100 = 0.925."""
    table = evaluate(model, scifact, dims=[384], precisions=["float32"])
    assert table["ndcg@10"].iloc[0] == pytest.approx(0.64508, abs=5e-4)
    assert table["recall@100"].iloc[0] == pytest.approx(0.925, abs=5e-3)
    assert table["pct_of_full"].iloc[0] == pytest.approx(100)


def test_mini_corpus_makes_truncation_visible(model, mini):
    table = evaluate(model, mini, dims=[384, 16], precisions=["float32"]).set_index("dim")
    assert table.loc[384, "ndcg@10"] >= 0.8  # full dimension retrieves well
    assert table.loc[16, "ndcg@10"] <= table.loc[384, "ndcg@10"] - 0.1  # very low dimension measurably worse


def test_rescoring_wins_back_what_binary_loses(mini, mini_emb):
    docs, queries = mini_emb

    def score(precision):
        return ndcg_of(mini, *retrieve(docs, queries, 384, precision, k=10))

    full, binary, rescored = score("float32"), score("binary"), score("binary+rescore")
    assert binary < full and rescored > binary and rescored >= 0.97 * full


def test_ndcg_of_is_ndcg_of_the_run(mini, mini_emb):
    scores, ids = retrieve(*mini_emb, 64, "float32", k=10)
    assert ndcg_of(mini, scores, ids, k=5) == ndcg(to_run(scores, ids, mini.query_ids, mini.doc_ids), mini.qrels, 5)
