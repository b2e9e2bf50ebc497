"""Encode texts once at full dimension, then truncate (notebooks 02 and 03)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .checks import check_dim, check_embeddings, check_texts
from .models import EmbeddingModel


def cache_dir() -> Path:
    """Where corpus embeddings are cached: `MRL_CACHE_DIR`, else ~/.cache/matryoshka-lab."""
    return Path(os.environ.get("MRL_CACHE_DIR", Path.home() / ".cache" / "matryoshka-lab"))


def library_versions() -> str:
    """The versions that decide what a cached embedding or trained weight holds; part of every cache key.

    A file written with one version of sentence-transformers, transformers or torch is never read by another.
    """
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in ("sentence-transformers", "transformers", "torch"))


def normalize(emb: np.ndarray) -> np.ndarray:
    """Scale each row to unit L2 length, so that inner product = cosine similarity (notebook 02)."""
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return (emb / np.maximum(norms, 1e-12)).astype(np.float32)


def layer_norm(emb: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Centre and scale each row, without learned weights: nomic's step before truncation (notebook 02)."""
    mean = emb.mean(axis=1, keepdims=True)
    var = emb.var(axis=1, keepdims=True)
    return ((emb - mean) / np.sqrt(var + eps)).astype(np.float32)


def encode(
    model: EmbeddingModel,
    texts: list[str],
    prompt_name: str = "document",
    *,
    cache: bool = True,
    batch_size: int | None = None,
    show_progress_bar: bool | None = None,
) -> np.ndarray:
    """Embed `texts` at full dimension with the model's task prompt; unit-length float32 rows (notebook 02).

    For nomic the rows go through `layer_norm` first, as its model card does. With `cache=True`
    the result is saved under `cache_dir()`, keyed by model, library versions, sequence length, prompt and texts, so a
    re-run does not re-encode. The progress bar shows for more than 100 texts unless told otherwise.
    `batch_size` defaults to the model's (8 for nomic on a CPU, to keep memory within Binder's 2 GB; else 32).
    A model that is a linear head on another (the offline Matryoshka model) encodes with that model,
    cached, then applies its head: the same numbers as its `st.encode`, without a second pass.
    """
    if model.base is not None:
        base = encode(model.base, texts, prompt_name, cache=cache, batch_size=batch_size,
                      show_progress_bar=show_progress_bar)
        return normalize(base @ model.head.T)
    texts = check_texts(texts)
    prompt = model.prompt(prompt_name)
    described = [model.name, model.revision, library_versions(), str(model.st.max_seq_length), prompt]
    key = hashlib.sha256("\x1f".join([*described, *texts]).encode())
    key = key.hexdigest()[:24]
    path = cache_dir() / f"{model.name.replace('/', '__')}-{prompt_name}-{key}.npy"
    if cache and path.exists():
        return np.load(path)
    emb = model.st.encode(
        texts, prompt=prompt, batch_size=batch_size or model.batch_size, convert_to_numpy=True, normalize_embeddings=False,
        show_progress_bar=len(texts) > 100 if show_progress_bar is None else show_progress_bar,
    )
    if model.layer_norm:
        emb = layer_norm(emb)
    emb = normalize(emb)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, emb)
        tmp.replace(path)
    return emb


def truncate(emb: np.ndarray, dim: int) -> np.ndarray:
    """Keep the first `dim` coordinates and re-normalise to unit length (notebook 03)."""
    emb = check_embeddings(emb)
    dim = check_dim(dim, emb.shape[1])
    return normalize(emb[:, :dim])
