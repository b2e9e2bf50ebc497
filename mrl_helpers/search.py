"""Exact FAISS search over float and binary vectors, and the rescoring funnel (notebooks 04 and 05)."""

from __future__ import annotations

import math

import faiss
import numpy as np

from .checks import check_embeddings, check_k

Index = faiss.IndexFlatIP | faiss.IndexBinaryFlat

# faiss scores a float batch one query at a time, or with BLAS matrix products. Its own rule, set by
# faiss.cvar.distance_compute_blas_threshold (faiss >= 1.14, as pyproject.toml requires): BLAS when
# n_queries * d reaches 128,000, so truncated vectors miss it (1000 queries at 64 dimensions take the loop, as
# slow as at 384). `search` decides itself: BLAS from BLAS_MIN_QUERIES queries at any dimension. Measured here:
# from 20 queries BLAS wins at every dimension; for one query over 1 M vectors it is 2.6x slower (notebook 08).
FAISS_BLAS_THRESHOLD = 128_000  # faiss's default
BLAS_MIN_QUERIES = 20
# IndexBinaryFlat keeps the best k in a heap (faiss's default), or counts how many codes sit at each
# distance (use_heap=False), a pass whose cost does not grow with k: 4x faster at k = 4,000 here, faster
# from about k = 100. Only the order of codes at equal distance can differ.
COUNTING_FROM = 100


def faiss_rule_min_queries(dim: int) -> int:
    """The smallest batch that this faiss's own rule scores with BLAS at `dim` dimensions (notebook 08).

    >>> faiss_rule_min_queries(64)
    2000
    """
    return math.ceil(FAISS_BLAS_THRESHOLD / check_k(dim, "dim"))


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


def search(
    index: Index, queries: np.ndarray, k: int, *, blas_min_queries: int = BLAS_MIN_QUERIES
) -> tuple[np.ndarray, np.ndarray]:
    """The k best documents for each query: (scores, ids), each of shape (n_queries, k) (notebook 04).

    Scores are inner products (higher is better) for a float index and Hamming distances
    (lower is better) for a binary one. When `k` exceeds the number of documents, every
    document is returned (k is lowered to the corpus size), never FAISS's -1 padding. A float
    batch of at least `blas_min_queries` queries is scored with BLAS, at any dimension. FAISS's
    global BLAS threshold and the index's own settings are as they were when it returns.
    """
    k = min(check_k(k), index.ntotal)
    if isinstance(index, faiss.IndexBinary):
        queries = np.asarray(queries)
        if queries.dtype != np.uint8 or queries.ndim != 2 or queries.shape[1] * 8 != index.d:
            raise ValueError(
                f"queries must be binarize()d codes of {index.d} bits (shape (n, {index.d // 8}) uint8) "
                f"to match the index, got {queries.dtype} with shape {queries.shape}"
            )
        use_heap = index.use_heap
        index.use_heap = k < COUNTING_FROM
        try:
            return index.search(np.ascontiguousarray(queries), k)
        finally:
            index.use_heap = use_heap
    queries = check_embeddings(queries, "queries")
    if queries.shape[1] != index.d:
        raise ValueError(f"queries have dim={queries.shape[1]} but the index has dim={index.d}: truncate both alike")
    threshold = faiss.cvar.distance_compute_blas_threshold
    # 0: BLAS for any batch; 2**31 - 1: never
    faiss.cvar.distance_compute_blas_threshold = 0 if len(queries) >= check_k(blas_min_queries, "blas_min_queries") \
        else 2**31 - 1
    try:
        return index.search(queries, k)
    finally:
        faiss.cvar.distance_compute_blas_threshold = threshold


def rescore(queries: np.ndarray, docs: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-rank each query's candidate ids by inner product with `docs`; keep the best k (notebook 05).

    `docs` are full float vectors for the classic funnel, or `unpack_signs(codes)` for asymmetric
    scoring (float query against binary documents). For each query, this is `docs[ids] @ query`
    and a top k, computed by FAISS without copying the candidates' vectors.
    """
    queries = check_embeddings(queries, "queries")
    docs = np.ascontiguousarray(docs, dtype=np.float32)
    if docs.ndim != 2:
        raise ValueError(f"docs must be a 2-D array (n_docs, dim), got shape {docs.shape}")
    if queries.shape[1] != docs.shape[1]:
        raise ValueError(f"queries have dim={queries.shape[1]} but docs have dim={docs.shape[1]}")
    candidates = np.ascontiguousarray(candidates, dtype=np.int64)
    if candidates.ndim != 2 or len(candidates) != len(queries):
        raise ValueError(f"candidates must have one row per query ({len(queries)}), got shape {candidates.shape}")
    if candidates.size and (candidates.min() < 0 or candidates.max() >= len(docs)):
        raise ValueError(f"candidates must be ids in 0..{len(docs) - 1}, got {candidates.min()}..{candidates.max()}")
    k = min(check_k(k), candidates.shape[1])
    scores, ids = np.empty((len(queries), k), np.float32), np.empty((len(queries), k), np.int64)
    faiss.knn_inner_products_by_idx(  # ld_ids: the row stride of candidates (faiss 1.15's default -1 misreads it)
        faiss.swig_ptr(queries), faiss.swig_ptr(docs), faiss.swig_ptr(candidates), docs.shape[1], len(queries),
        len(docs), candidates.shape[1], k, faiss.swig_ptr(scores), faiss.swig_ptr(ids), candidates.shape[1])
    return scores, ids


def funnel_search(
    shortlist_index: Index,
    shortlist_queries: np.ndarray,
    queries: np.ndarray,
    docs: np.ndarray,
    k: int,
    *,
    oversample: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Shortlist k × oversample with a cheap index (binary or low-dimension), then `rescore` (notebook 05)."""
    _, candidates = search(shortlist_index, shortlist_queries, check_k(k) * check_k(oversample, "oversample"))
    return rescore(queries, docs, candidates, k)
