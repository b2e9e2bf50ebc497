import subprocess
import sys

import faiss
import numpy as np
import pytest
from conftest import unit_rows
from sentence_transformers import quantize_embeddings  # the top-level name in every version >= 3

try:  # sentence-transformers >= 5.4
    from sentence_transformers.util.quantization import semantic_search_faiss
except ImportError:  # 3.x to 5.3, e.g. on Colab
    from sentence_transformers.quantization import semantic_search_faiss

from mrl_helpers import binarize, binary_index, float_index, funnel_search, rescore, search, unpack_signs
from mrl_helpers.search import (BLAS_MIN_QUERIES, COUNTING_FROM, FAISS_BLAS_THRESHOLD, faiss_rule_min_queries)


def test_float_search_equals_numpy_brute_force(rng):
    docs, queries = unit_rows(rng, 500, 64), unit_rows(rng, 30, 64)
    scores, ids = search(float_index(docs), queries, 10)
    brute = queries @ docs.T
    np.testing.assert_array_equal(ids, np.argsort(-brute, axis=1)[:, :10])
    np.testing.assert_allclose(scores, np.take_along_axis(brute, ids, 1), rtol=1e-5, atol=1e-6)


def test_blas_from_twenty_queries_changes_speed_not_results_and_leaves_faiss_as_it_was(rng):
    docs, queries = unit_rows(rng, 400, 32), unit_rows(rng, 50, 32)
    index = float_index(docs)
    default = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = 10**9  # force the one-query loop
    try:
        expected = index.search(queries, 10)
    finally:
        faiss.cvar.distance_compute_blas_threshold = default
    seen = []  # the threshold faiss sees while it searches
    plain_search = index.search
    index.search = lambda *args: (seen.append(faiss.cvar.distance_compute_blas_threshold), plain_search(*args))[1]
    got = search(index, queries, 10)  # 50 queries: the BLAS path
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-6)
    search(index, queries[:1], 10)
    search(index, queries[:1], 10, blas_min_queries=1)
    assert seen == [0, 2**31 - 1, 0], "BLAS (threshold 0) for 50 queries; the loop for one, unless asked otherwise"
    assert faiss.cvar.distance_compute_blas_threshold == default  # a later raw index.search is FAISS's own
    with pytest.raises(ValueError, match="blas_min_queries"):
        search(index, queries, 10, blas_min_queries=0)


def test_binary_search_leaves_the_index_flag_as_it_was(rng):
    index = binary_index(binarize(unit_rows(rng, 300, 64)))
    for use_heap in (True, False):
        index.use_heap = use_heap
        search(index, binarize(unit_rows(rng, 3, 64)), COUNTING_FROM + 1 if use_heap else 5)
        assert index.use_heap == use_heap


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


def test_faiss_rule_is_this_faiss_default():
    fresh = subprocess.run([sys.executable, "-c", "import faiss; print(faiss.cvar.distance_compute_blas_threshold)"],
                           capture_output=True, text=True, check=True)
    assert int(fresh.stdout) == FAISS_BLAS_THRESHOLD
    # BLAS when n_queries * d >= the threshold
    assert faiss_rule_min_queries(64) * 64 >= FAISS_BLAS_THRESHOLD > (faiss_rule_min_queries(64) - 1) * 64
    assert faiss_rule_min_queries(384) == 334
