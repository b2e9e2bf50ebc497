"""faiss's BLAS threshold against the package's rule: batch throughput at every dimension (notebook 08)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..embedding import truncate
from ..search import BLAS_MIN_QUERIES, faiss_rule_min_queries, float_index, search
from ..speed import median_seconds
from ..threads import limited_threads

def blas_effect(docs: np.ndarray, queries: np.ndarray, dims: Sequence[int], batch: int, k: int = 10,
                n_threads: int = 1) -> list[dict[str, object]]:
    """Batch throughput at each dimension with faiss's own BLAS rule and with the package's (notebook 08).

    From faiss 1.14, faiss multiplies matrices (BLAS) only when n_queries × d ≥ 128,000, so a batch at a small
    dimension takes the one-query-at-a-time path (`faiss_rule_min_queries`); `search` uses BLAS from
    `BLAS_MIN_QUERIES` queries at any dimension.
    """
    out = []
    with limited_threads(n_threads):
        for dim in dims:
            index, small = float_index(truncate(docs, dim)), truncate(queries[:batch], dim)
            row = {"dim": dim, "batch": len(small)}
            for label, rule in (("faiss_default", faiss_rule_min_queries(dim)), ("package", BLAS_MIN_QUERIES)):
                row[f"qps_{label}"] = len(small) / median_seconds(lambda: search(index, small, k, blas_min_queries=rule),
                                                                  repeats=3, warmup=1)
            out.append(row)
    return out
