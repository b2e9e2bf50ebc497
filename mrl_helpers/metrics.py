"""Retrieval metrics on runs and qrels in the dict-of-dicts form of pytrec_eval / ir-measures (notebook 03).

A run is {query_id: {doc_id: score}} (higher score = better); qrels are
{query_id: {doc_id: relevance}} (relevance > 0 = relevant). Each metric is the mean over the
queries in the qrels; a query missing from the run scores 0. Ties are broken as trec_eval
does (doc id, descending), so the numbers equal ir-measures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .checks import check_k

Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]


def to_run(scores: np.ndarray, ids: np.ndarray, query_ids: Sequence[str], doc_ids: Sequence[str]) -> Run:
    """Turn `search` output (row i = query i, ids are corpus positions) into a run."""
    return {
        qid: {doc_ids[j]: float(s) for s, j in zip(row_scores, row_ids) if j >= 0}
        for qid, row_scores, row_ids in zip(query_ids, scores, ids)
    }


def _ranking(docs: dict[str, float]) -> list[str]:
    return sorted(docs, key=lambda d: (docs[d], d), reverse=True)


def _mean(run: Run, qrels: Qrels, per_query) -> float:
    if not qrels:
        raise ValueError("qrels is empty: there is nothing to evaluate")
    return sum(per_query(_ranking(run.get(q, {})), rels) for q, rels in qrels.items()) / len(qrels)


def recall(run: Run, qrels: Qrels, k: int) -> float:
    """Share of the relevant documents found in the top k."""
    k = check_k(k)

    def per_query(ranked: list[str], rels: dict[str, int]) -> float:
        relevant = {d for d, r in rels.items() if r > 0}
        return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0

    return _mean(run, qrels, per_query)


def mrr(run: Run, qrels: Qrels, k: int) -> float:
    """1 / rank of the first relevant document in the top k (0 when there is none)."""
    k = check_k(k)

    def per_query(ranked: list[str], rels: dict[str, int]) -> float:
        return next((1 / (i + 1) for i, d in enumerate(ranked[:k]) if rels.get(d, 0) > 0), 0.0)

    return _mean(run, qrels, per_query)


def ndcg(run: Run, qrels: Qrels, k: int) -> float:
    """Discounted cumulative gain of the top k (gain = relevance, discount 1/log2(rank + 1)), over the ideal."""
    k = check_k(k)

    def per_query(ranked: list[str], rels: dict[str, int]) -> float:
        dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if rels.get(d, 0) > 0)
        ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
        idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
        return dcg / idcg if idcg else 0.0

    return _mean(run, qrels, per_query)


def overlap_at_k(ids: np.ndarray, reference_ids: np.ndarray, k: int) -> float:
    """Mean share of each query's reference top k that its row of `ids` also holds, in any order (notebook 05).

    With exact full-dimension float32 search as the reference and a top k as `ids`, this is what vector-search
    benchmarks call recall@k: how much of the exact answer a cheaper search keeps, whatever the relevance
    judgements say. A wider `ids` (a shortlist of k × oversample) tells how much of the answer the shortlist
    holds. Rows are queries (a single query may be 1-D); FAISS's -1 padding is never counted.

    >>> round(overlap_at_k([[1, 2, 3], [4, 5, 6]], [[3, 2, 9], [4, 5, 6]], k=3), 3)  # (2/3 + 3/3) / 2
    0.833
    """
    k = check_k(k)
    ids, reference_ids = np.atleast_2d(ids), np.atleast_2d(reference_ids)[:, :k]
    if len(ids) != len(reference_ids):
        raise ValueError(f"ids has {len(ids)} rows but reference_ids has {len(reference_ids)}: one row per query in each")
    if reference_ids.size == 0:
        raise ValueError("reference_ids is empty: overlap@k needs at least one reference result per query")
    return float(np.mean([len(set(a[a >= 0].tolist()) & set(b.tolist())) / len(b) for a, b in zip(ids, reference_ids)]))
