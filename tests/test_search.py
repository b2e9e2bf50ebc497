import faiss
import numpy as np
import pytest
from conftest import unit_rows
from sentence_transformers.util import quantize_embeddings
from sentence_transformers.util.quantization import semantic_search_faiss

from mrl_helpers import binarize, binary_index, float_index, funnel_search, rescore, search, unpack_signs
from mrl_helpers.search import BLAS_MIN_QUERIES, COUNTING_FROM


def test_float_search_equals_numpy_brute_force(rng):
    docs, queries = unit_rows(rng, 500, 64), unit_rows(rng, 30, 64)
    scores, ids = search(float_index(docs), queries, 10)
    brute = queries @ docs.T
    np.testing.assert_array_equal(ids, np.argsort(-brute, axis=1)[:, :10])
    np.testing.assert_allclose(scores, np.take_along_axis(brute, ids, 1), rtol=1e-5, atol=1e-6)


def test_blas_from_twenty_queries_changes_speed_not_results(rng):
    docs, queries = unit_rows(rng, 400, 32), unit_rows(rng, 50, 32)
    index = float_index(docs)
    faiss.cvar.distance_compute_blas_threshold = 10**9  # force the one-query loop
    expected = index.search(queries, 10)
    got = search(index, queries, 10)  # 50 queries: the BLAS path
    assert faiss.cvar.distance_compute_blas_threshold == BLAS_MIN_QUERIES * 32 <= len(queries) * 32
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-6)
    search(index, queries[:1], 10)  # one query: faiss's loop (n_queries * d below the threshold)
    assert 1 * 32 < faiss.cvar.distance_compute_blas_threshold
    search(index, queries[:1], 10, blas_min_queries=1)
    assert faiss.cvar.distance_compute_blas_threshold == 32
    with pytest.raises(ValueError, match="blas_min_queries"):
        search(index, queries, 10, blas_min_queries=0)


@pytest.mark.parametrize("k", [10, COUNTING_FROM + 20])  # a heap, then counting codes per distance
def test_binary_search_equals_numpy_hamming(rng, k):
    docs, queries = binarize(unit_rows(rng, 300, 64)), binarize(unit_rows(rng, 20, 64))
    distances, ids = search(binary_index(docs), queries, k)
    brute = np.unpackbits(queries[:, None, :] ^ docs[None, :, :], axis=2).sum(axis=2, dtype=np.int64)
    np.testing.assert_array_equal(distances, np.sort(brute, axis=1)[:, :k])
    np.testing.assert_array_equal(np.take_along_axis(brute, ids, 1), distances)
    assert all(len(set(row)) == k for row in ids)


def test_k_larger_than_corpus_returns_every_document(rng):
    docs = unit_rows(rng, 6, 16)
    scores, ids = search(float_index(docs), docs[:2], 50)
    assert ids.shape == (2, 6) and (ids >= 0).all()
    assert sorted(ids[0]) == list(range(6))
    _, bin_ids = search(binary_index(binarize(docs)), binarize(docs[:2]), 50)
    assert bin_ids.shape == (2, 6) and (bin_ids >= 0).all()


def test_rescore_equals_numpy(rng):
    docs, queries = unit_rows(rng, 100, 32), unit_rows(rng, 4, 32)
    candidates = rng.choice(100, size=(4, 20), replace=False)
    scores, ids = rescore(queries, docs, candidates, 5)
    for q in range(4):
        brute = docs[candidates[q]] @ queries[q]
        np.testing.assert_array_equal(ids[q], candidates[q][np.argsort(-brute)[:5]])
        np.testing.assert_allclose(scores[q], np.sort(brute)[::-1][:5], rtol=1e-5)
    with pytest.raises(ValueError, match=r"candidates must be ids in 0\.\.99, got -1\.\."):
        rescore(queries, docs, np.where(candidates == candidates[0, 0], -1, candidates), 5)
    with pytest.raises(ValueError, match="one row per query"):
        rescore(queries, docs, candidates[:2], 5)


def test_funnel_with_a_shortlist_of_everything_is_exact_search(rng):
    docs, queries = unit_rows(rng, 80, 64), unit_rows(rng, 10, 64)
    _, exact = search(float_index(docs), queries, 8)
    _, funnel = funnel_search(binary_index(binarize(docs)), binarize(queries), queries, docs, k=8, oversample=10)
    np.testing.assert_array_equal(funnel, exact)


def test_asymmetric_rescoring_ranks_like_sentence_transformers(rng):
    docs, queries = unit_rows(rng, 400, 64), unit_rows(rng, 10, 64)
    codes = binarize(docs)
    _, candidates = search(binary_index(codes), binarize(queries), 40)
    _, ids = rescore(queries, unpack_signs(codes), candidates, 10)
    st_results, _ = semantic_search_faiss(
        queries, corpus_embeddings=quantize_embeddings(docs, "ubinary"), corpus_precision="ubinary",
        top_k=10, rescore=True, rescore_multiplier=4,
    )
    # sentence-transformers scores q·bits (0/1) = (q·(±1) + sum(q)) / 2: the same order per query
    np.testing.assert_array_equal(ids, [[hit["corpus_id"] for hit in hits] for hits in st_results])
