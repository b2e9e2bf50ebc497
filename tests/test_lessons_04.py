"""Claims of notebook 04 that its cells no longer assert, checked against FAISS and NumPy."""

import faiss
import numpy as np
from conftest import unit_rows

from mrl_helpers import float_index, gaussian_like, normalize, overlap_at_k, search, truncate


def test_faiss_normalize_l2_does_what_normalize_does(rng):
    emb = unit_rows(rng, 50, 16) * rng.uniform(0.1, 10, size=(50, 1)).astype(np.float32)
    in_place = emb.copy()
    faiss.normalize_L2(in_place)
    np.testing.assert_allclose(in_place, normalize(emb), atol=1e-6)


def test_a_flat_index_holds_exactly_the_float32_array(rng):
    emb = unit_rows(rng, 100, 24)
    index = float_index(emb)
    assert index.codes.size() == emb.nbytes == index.ntotal * index.d * 4
    np.testing.assert_array_equal(faiss.vector_to_array(index.codes).view(np.float32).reshape(emb.shape), emb)


def test_search_with_k_above_the_corpus_is_raw_faiss_without_its_padding(rng):
    docs, queries = unit_rows(rng, 4, 16), unit_rows(rng, 3, 16)
    raw = faiss.IndexFlatIP(16)
    raw.add(docs)
    raw_scores, raw_ids = raw.search(queries, 6)
    assert (raw_ids[:, 4:] == -1).all() and (raw_scores[:, 4:] == np.finfo(np.float32).min).all()  # FAISS pads so
    scores, ids = search(float_index(docs), queries, 6)
    np.testing.assert_array_equal(ids, raw_ids[:, :4])
    np.testing.assert_allclose(scores, raw_scores[:, :4])


def test_truncation_keeps_more_neighbours_on_gaussian_like_vectors_than_on_isotropic_noise(rng):
    # Stand-ins for real embeddings: a shared direction, and variance that falls along the coordinates
    real = normalize(rng.standard_normal((2000, 32)) * np.linspace(3, 0.3, 32) + 0.5)
    shaped, shaped_queries = gaussian_like(real, 5000, seed=1), gaussian_like(real, 100, seed=2)
    noise, noise_queries = normalize(rng.standard_normal((5000, 32))), normalize(rng.standard_normal((100, 32)))

    def mean_cosine(emb):
        return float((emb[:500] @ emb[:500].T)[np.triu_indices(500, 1)].mean())

    def neighbours_kept(docs, queries, d=8):
        _, full = search(float_index(docs), queries, 10)
        _, short = search(float_index(truncate(docs, d)), truncate(queries, d), 10)
        return overlap_at_k(short, full, 10)

    assert mean_cosine(shaped) > mean_cosine(noise) + 0.03, "gaussian_like keeps the shared direction"
    assert neighbours_kept(shaped, shaped_queries) > neighbours_kept(noise, noise_queries) + 0.1, \
        "the first coordinates of gaussian_like vectors keep neighbourhoods that those of noise lose"
