"""What the supervised fixes learn from: (query, relevant document) pairs from a split's judgements (notebook 07)."""

from __future__ import annotations

import numpy as np

from ..data import Dataset


def relevant_pairs(dataset: Dataset) -> np.ndarray:
    """Every judged-relevant (query, document) pair as positions: shape (n_pairs, 2), int64 (notebook 07).

    Row (i, j) means `dataset.queries[i]` is relevant to `dataset.docs[j]`; a query with several
    relevant documents gives several rows.
    """
    position = {doc_id: j for j, doc_id in enumerate(dataset.doc_ids)}
    pairs = [(i, position[doc_id]) for i, query_id in enumerate(dataset.query_ids)
             for doc_id, relevance in dataset.qrels[query_id].items() if relevance > 0 and doc_id in position]
    if not pairs:
        raise ValueError(f"{dataset!r} has no judged-relevant (query, document) pair to train on")
    return np.array(pairs, dtype=np.int64)
