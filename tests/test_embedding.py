import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

import mrl_helpers.cache as cache
from mrl_helpers import encode, layer_norm, truncate
from mrl_helpers.models import EmbeddingModel

TEXTS = ["Albert Einstein was born in Ulm.", "The cat sleeps on the sofa.", "FAISS searches vectors."]


def test_encode_equals_sentence_transformers(model):
    emb = encode(model, TEXTS, "document", cache=False)
    expected = model.st.encode(TEXTS, normalize_embeddings=True)
    assert emb.shape == (3, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(emb, expected, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-6)


def test_truncate_equals_sentence_transformers_truncate_dim(model):
    emb = encode(model, TEXTS, "document", cache=False)
    st64 = SentenceTransformer(model.st[0].auto_model.name_or_path, truncate_dim=64, device="cpu")
    expected = st64.encode(TEXTS)  # slices after normalising: re-normalise to compare
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(truncate(emb, 64), expected, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(truncate(emb, 64), axis=1), 1, atol=1e-6)


def test_corpus_embeddings_are_cached_on_disk(model, tmp_path, monkeypatch):
    monkeypatch.setenv("MRL_CACHE_DIR", str(tmp_path))
    first = encode(model, TEXTS, "document")
    assert [p.parent.name for p in tmp_path.rglob("*") if p.is_file()] == ["embeddings"]  # one file, no leftovers

    def must_not_run(*args, **kwargs):
        raise AssertionError("a cached corpus was encoded again")

    monkeypatch.setattr(model.st, "encode", must_not_run)
    np.testing.assert_array_equal(encode(model, TEXTS, "document"), first)
    with pytest.raises(AssertionError):  # other texts: a new key, so a real encode
        encode(model, [*TEXTS, "one more"], "document")
    length = model.st.max_seq_length
    monkeypatch.setattr(model.st, "max_seq_length", 128)
    with pytest.raises(AssertionError):  # another sequence length: other vectors, encoded again
        encode(model, TEXTS, "document")
    monkeypatch.setattr(model.st, "max_seq_length", length)
    monkeypatch.setattr(cache, "library_versions", lambda: "sentence-transformers 3.0.0, transformers 4.41.0, torch 2.1.0")
    with pytest.raises(AssertionError):  # written by other library versions: never read, encoded again
        encode(model, TEXTS, "document")


def test_layer_norm_equals_torch(rng):
    x = rng.standard_normal((4, 768)).astype(np.float32) * 3 + 1
    expected = torch.nn.functional.layer_norm(torch.from_numpy(x), (768,)).numpy()
    np.testing.assert_allclose(layer_norm(x), expected, atol=1e-5)


def test_nomic_recipe_layer_norm_then_truncate_then_normalise(model, monkeypatch):
    """nomic's model card: layer_norm the full vector, slice, L2-normalise. Checked with a stand-in encoder."""
    raw = np.random.default_rng(1).standard_normal((3, 768)).astype(np.float32) + 0.5
    monkeypatch.setattr(model.st, "encode", lambda *a, **k: raw)
    nomic_like = EmbeddingModel(name="stand-in", full_dim=768, matryoshka_dims=(768, 64), prompts={"document": ""},
                                trained_with_mrl=True, layer_norm=True, reason="test", st=model.st)
    card = torch.nn.functional.layer_norm(torch.from_numpy(raw), (768,))[:, :64]
    card = torch.nn.functional.normalize(card, p=2, dim=1).numpy()
    np.testing.assert_allclose(truncate(encode(nomic_like, TEXTS, cache=False), 64), card, atol=1e-5)


def test_prompts_are_prepended(model, monkeypatch):
    seen = {}

    def fake_encode(texts, prompt, **kwargs):
        seen["prompt"] = prompt
        return np.ones((len(texts), 4), dtype=np.float32)

    monkeypatch.setattr(model.st, "encode", fake_encode)
    monkeypatch.setitem(model.prompts, "query", "search_query: ")
    encode(model, ["hello"], "query", cache=False)
    assert seen["prompt"] == "search_query: "
