"""The explorer's geometry: which dimensions the slider offers, nearest neighbours, 2-D pictures and their trust."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np

from ..checks import check_choice, check_k

DIM_STEP = 8  # the slider's step: binary codes pack 8 dimensions per byte


def slider_dims(full_dim: int, ladder: Sequence[int], step: int = DIM_STEP) -> tuple[int, ...]:
    """The dimensions the slider offers: every multiple of `step` up to `full_dim`, plus the model's ladder.

    >>> slider_dims(48, (48, 32, 16))
    (8, 16, 24, 32, 40, 48)
    """
    return tuple(sorted(set(range(step, full_dim + 1, step)) | set(ladder) | {full_dim}))


def nearest(value: int, choices: Sequence[int]) -> int:
    """The element of `choices` closest to `value` (the larger one on a tie).

    >>> nearest(96, (128, 64))
    128
    """
    return min(choices, key=lambda c: (abs(c - value), -c))


def nearest_neighbours(emb: np.ndarray, n_neighbors: int, metric: Literal["cosine", "euclidean"]) -> np.ndarray:
    """Each row's `n_neighbors` nearest other rows, shape (n, n_neighbors), in no particular order.

    "cosine" expects unit-length rows (inner product = cosine); "euclidean" is for 2-D coordinates.
    """
    check_choice(metric, ("cosine", "euclidean"), "metric")
    emb = np.asarray(emb, dtype=np.float32)
    n = emb.shape[0]
    n_neighbors = check_k(n_neighbors, "n_neighbors")
    if n_neighbors >= n:
        raise ValueError(f"n_neighbors={n_neighbors} must be smaller than the number of points {n}")
    if metric == "cosine":
        dist = -(emb @ emb.T)
    else:
        sq = (emb**2).sum(axis=1)
        dist = sq[:, None] + sq[None, :] - 2 * (emb @ emb.T)
    np.fill_diagonal(dist, np.inf)  # a point is not its own neighbour
    return np.argpartition(dist, n_neighbors - 1, axis=1)[:, :n_neighbors].copy()  # a copy: not a view of n × n


def neighbour_preservation(high_neighbours: np.ndarray, xy: np.ndarray) -> float:
    """Mean share of each point's nearest neighbours in the high-dimensional space that stay nearest in 2-D.

    `high_neighbours` comes from `nearest_neighbours` on the embeddings (not on the picture);
    1.0 means the 2-D picture keeps every neighbourhood, about k / (n - 1) is what a random
    placement would keep.
    """
    n, k = high_neighbours.shape
    if xy.shape != (n, 2):
        raise ValueError(f"xy must have shape ({n}, 2) to match high_neighbours, got {xy.shape}")
    low = nearest_neighbours(xy, k, "euclidean")
    member = np.zeros((n, n), dtype=bool)
    rows = np.arange(n)[:, None]
    member[rows, high_neighbours] = True
    return float(member[rows, low].sum() / (n * k))


def cosine_knn(emb: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's `n_neighbors` nearest rows by cosine distance, itself first, nearest first: (indices, distances).

    What UMAP's exact search returns (it counts a point as its own nearest neighbour), from one matrix product;
    expects unit-length rows.

    >>> idx, dist = cosine_knn(np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]), 2)
    >>> idx.tolist(), dist.astype(float).round(2).tolist()
    ([[0, 1], [1, 2], [2, 1]], [[0.0, 0.4], [0.0, 0.2], [0.0, 0.2]])
    """
    emb = np.asarray(emb, dtype=np.float32)
    n = emb.shape[0]
    n_neighbors = check_k(n_neighbors, "n_neighbors")
    if n_neighbors > n:
        raise ValueError(f"n_neighbors={n_neighbors} must be at most the number of points {n}")
    dist = np.maximum(1 - emb @ emb.T, 0)
    np.fill_diagonal(dist, 0)  # exactly 0, so that each point comes first
    idx = np.argsort(dist, axis=1, kind="stable")[:, :n_neighbors]
    return idx, np.take_along_axis(dist, idx, axis=1)


def umap_2d(emb: np.ndarray, seed: int = 0) -> np.ndarray:
    """UMAP to 2-D with cosine distance; slow (seconds, plus compiling on first use): never call it in a callback.

    UMAP starts from each point's exact nearest neighbours; `cosine_knn` finds the same ones in one matrix
    product (UMAP's own exact search, used below 4,096 points, calls its distance once per pair from Python).
    """
    import umap  # imported here: it takes seconds to import and compile

    n_neighbors = 15
    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=0.1, metric="cosine", n_epochs=200,
                        random_state=seed, n_jobs=1, precomputed_knn=cosine_knn(emb, n_neighbors))
    with warnings.catch_warnings():  # no search index is passed: UMAP's `transform` is not used here
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        return reducer.fit_transform(emb).astype(np.float32)


def fit_pca_2d(emb: np.ndarray, seed: int = 0):
    """A 2-component scikit-learn PCA fitted on `emb`: `.transform` places the documents and any query."""
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit(emb)
