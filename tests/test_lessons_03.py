"""Claims of notebook 03 that its cells no longer assert, checked against NumPy and sentence-transformers."""

import numpy as np
import pytest
from conftest import embedding_dimension, unit_rows

from mrl_helpers import load_model, retrieve, truncate


def test_truncating_twice_is_truncating_once(rng):
    emb = unit_rows(rng, 20, 64)
    once = emb[:, :8] / np.linalg.norm(emb[:, :8], axis=1, keepdims=True)
    np.testing.assert_allclose(truncate(truncate(emb, 32), 8), once, atol=1e-6)


@pytest.mark.parametrize("name", ["minilm", "minilm-mrl"])
def test_the_ladder_starts_at_the_full_output_and_shrinks(name):
    model = load_model(name)
    dims = model.matryoshka_dims
    assert dims[0] == model.full_dim == embedding_dimension(model.st)
    assert all(a > b for a, b in zip(dims, dims[1:]))


def test_plain_minilm_first_coordinates_carry_their_fair_share(mini_emb):
    """Trained without Matryoshka loss: the first d coordinates hold about d/full of the squared length."""
    docs, _ = mini_emb
    full = docs.shape[1]
    share = [float(np.mean(np.sum(docs[:, :d] ** 2, axis=1))) for d in range(1, full + 1)]
    assert np.abs(np.array(share) - np.arange(1, full + 1) / full).max() < 0.05


def test_raw_slices_rank_unlike_truncate(mini_emb):
    docs, queries = mini_emb
    raw_top10 = np.argsort(-(queries[:, :64] @ docs[:, :64].T), axis=1)[:, :10]  # the bug, in NumPy
    _, ids = retrieve(docs, queries, 64, "float32", k=10)
    assert (raw_top10 != ids).any(axis=1).sum() > 0
