"""The dearest fix: fine-tune the model itself with sentence-transformers' `MatryoshkaLoss` (notebook 07).

`finetune_matryoshka` trains a copy of a model on a split's (query, relevant document) texts with
MatryoshkaLoss(MultipleNegativesRankingLoss), caches its weights, and returns a `Finetuned`: the new
`EmbeddingModel`, the settings, and the training time.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from ..cache import atomic_file, cache_dir, cache_key
from ..data import Dataset
from ..models import EmbeddingModel
from .pairs import relevant_pairs
from .settings import TRAINING_VERSION, FinetuneSettings, with_overrides


@dataclass
class Finetuned:
    """What `finetune_matryoshka` returns (notebook 07): the fine-tuned model and how it was made."""

    model: EmbeddingModel  # a copy of the base model, named after it and the settings
    settings: FinetuneSettings
    train_seconds: float  # measured when it was trained
    from_cache: bool = False


def finetune_matryoshka(
    model: EmbeddingModel,
    train: Dataset,
    *,
    settings: FinetuneSettings = FinetuneSettings(),
    cache: bool = True,
    **overrides: object,
) -> Finetuned:
    """Fine-tune a copy of `model` with MatryoshkaLoss(MultipleNegativesRankingLoss) on `train`'s pairs (notebook 07).

    How: `settings`, with any field of `FinetuneSettings` overridden by keyword (`steps=12`, `batch_size=8`).
    The pairs are (query, relevant document) texts from `train`'s judgements, each text with the
    model's task prompt; in a batch, the other documents are the negatives
    (MultipleNegativesRankingLoss), and the loss is summed over the nested `dims` (default: the
    model's ladder down to 16). A batch never holds the same document or query twice. The model
    loaded by `load_model` is copied first and never changed.

    The fine-tuned model is an `EmbeddingModel` named after the base model and the settings, so `encode`
    caches its embeddings separately. Its weights are cached under `cache_dir()/finetuned` (keyed by the
    settings and the training pairs); `train_seconds` is the time measured when it was trained.
    """
    import torch

    settings = with_overrides(settings, FinetuneSettings, overrides).checked(model.full_dim)
    texts = [(train.queries[i], train.docs[j]) for i, j in relevant_pairs(train)]
    described = {"version": TRAINING_VERSION, "model": model.name, **asdict(settings)}
    key = cache_key(json.dumps(described, sort_keys=True), *(q + "\x1e" + d for q, d in texts))
    folder = cache_dir() / "finetuned"
    weights, meta = folder / f"{key}.pt", folder / f"{key}.json"
    st = copy.deepcopy(model.st)  # never train the loaded (or installed) model itself
    tuned = replace(model, name=f"{model.name}+matryoshka-finetune-{key[:12]}", st=st, trained_with_mrl=True,
                    reason=f"{model.name} fine-tuned with MatryoshkaLoss for {settings.steps} steps")
    if cache and weights.exists() and meta.exists():
        st.load_state_dict(torch.load(weights, weights_only=True))
        st.eval()
        return Finetuned(tuned, settings, float(json.loads(meta.read_text())["train_seconds"]), from_cache=True)

    seconds = _train(st, texts, settings, model.prompt("query"), model.prompt("document"))
    if cache:
        with atomic_file(weights) as file:
            torch.save(st.state_dict(), file)
        with atomic_file(meta) as file:
            file.write(json.dumps({"train_seconds": seconds, "model": model.name, **asdict(settings)}).encode())
    return Finetuned(tuned, settings, seconds)


def _train(st, texts: list[tuple[str, str]], settings: FinetuneSettings, query_prompt: str, doc_prompt: str) -> float:
    """Train the SentenceTransformer `st` in place on the (query, document) `texts`; returns the seconds it took."""
    import torch

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss
    except ImportError:  # 3.x to 5.x, e.g. on Colab
        from sentence_transformers.losses import MatryoshkaLoss, MultipleNegativesRankingLoss

    start = time.perf_counter()
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    base_length = st.max_seq_length
    st.max_seq_length = settings.max_seq_length
    st.train()
    loss_fn = MatryoshkaLoss(st, MultipleNegativesRankingLoss(st), matryoshka_dims=list(settings.dims))
    st[0].auto_model.get_input_embeddings().weight.requires_grad_(False)  # the vocabulary table stays: less memory
    trained = [p for p in st.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=settings.learning_rate, foreach=False)  # foreach: faster, more memory
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / max(1, settings.warmup_steps)))
    for batch in _batches(texts, settings.batch_size, settings.steps, rng):
        features = [_features(st, [q for q, _ in batch], query_prompt),
                    _features(st, [d for _, d in batch], doc_prompt)]
        loss = loss_fn(features, None)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    st.eval()
    st.max_seq_length = base_length
    return time.perf_counter() - start


def _batches(texts: list[tuple[str, str]], batch_size: int, steps: int, rng: np.random.Generator):
    """`steps` batches of up to `batch_size` pairs in shuffled order, reshuffled after each pass; no text twice in one."""
    order, cursor = rng.permutation(len(texts)), 0
    for _ in range(steps):
        batch, seen_q, seen_d = [], set(), set()
        for _ in range(len(texts)):  # at most one pass over the pairs per batch
            if len(batch) == batch_size:
                break
            if cursor == len(order):
                order, cursor = rng.permutation(len(texts)), 0
            query, doc = texts[order[cursor]]
            cursor += 1
            if query in seen_q or doc in seen_d:
                continue  # a duplicate would be its own in-batch negative
            batch.append((query, doc))
            seen_q.add(query)
            seen_d.add(doc)
        yield batch


def _features(st, texts: list[str], prompt: str) -> dict:
    """Tokenise texts with a prompt in front: `preprocess` in sentence-transformers >= 6, `tokenize` before."""
    if hasattr(st, "preprocess"):
        return st.preprocess(texts, prompt=prompt)
    return st.tokenize([prompt + text for text in texts])
