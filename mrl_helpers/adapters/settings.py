"""How an adapter or a fine-tune is trained: the settings, each default written once, and their checks (notebook 07).

`train_matryoshka_adapter` and `finetune_matryoshka` take a settings object (these defaults unless one is
given) and keyword overrides of its fields, so `train_matryoshka_adapter(docs, steps=300)` trains with
`AdapterSettings(steps=300)`. The checked settings, with the nested dimensions filled in, are what a trained
adapter or fine-tune reports, and part of the key of its cache entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Literal, TypeVar, get_args

from ..checks import check_choice, check_dim, check_k
from ..models import dimension_ladder

AdapterKind = Literal["linear", "residual"]
ADAPTER_KINDS: tuple[str, ...] = get_args(AdapterKind)
TRAINING_VERSION = 1  # part of every cache key: raise it when a change to the training code changes its results

Settings = TypeVar("Settings", "AdapterSettings", "FinetuneSettings")


@dataclass(frozen=True)
class AdapterSettings:
    """How an adapter is trained (`train_matryoshka_adapter`); with the training data, the key of its cache entry."""

    dims: tuple[int, ...] | None = None  # nested dimensions the loss is summed over; None: full dimension down to 16
    kind: AdapterKind = "linear"
    steps: int = 600
    batch_size: int = 64  # anchors per step (corpus documents, and labelled queries if given)
    pool_size: int = 512  # candidate documents per step that the anchors are contrasted with
    learning_rate: float = 1e-3
    temperature: float = 0.05  # of the student's softmax over candidates
    teacher_temperature: float = 0.05  # of the full-dimension model's soft targets
    corpus_weight: float = 1.0  # self-supervised term: corpus documents as anchors
    pairs_weight: float = 1.0  # supervised term: labelled (query, document) pairs, when given
    hidden: int = 384  # width of the residual MLP (kind="residual")
    seed: int = 0

    def checked(self, full_dim: int, labelled: bool) -> AdapterSettings:
        """These settings with every value checked, `dims` filled in, and no pairs term without `labelled` pairs."""
        check_choice(self.kind, ADAPTER_KINDS, "kind")
        settings = replace(
            self, dims=nested_dims(self.dims, full_dim), steps=check_k(self.steps, "steps"),
            batch_size=check_k(self.batch_size, "batch_size"), pool_size=check_k(self.pool_size, "pool_size"),
            learning_rate=float(self.learning_rate), temperature=float(self.temperature),
            teacher_temperature=float(self.teacher_temperature), corpus_weight=float(self.corpus_weight),
            pairs_weight=float(self.pairs_weight) if labelled else 0.0, hidden=check_k(self.hidden, "hidden"),
            seed=int(self.seed),
        )
        if settings.corpus_weight <= 0 and settings.pairs_weight <= 0:
            raise ValueError(f"nothing to train on: corpus_weight={self.corpus_weight!r} and no labelled pairs "
                             "(query_emb, pairs) were given; give pairs, or a corpus_weight above 0")
        return settings


@dataclass(frozen=True)
class FinetuneSettings:
    """How a model is fine-tuned with MatryoshkaLoss(MultipleNegativesRankingLoss); the key of its cache entry."""

    dims: tuple[int, ...] | None = None  # None: the model's ladder, full dimension down to 16
    steps: int = 30
    batch_size: int = 16
    max_seq_length: int = 128  # while training; encoding afterwards uses the base model's length
    learning_rate: float = 2e-5
    warmup_steps: int = 3
    seed: int = 0

    def checked(self, full_dim: int) -> FinetuneSettings:
        """These settings with every value checked and `dims` filled in."""
        return replace(
            self, dims=nested_dims(self.dims, full_dim), steps=check_k(self.steps, "steps"),
            batch_size=check_k(self.batch_size, "batch_size"),
            max_seq_length=check_k(self.max_seq_length, "max_seq_length"), learning_rate=float(self.learning_rate),
            warmup_steps=int(self.warmup_steps), seed=int(self.seed),
        )


def nested_dims(dims: Sequence[int] | None, full_dim: int) -> tuple[int, ...]:
    """`dims` checked, each once, largest first; None: `dimension_ladder(full_dim)`, full dimension down to 16.

    >>> nested_dims([64, 384, 64], 384), nested_dims(None, 384)
    ((384, 64), (384, 256, 128, 64, 32, 16))
    """
    return tuple(sorted({check_dim(d, full_dim, "dims") for d in (dims or dimension_ladder(full_dim))}, reverse=True))


def with_overrides(settings: Settings, expected: type[Settings], overrides: Mapping[str, object]) -> Settings:
    """`settings` (an `expected`) with the fields named in `overrides` replaced; any other name is refused.

    >>> with_overrides(AdapterSettings(), AdapterSettings, {"steps": 300}).steps
    300
    """
    if not isinstance(settings, expected):
        raise TypeError(f"settings={settings!r} must be an instance of {expected.__name__}")
    names = [field.name for field in fields(expected)]
    for name, value in overrides.items():
        if name not in names:
            raise TypeError(f"{name}={value!r} is not a setting of {expected.__name__}; "
                            f"the settings are {', '.join(names)}")
    return replace(settings, **overrides)
