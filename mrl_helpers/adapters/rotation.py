"""The cheapest fix: a PCA rotation that puts the corpus's variance in the first coordinates (notebook 07)."""

from __future__ import annotations

import numpy as np

from ..checks import check_embeddings


def fit_pca_rotation(doc_emb: np.ndarray, centre: bool = True) -> np.ndarray:
    """Orthonormal (d, d): the corpus's principal directions as columns, most variance first (notebook 07).

    Apply it with `rotate` to documents and queries alike. Because it is orthonormal it keeps
    every inner product at full dimension; it only reorders where the variance sits, so that
    `truncate` keeps the directions along which the documents differ most.

    With `centre=True` the directions are those of the covariance (variance around the mean
    document); with `centre=False` those of the raw second moment, whose first direction is
    roughly the mean itself, a direction every document shares. Either way the mean is *not*
    subtracted from the embeddings: subtracting it would change full-dimension scores.
    Each column's sign is fixed (its largest entry positive), so the result is reproducible.
    """
    x = check_embeddings(doc_emb, "doc_emb").astype(np.float64)
    if centre:
        x = x - x.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(x.T @ x / len(x))
    rotation = eigenvectors[:, np.argsort(eigenvalues)[::-1]]
    signs = np.sign(rotation[np.abs(rotation).argmax(axis=0), np.arange(rotation.shape[1])])
    return (rotation * signs).astype(np.float32)


def rotate(emb: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """`emb @ rotation`: coordinates in the rotated basis; unit rows stay unit for an orthonormal one (notebook 07)."""
    emb = check_embeddings(emb)
    rotation = np.asarray(rotation, dtype=np.float32)
    if rotation.ndim != 2 or rotation.shape[0] != emb.shape[1]:
        raise ValueError(f"rotation has shape {rotation.shape}; expected ({emb.shape[1]}, k) for dim={emb.shape[1]}")
    return np.ascontiguousarray(emb @ rotation, dtype=np.float32)
