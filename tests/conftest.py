"""Shared fixtures. Tests run offline (HF_HUB_OFFLINE=1) on the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import os

import numpy as np
import pytest

from mrl_helpers import encode, load_beir, load_mini, load_model


@pytest.fixture(scope="session")
def model():
    return load_model("minilm")


@pytest.fixture(scope="session")
def mrl_model():
    """The packaged offline Matryoshka model: all-MiniLM-L6-v2 plus the lab's trained head."""
    return load_model("minilm-mrl")


@pytest.fixture(scope="session")
def mini():
    return load_mini()


@pytest.fixture(scope="session")
def scifact():
    if not os.environ.get("MRL_DATA_DIR"):
        pytest.skip("MRL_DATA_DIR is not set: no local SciFact copy to read (make test sets it to ../shared/data)")
    return load_beir("scifact", "test")


@pytest.fixture(scope="session")
def mini_emb(model, mini):
    return encode(model, mini.docs, "document"), encode(model, mini.queries, "query")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def embedding_dimension(st) -> int:
    """A SentenceTransformer's output dimension: `get_embedding_dimension` from sentence-transformers 5.4 on."""
    return (getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension)()
