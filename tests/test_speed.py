import numpy as np
import pytest
from conftest import unit_rows

from mrl_helpers import format_bytes, gaussian_like, median_seconds, synthetic_corpus


def test_gaussian_like_keeps_the_covariance_of_real_embeddings(rng):
    real = unit_rows(rng, 3000, 32) * np.linspace(3, 0.1, 32).astype(np.float32)  # variance falls along dims
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    fake = gaussian_like(real, 30000, seed=1)
    assert fake.shape == (30000, 32) and fake.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fake, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.cov(fake, rowvar=False), np.cov(real, rowvar=False), atol=0.01)
    assert fake[:, :4].var() > 10 * fake[:, -4:].var()  # not isotropic


def test_gaussian_like_works_with_fewer_vectors_than_dimensions(rng):
    assert gaussian_like(unit_rows(rng, 20, 64), 100).shape == (100, 64)


def test_median_seconds_counts_only_the_timed_calls():
    calls = []
    assert median_seconds(lambda: calls.append(1), repeats=5, warmup=2) >= 0
    assert len(calls) == 7
    with pytest.raises(ValueError, match="repeats=0 must be a positive integer"):
        median_seconds(lambda: None, repeats=0)


@pytest.mark.parametrize(("nbytes", "text"), [(999, "999 B"), (1536, "1.5 kB"), (384 * 4 * 10**6, "1.5 GB"),
                                              (384 * 4 * 10**8, "153.6 GB"), (2 * 10**15, "2,000.0 TB")])
def test_format_bytes(nbytes, text):
    assert format_bytes(nbytes) == text


def test_synthetic_corpus_is_gaussian_like_drawn_in_chunks(rng):
    real = unit_rows(rng, 300, 16)
    corpus = synthetic_corpus(real, 25, seed=2, chunk=10)
    assert corpus.shape == (25, 16) and corpus.dtype == np.float32
    np.testing.assert_array_equal(corpus[10:20], gaussian_like(real, 10, seed=2002))  # chunk 1: seed 1000·2 + 1 + 1
    np.testing.assert_array_equal(synthetic_corpus(real, 40, seed=2, chunk=10)[:25], corpus)  # a prefix of a larger one
