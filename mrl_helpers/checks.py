"""Input checks shared by the helpers: every error names the parameter, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_dim(dim: object, full_dim: int, name: str = "dim") -> int:
    """Return `dim` if it is a whole number in 1..full_dim, else raise a ValueError/TypeError."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}={dim!r} must be an integer between 1 and {full_dim}")
    if not 1 <= dim <= full_dim:
        raise ValueError(f"{name}={dim} must be between 1 and the full dimension {full_dim}")
    return int(dim)


def check_k(k: object, name: str = "k") -> int:
    """Return `k` if it is a positive whole number."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise ValueError(f"{name}={k!r} must be a positive integer")
    return int(k)


def check_embeddings(emb: object, name: str = "emb") -> np.ndarray:
    """Return `emb` as a 2-D float32 array with at least one row and only finite values."""
    arr = np.asarray(emb)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_vectors, dim), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 vectors): an index or a search needs at least one vector")
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{name} must hold floats, got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).any(axis=1).sum())
        raise ValueError(f"{name} contains NaN or inf in {bad} row(s): embeddings must be finite")
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_texts(texts: object, name: str = "texts") -> list[str]:
    """Return `texts` as a list of non-empty strings (a single string is refused: wrap it in a list)."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"{name} must be a list of strings, got {type(texts).__name__}")
    if len(texts) == 0:
        raise ValueError(f"{name} is empty: give at least one text")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{i}]={text!r} must be a string, got {type(text).__name__}")
        if not text.strip():
            raise ValueError(f"{name}[{i}]={text!r} is empty: every text needs some words")
    return list(texts)


def check_choice(value: object, allowed: Sequence[str], name: str) -> str:
    """Return `value` if it is one of `allowed`."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")
    return str(value)
