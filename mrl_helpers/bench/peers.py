"""The libraries the benchmark compares FAISS with: NumPy's matrix product and sentence-transformers (notebook 08)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def semantic_search_faiss() -> Callable | None:
    """sentence-transformers' `semantic_search_faiss` (binary search, then rescoring), or None where it is missing."""
    try:
        from sentence_transformers.util.quantization import semantic_search_faiss as found
    except ImportError:
        return None
    return found


def numpy_search(docs: np.ndarray, queries: np.ndarray, k: int, chunk: int = 16) -> np.ndarray:
    """The numpy peer: matmul, then argpartition for the top k, `chunk` queries at a time; ids (n_queries, k)."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        scores = queries[start:start + chunk] @ docs.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
        out[start:start + chunk] = np.take_along_axis(top, order, 1)
    return out
