"""Retrieve at any dimension and precision, and score a whole grid of settings (notebooks 03 and 05)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .checks import check_choice
from .data import Dataset
from .embedding import encode, truncate
from .metrics import ndcg, recall, to_run
from .models import EmbeddingModel
from .quantization import binarize, calibrate_int8, quantize_int8
from .search import binary_index, float_index, funnel_search, search

Precision = Literal["float32", "int8", "binary", "binary+rescore"]
PRECISIONS: tuple[str, ...] = ("float32", "int8", "binary", "binary+rescore")
Searcher = Callable[..., tuple[np.ndarray, np.ndarray]]  # (query_emb, k, oversample=4) -> (scores, ids)


def bytes_per_vector(dim: int, precision: Precision) -> int:
    """Bytes one document takes in the index: 4·d for float32, d for int8, d/8 for binary.

    For binary+rescore this is the index in RAM; the float vectors used to rescore can live on disk.
    """
    check_choice(precision, PRECISIONS, "precision")
    return {"float32": 4 * dim, "int8": dim}.get(precision, dim // 8)


def make_searcher(doc_emb: np.ndarray, dim: int, precision: Precision = "float32") -> Searcher:
    """Truncate the documents to `dim`, quantize them and build their index once (notebooks 05 and 06).

    Returns `run(query_emb, k, oversample=4)`, which takes full-dimension queries and gives
    (scores, ids), higher score = better. int8 calibrates its ranges on the documents and scores
    int8 queries against int8 documents; binary scores by minus the Hamming distance; binary+rescore
    shortlists k × oversample with bits and re-ranks them with the float vectors at the same dimension.
    """
    check_choice(precision, PRECISIONS, "precision")
    docs = truncate(doc_emb, dim)
    if precision == "float32":
        index = float_index(docs)
        return lambda queries, k, oversample=4: search(index, truncate(queries, dim), k)
    if precision == "int8":
        ranges = calibrate_int8(docs)
        index = float_index(quantize_int8(docs, ranges).astype(np.float32))
        return lambda queries, k, oversample=4: search(
            index, quantize_int8(truncate(queries, dim), ranges).astype(np.float32), k)
    index = binary_index(binarize(docs))
    if precision == "binary":
        def run_binary(queries: np.ndarray, k: int, oversample: int = 4) -> tuple[np.ndarray, np.ndarray]:
            distances, ids = search(index, binarize(truncate(queries, dim)), k)
            return -distances.astype(np.float32), ids
        return run_binary

    def run_funnel(queries: np.ndarray, k: int, oversample: int = 4) -> tuple[np.ndarray, np.ndarray]:
        small = truncate(queries, dim)
        return funnel_search(index, binarize(small), small, docs, k, oversample=oversample)
    return run_funnel


def retrieve(
    doc_emb: np.ndarray,
    query_emb: np.ndarray,
    dim: int,
    precision: Precision = "float32",
    *,
    k: int = 10,
    oversample: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Truncate full-dimension embeddings to `dim`, quantize, search: (scores, ids), higher score = better.

    One call of `make_searcher` (which says what each precision does) and its search function.
    """
    return make_searcher(doc_emb, dim, precision)(query_emb, k, oversample)


def ndcg_of(dataset: Dataset, scores: np.ndarray, ids: np.ndarray, *, k: int = 10) -> float:
    """nDCG@k of `search` / `retrieve` output whose rows are `dataset.queries` (notebook 02)."""
    return ndcg(to_run(scores, ids, dataset.query_ids, dataset.doc_ids), dataset.qrels, k)


def evaluate(
    model: EmbeddingModel,
    dataset: Dataset,
    dims: Sequence[int] | None = None,
    precisions: Sequence[Precision] = PRECISIONS,
    *,
    oversample: int = 4,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    baseline: EmbeddingModel | None = None,
) -> pd.DataFrame:
    """nDCG@10, recall@10, recall@100 and bytes per vector for every dimension × precision (notebook 03).

    `pct_of_full` is nDCG@10 as a % of float32 at the model's full dimension, measured in the same call.
    `transform` (notebook 07: a PCA rotation or a trained adapter) maps the full-dimension embeddings
    of documents and queries alike before they are truncated; `baseline` names another model (e.g. the
    one a fine-tune started from). `pct_of_full` is then a % of `baseline`'s (default: `model`'s) plain
    full-dimension float32 nDCG@10, without the transform, so that every method is on one scale.
    """
    dims = list(dims or model.matryoshka_dims)
    doc_emb = encode(model, dataset.docs, "document")
    query_emb = encode(model, dataset.queries, "query")
    reference = baseline or model
    plain = (doc_emb, query_emb) if reference is model else (
        encode(reference, dataset.docs, "document"), encode(reference, dataset.queries, "query"))
    if transform is not None:
        doc_emb, query_emb = transform(doc_emb), transform(query_emb)
    rows = []
    for precision in precisions:
        for dim in dims:
            scores, ids = retrieve(doc_emb, query_emb, dim, precision, k=100, oversample=oversample)
            run = to_run(scores, ids, dataset.query_ids, dataset.doc_ids)
            rows.append({
                "dim": dim, "precision": precision, "bytes_per_vector": bytes_per_vector(dim, precision),
                "ndcg@10": ndcg(run, dataset.qrels, 10), "recall@10": recall(run, dataset.qrels, 10),
                "recall@100": recall(run, dataset.qrels, 100),
            })
    table = pd.DataFrame(rows)
    full = ndcg_of(dataset, *retrieve(*plain, reference.full_dim, "float32", k=100))
    table["pct_of_full"] = 100 * table["ndcg@10"] / full
    return table
