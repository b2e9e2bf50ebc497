"""Pool token embeddings into one sentence vector: mean, CLS or max (notebook 02)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from .checks import check_choice

PoolingMode = Literal["mean", "cls", "max"]
POOLING_MODES: tuple[str, ...] = ("mean", "cls", "max")


def pool(token_embeddings: np.ndarray, attention_mask: np.ndarray, mode: PoolingMode) -> np.ndarray:
    """Turn (batch, tokens, dim) token embeddings into (batch, dim) sentence vectors (notebook 02).

    Only positions where `attention_mask` is 1 count: padding never enters the result.
    "mean" averages the real tokens, "cls" takes the first real token ([CLS] for BERT models)
    and "max" takes each coordinate's largest value over the real tokens. Equal to
    sentence-transformers' `Pooling` module with the same `pooling_mode`. Not normalised.
    """
    check_choice(mode, POOLING_MODES, "mode")
    tokens = np.asarray(token_embeddings)
    mask = np.asarray(attention_mask)
    if tokens.ndim != 3:
        raise ValueError(f"token_embeddings must be a 3-D array (batch, tokens, dim), got shape {tokens.shape}")
    if not np.issubdtype(tokens.dtype, np.floating):
        raise TypeError(f"token_embeddings must hold floats, got dtype {tokens.dtype}")
    if mask.shape != tokens.shape[:2]:
        raise ValueError(
            f"attention_mask must have shape (batch, tokens) = {tokens.shape[:2]} to match token_embeddings, "
            f"got shape {mask.shape}"
        )
    if not np.isin(mask, (0, 1)).all():
        raise ValueError("attention_mask must hold only 0 (padding) and 1 (real token)")
    keep = mask.astype(bool)
    empty = np.flatnonzero(~keep.any(axis=1))
    if empty.size:
        raise ValueError(f"attention_mask has no real token (all 0) in row(s) {empty.tolist()}: nothing to pool")
    if mode == "mean":
        summed = (tokens * keep[:, :, None]).sum(axis=1, dtype=np.float64)
        pooled = summed / keep.sum(axis=1, keepdims=True)
    elif mode == "cls":
        pooled = tokens[np.arange(len(tokens)), keep.argmax(axis=1)]  # first real token (left padding too)
    else:
        pooled = np.where(keep[:, :, None], tokens, -np.inf).max(axis=1)
    return pooled.astype(np.float32)
