"""Claims of notebook 05 that depend on the offline Matryoshka model and SciFact, checked here, not in the lesson."""

import numpy as np
import pytest

from mrl_helpers import (
    binarize, binary_index, encode, evaluate, funnel_search, ndcg_of, retrieve, unpack_signs,
)


@pytest.fixture(scope="module")
def scifact_emb(mrl_model, scifact):
    return encode(mrl_model, scifact.docs, "document"), encode(mrl_model, scifact.queries, "query")


def test_binary_rescore_is_the_funnel(mini, mini_emb):
    docs, queries = mini_emb
    _, funnel = funnel_search(binary_index(binarize(docs)), binarize(queries), queries, docs, k=10, oversample=4)
    _, wrapped = retrieve(docs, queries, docs.shape[1], "binary+rescore", k=10, oversample=4)
    np.testing.assert_array_equal(wrapped, funnel)


def test_cosine_and_hamming_distance_go_together_on_scifact(scifact_emb):
    docs, queries = scifact_emb
    hamming = (docs.shape[1] - unpack_signs(binarize(docs)) @ unpack_signs(binarize(queries[:1]))[0]) / 2
    assert np.corrcoef(docs @ queries[0], hamming)[0, 1] < -0.5  # notebook 05 §4: the cloud slopes down


def test_float_rescoring_keeps_99_percent_of_float32_on_scifact(scifact, scifact_emb):
    docs, queries = scifact_emb
    full = ndcg_of(scifact, *retrieve(docs, queries, 384, "float32", k=10))
    shortlist_100 = ndcg_of(scifact, *retrieve(docs, queries, 384, "binary+rescore", k=10, oversample=10))  # §5's sweep
    assert shortlist_100 >= 0.99 * full, f"shortlist 100: {shortlist_100:.4f} against float32 {full:.4f}"


def test_the_grid_rescores_a_shortlist_of_400_and_keeps_99_percent(mrl_model, scifact, scifact_emb):
    docs, queries = scifact_emb
    grid = evaluate(mrl_model, scifact, dims=[384], precisions=["binary+rescore"])
    shortlist_400 = ndcg_of(scifact, *retrieve(docs, queries, 384, "binary+rescore", k=10, oversample=40))
    assert grid["ndcg@10"].iloc[0] == pytest.approx(shortlist_400, abs=1e-9)  # evaluate's top 100 × oversample 4
    assert grid["pct_of_full"].iloc[0] >= 99
