import numpy as np
import pytest
import sentence_transformers
import torch
from packaging.version import Version

from mrl_helpers import POOLING_MODES, pool
from mrl_helpers.models import st_modules

(Pooling,) = st_modules("Pooling")

# Different lengths, so the shorter texts are padded in the batch.
TEXTS = [
    "Albert Einstein was born on 14 March 1879 in Ulm, in the Kingdom of Württemberg.",
    "The cat sleeps.",
    "FAISS searches millions of vectors quickly on a laptop CPU.",
    "Hi",
]


@pytest.fixture(scope="module")
def features(model):
    """Token embeddings (batch, tokens, dim) and attention mask of TEXTS, straight from the model's transformer."""
    preprocess = getattr(model.st, "preprocess", None) or model.st.tokenize  # `tokenize` before sentence-transformers 6
    batch = preprocess(TEXTS)
    with torch.no_grad():
        out = model.st[0](dict(batch))
    assert (out["attention_mask"] == 0).any(), "the batch must contain padding for the test to mean anything"
    return out["token_embeddings"], out["attention_mask"]


def sentence_transformers_pooling(token_embeddings, attention_mask, mode):
    module = Pooling(token_embeddings.shape[-1], pooling_mode=mode)
    with torch.no_grad():
        out = module({"token_embeddings": token_embeddings, "attention_mask": attention_mask})
    return out["sentence_embedding"].numpy()


@pytest.mark.parametrize("mode", ["mean", "cls", "max"])
def test_pool_equals_sentence_transformers_pooling(features, mode):
    tokens, mask = features
    mine = pool(tokens.numpy(), mask.numpy(), mode)
    assert mine.shape == (len(TEXTS), tokens.shape[-1]) and mine.dtype == np.float32
    np.testing.assert_allclose(mine, sentence_transformers_pooling(tokens, mask, mode), atol=1e-5)


@pytest.mark.parametrize("mode", ["mean", "cls", "max"])
def test_pool_equals_sentence_transformers_with_left_padding(features, mode):
    tokens, mask = features
    shifts = (mask.shape[1] - mask.sum(dim=1)).tolist()  # move each row's padding to the front
    tokens = torch.stack([t.roll(s, dims=0) for t, s in zip(tokens, shifts)])
    mask = torch.stack([m.roll(s, dims=0) for m, s in zip(mask, shifts)])
    assert mask[:, 0].min() == 0  # some row now starts with padding
    expected = sentence_transformers_pooling(tokens, mask, mode)
    if mode == "cls" and Version(sentence_transformers.__version__) < Version("5.5"):
        # Its CLS pooling took position 0 even where that is left padding until 5.5: the right-padded batch says
        # which token CLS is.
        expected = sentence_transformers_pooling(*features, mode)
    np.testing.assert_allclose(pool(tokens.numpy(), mask.numpy(), mode), expected, atol=1e-5)


def test_mean_pooling_is_the_models_own_sentence_embedding(model, features):
    tokens, mask = features
    mean = pool(tokens.numpy(), mask.numpy(), "mean")
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    np.testing.assert_allclose(mean, model.st.encode(TEXTS, normalize_embeddings=True), atol=1e-5)


@pytest.mark.parametrize("mode", POOLING_MODES)
def test_padding_values_never_leak_into_the_result(features, mode):
    tokens, mask = (x.numpy() for x in features)
    garbage = np.where(mask[:, :, None] == 1, tokens, 1e6).astype(np.float32)
    np.testing.assert_array_equal(pool(garbage, mask, mode), pool(tokens, mask, mode))


def test_pool_accepts_torch_tensors_and_returns_numpy(features):
    out = pool(*features, "mean")
    assert isinstance(out, np.ndarray) and out.dtype == np.float32


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"mode": "sum"}, ValueError, r"mode='sum' is not one of 'mean', 'cls', 'max'"),
    ({"mode": "MEAN"}, ValueError, r"mode='MEAN' is not one of 'mean', 'cls', 'max'"),
    ({"mode": None}, ValueError, r"mode=None is not one of 'mean', 'cls', 'max'"),
])
def test_bad_mode_is_named(kwargs, error, message):
    tokens, mask = np.ones((2, 3, 4), np.float32), np.ones((2, 3), int)
    with pytest.raises(error, match=message):
        pool(tokens, mask, **kwargs)


@pytest.mark.parametrize(("tokens", "mask", "error", "message"), [
    (np.ones((3, 4), np.float32), np.ones((3, 4)), ValueError,
     r"token_embeddings must be a 3-D array \(batch, tokens, dim\), got shape \(3, 4\)"),
    (np.ones((2, 3, 4), np.float32), np.ones((2, 5)), ValueError,
     r"attention_mask must have shape \(batch, tokens\) = \(2, 3\) to match token_embeddings, got shape \(2, 5\)"),
    (np.ones((2, 3, 4), np.float32), np.ones(2), ValueError, r"attention_mask must have shape"),
    (np.ones((2, 3, 4), np.int64), np.ones((2, 3)), TypeError, r"token_embeddings must hold floats, got dtype int64"),
    (np.ones((2, 3, 4), np.float32), np.full((2, 3), 2), ValueError, r"attention_mask must hold only 0 .* and 1"),
    (np.ones((2, 3, 4), np.float32), np.array([[1, 1, 0], [0, 0, 0]]), ValueError,
     r"attention_mask has no real token \(all 0\) in row\(s\) \[1\]"),
])
def test_bad_shapes_are_named(tokens, mask, error, message):
    with pytest.raises(error, match=message):
        pool(tokens, mask, "mean")
