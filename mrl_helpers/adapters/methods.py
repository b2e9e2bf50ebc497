"""One name per fix, for `evaluate` and `python -m mrl_helpers eval --method` (notebook 07)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal, get_args

import numpy as np

from ..checks import check_choice
from ..data import Dataset
from ..models import EmbeddingModel
from .adapter import train_matryoshka_adapter
from .finetune import finetune_matryoshka
from .pairs import relevant_pairs
from .rotation import fit_pca_rotation, rotate
from .settings import FinetuneSettings

Method = Literal["truncate", "pca", "adapter", "adapter+train", "finetune"]
METHODS: tuple[str, ...] = get_args(Method)


def prepare_method(
    method: Method, model: EmbeddingModel, dataset: Dataset, *, train: Dataset | None = None,
    finetune_steps: int = FinetuneSettings.steps,
) -> tuple[EmbeddingModel, Callable[[np.ndarray], np.ndarray] | None]:
    """(model, transform) that make `model` Matryoshka on `dataset` by `method`, for `evaluate` (notebook 07).

    - "truncate": the model as it is (plain truncation).
    - "pca": `fit_pca_rotation` on the dataset's corpus embeddings.
    - "adapter": `train_matryoshka_adapter` on the corpus alone (self-supervised, no judgements).
    - "adapter+train": the same plus the labelled (query, document) pairs of `train`, a split that
      shares the corpus (SciFact's "train").
    - "finetune": `finetune_matryoshka` on `train`'s pairs, `finetune_steps` steps; a new model.
    Trained adapters and fine-tuned weights come from the cache when they are there.
    """
    from ..embedding import encode

    check_choice(method, METHODS, "method")
    if method == "truncate":
        return model, None
    if method in ("adapter+train", "finetune"):
        _check_train_split(method, dataset, train)
        if method == "finetune":
            return finetune_matryoshka(model, train, steps=finetune_steps).model, None
    docs = encode(model, dataset.docs, "document")
    if method == "pca":
        return model, partial(rotate, rotation=fit_pca_rotation(docs))
    if method == "adapter":
        return model, train_matryoshka_adapter(docs)
    return model, train_matryoshka_adapter(docs, encode(model, train.queries, "query"), relevant_pairs(train))


def _check_train_split(method: str, dataset: Dataset, train: Dataset | None) -> None:
    """A train split is there, asks other questions than `dataset`, and (for an adapter) searches the same corpus."""
    if train is None:
        raise ValueError(f"method={method!r} needs a train split with judgements (e.g. SciFact's 'train')")
    if set(train.query_ids) & set(dataset.query_ids):
        raise ValueError(f"method={method!r}: the train split shares queries with the evaluated one "
                         f"({dataset.name} has no separate train split?); train on other questions than you score")
    if method != "finetune" and train.doc_ids != dataset.doc_ids:
        raise ValueError(f"method={method!r}: the train split must share the dataset's corpus "
                         "(same documents in the same order)")
