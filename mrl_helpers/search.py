"""Exact FAISS search over float and binary vectors, and the rescoring funnel (notebooks 04 and 05)."""

from __future__ import annotations

import faiss
import numpy as np

from .checks import check_embeddings, check_k

Index = faiss.IndexFlatIP | faiss.IndexBinaryFlat

# faiss 1.15 switches to BLAS (matrix-matrix products) only when n_queries * d >= 128000, so a
# batch of 1000 queries at 64 dimensions takes the slow one-query-at-a-time path and is as slow
# as at 384 dimensions. From 20 queries on, BLAS wins at every dimension. So: BLAS whenever
# n_queries * d >= 20. (For a single query over 1 M vectors notebook 08 measured the BLAS path
# slower than faiss's own loop: `bench` measures both.)
BLAS_THRESHOLD = 20


def float_index(emb: np.ndarray) -> faiss.IndexFlatIP:
    """An exact inner-product index; with unit-length rows, inner product = cosine (notebook 04)."""
    emb = check_embeddings(emb)
    index = faiss.IndexFlatIP(emb.shape[1])
    index.add(emb)
    return index


def binary_index(codes: np.ndarray) -> faiss.IndexBinaryFlat:
    """An exact Hamming-distance index over packed bits from `binarize` (notebook 05)."""
    codes = np.asarray(codes)
    if codes.dtype != np.uint8 or codes.ndim != 2:
        raise TypeError(f"codes must be a 2-D uint8 array from binarize(), got {codes.dtype} with shape {codes.shape}")
    if codes.shape[0] == 0:
        raise ValueError("codes is empty (0 vectors): an index needs at least one vector")
    index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
    index.add(np.ascontiguousarray(codes))
    return index


def search(index: Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best documents for each query: (scores, ids), each of shape (n_queries, k) (notebook 04).

    Scores are inner products (higher is better) for a float index and Hamming distances
    (lower is better) for a binary one. When `k` exceeds the number of documents, every
    document is returned (k is lowered to the corpus size), never FAISS's -1 padding.
    """
    k = min(check_k(k), index.ntotal)
    if isinstance(index, faiss.IndexBinary):
        queries = np.asarray(queries)
        if queries.dtype != np.uint8 or queries.ndim != 2 or queries.shape[1] * 8 != index.d:
            raise ValueError(
                f"queries must be binarize()d codes of {index.d} bits (shape (n, {index.d // 8}) uint8) "
                f"to match the index, got {queries.dtype} with shape {queries.shape}"
            )
        return index.search(np.ascontiguousarray(queries), k)
    queries = check_embeddings(queries, "queries")
    if queries.shape[1] != index.d:
        raise ValueError(f"queries have dim={queries.shape[1]} but the index has dim={index.d}: truncate both alike")
    faiss.cvar.distance_compute_blas_threshold = BLAS_THRESHOLD
    return index.search(queries, k)


def rescore(queries: np.ndarray, docs: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-rank each query's candidate ids by inner product with `docs`; keep the best k (notebook 05).

    `docs` are full float vectors for the classic funnel, or `unpack_signs(codes)` for asymmetric
    scoring (float query against binary documents).
    """
    queries = check_embeddings(queries, "queries")
    if queries.shape[1] != docs.shape[1]:
        raise ValueError(f"queries have dim={queries.shape[1]} but docs have dim={docs.shape[1]}")
    k = min(check_k(k), candidates.shape[1])
    scores = np.stack([docs[ids] @ query for query, ids in zip(queries, candidates)])  # one query at a time: small copies
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, 1), np.take_along_axis(candidates, order, 1)


def funnel_search(
    shortlist_index: Index,
    shortlist_queries: np.ndarray,
    queries: np.ndarray,
    docs: np.ndarray,
    k: int,
    oversample: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Shortlist k × oversample with a cheap index (binary or low-dimension), then `rescore` (notebook 05)."""
    _, candidates = search(shortlist_index, shortlist_queries, check_k(k) * check_k(oversample, "oversample"))
    return rescore(queries, docs, candidates, k)
