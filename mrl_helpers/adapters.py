"""Make any embedding model Matryoshka: a PCA rotation, a trained adapter, or a fine-tune (notebook 07).

A model that was not trained with Matryoshka loss spreads what it knows over all its
coordinates, so cutting the vector short loses a lot. Three fixes, from cheapest to dearest:

- `fit_pca_rotation`: rotate the embeddings so that the first coordinates carry the most
  variance of the corpus. Closed form, seconds, and no change at full dimension.
- `train_matryoshka_adapter`: a small map (linear, or linear plus a residual MLP) trained on
  frozen embeddings with a contrastive loss summed over nested dimensions (the Matryoshka loss).
- `finetune_matryoshka`: train the model itself with sentence-transformers' `MatryoshkaLoss`
  around `MultipleNegativesRankingLoss`.

Each returns something that plugs into the usual path: `rotate` / an adapter map full-dimension
embeddings to full-dimension embeddings, which `truncate`, `retrieve` and `evaluate` then use
like any model's; the fine-tune returns an `EmbeddingModel`. Trained adapters and fine-tuned
weights are cached under `cache_dir()` keyed by their settings and training data, and rebuilt
when missing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal

import numpy as np

from .checks import check_choice, check_dim, check_embeddings, check_k
from .data import Dataset
from .embedding import cache_dir, library_versions, normalize
from .models import EmbeddingModel, dimension_ladder

AdapterKind = Literal["linear", "residual"]
ADAPTER_KINDS: tuple[str, ...] = ("linear", "residual")
TRAINING_VERSION = 1  # part of every cache key: raise it when a change to the training code changes its results


# ---------------------------------------------------------------------------------------------
# Data: (query, relevant document) pairs from a split's judgements
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# 1. PCA rotation
# ---------------------------------------------------------------------------------------------

def fit_pca_rotation(doc_emb: np.ndarray, centre: bool = True) -> np.ndarray:
    """Orthonormal (d, d): the corpus's principal directions as columns, most variance first (notebook 07).

    Apply it with `rotate` to documents and queries alike. Because it is orthonormal it keeps
    every inner product at full dimension; it only reorders where the variance sits, so that
    `truncate` keeps the directions along which the documents differ most.

    With `centre=True` the directions are those of the covariance (variance around the mean
    document); with `centre=False` those of the raw second moment, whose first direction is
    roughly the mean itself, a direction every document shares. Either way the mean is *not*
    subtracted from the embeddings: subtracting it would change full-dimension scores.
    Each column's sign is fixed (its largest entry positive), so the result is reproducible.
    """
    x = check_embeddings(doc_emb, "doc_emb").astype(np.float64)
    if centre:
        x = x - x.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(x.T @ x / len(x))
    rotation = eigenvectors[:, np.argsort(eigenvalues)[::-1]]
    signs = np.sign(rotation[np.abs(rotation).argmax(axis=0), np.arange(rotation.shape[1])])
    return (rotation * signs).astype(np.float32)


def rotate(emb: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """`emb @ rotation`: coordinates in the rotated basis; unit rows stay unit for an orthonormal one (notebook 07)."""
    emb = check_embeddings(emb)
    rotation = np.asarray(rotation, dtype=np.float32)
    if rotation.ndim != 2 or rotation.shape[0] != emb.shape[1]:
        raise ValueError(f"rotation has shape {rotation.shape}; expected ({emb.shape[1]}, k) for dim={emb.shape[1]}")
    return np.ascontiguousarray(emb @ rotation, dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# 2. Matryoshka adapter on frozen embeddings
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AdapterSettings:
    """How an adapter is trained; together with the training data, the key of its cache entry."""

    dims: tuple[int, ...]  # nested dimensions the loss is summed over
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


@dataclass
class MatryoshkaAdapter:
    """A trained map from a model's embeddings to Matryoshka-ordered ones (notebook 07).

    Call it on full-dimension embeddings (documents and queries alike); it returns unit-length
    full-dimension rows, ready for `truncate`, `retrieve` or `evaluate(..., transform=adapter)`.
    The map is y = x W, plus a small MLP of x for kind="residual".
    """

    settings: AdapterSettings
    params: dict = field(repr=False)  # name -> torch tensor, see `_adapter_forward`
    train_seconds: float  # measured when it was trained
    from_cache: bool = False
    losses: list[float] = field(default_factory=list, repr=False)  # training loss every 10 steps

    @property
    def weight(self) -> np.ndarray:
        """The linear part W, shape (d, d): y = x @ W (+ the residual MLP)."""
        return self.params["weight"].numpy()

    def __call__(self, emb: np.ndarray) -> np.ndarray:
        import torch

        emb = check_embeddings(emb)
        with torch.no_grad():
            out = _adapter_forward(self.params, torch.from_numpy(emb))
        return normalize(out.numpy())


def _adapter_params(rotation: np.ndarray, kind: str, hidden: int) -> dict:
    """W starts as the PCA rotation; the residual MLP's output layer starts at zero, so step 0 is the rotation."""
    import torch

    dim = rotation.shape[0]
    params = {"weight": torch.from_numpy(rotation.copy())}
    if kind == "residual":
        bound = 1 / dim ** 0.5  # nn.Linear's default initialisation
        params["down"] = torch.empty(dim, hidden).uniform_(-bound, bound)
        params["down_bias"] = torch.empty(hidden).uniform_(-bound, bound)
        params["up"] = torch.zeros(hidden, dim)
        params["up_bias"] = torch.zeros(dim)
    return params


def _adapter_forward(params: dict, x):
    import torch.nn.functional as F

    y = x @ params["weight"]
    if "up" in params:
        y = y + F.gelu(x @ params["down"] + params["down_bias"]) @ params["up"] + params["up_bias"]
    return y


def _fingerprint(*arrays: np.ndarray | None) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none")
        else:
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype}{array.shape}".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


def _matryoshka_soft_ce(student_a, student_pool, target, dims, temperature, mask=None):
    """Σ over nested dims of the cross-entropy between `target` and the softmax of prefix cosine similarities."""
    import torch.nn.functional as F

    loss = 0.0
    for dim in dims:
        logits = F.normalize(student_a[:, :dim], dim=1) @ F.normalize(student_pool[:, :dim], dim=1).T / temperature
        if mask is not None:
            logits = logits.masked_fill(mask, -1e4)
        loss = loss + -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    return loss


def train_matryoshka_adapter(
    doc_emb: np.ndarray,
    query_emb: np.ndarray | None = None,
    pairs: np.ndarray | None = None,
    *,
    dims: Sequence[int] | None = None,
    kind: AdapterKind = "linear",
    steps: int = 600,
    batch_size: int = 64,
    pool_size: int = 512,
    learning_rate: float = 1e-3,
    temperature: float = 0.05,
    teacher_temperature: float = 0.05,
    corpus_weight: float = 1.0,
    pairs_weight: float = 1.0,
    hidden: int = 384,
    seed: int = 0,
    cache: bool = True,
) -> MatryoshkaAdapter:
    """Train a Matryoshka adapter on frozen, full-dimension, unit-length embeddings (notebook 07).

    The map starts as the PCA rotation of `doc_emb` (so step 0 already equals `fit_pca_rotation`)
    and is trained with the Matryoshka loss: the same contrastive loss at every nested dimension
    in `dims` (default: the ladder from full dimension down to 16), summed. Each step samples
    `pool_size` corpus documents as candidates and two kinds of anchors:

    - self-supervised (`corpus_weight`): `batch_size` corpus documents; their soft positives are
      their neighbours as the frozen model sees them at *full* dimension (softmax of cosine
      similarity / `teacher_temperature`, itself excluded). Needs no labels: the adapter learns to
      keep, in every prefix, the neighbourhoods the full vectors have.
    - supervised (`pairs_weight`, when `query_emb` and `pairs` are given): `batch_size` labelled
      (query, relevant document) pairs, rows (i, j) of `pairs` as from `relevant_pairs`; the
      relevant document is put in the pool and is the positive, the other candidates the negatives
      (except the query's other relevant documents, which are left out).

    Adam, a fixed seed; training is reproducible. With `cache=True` the trained weights are saved
    under `cache_dir()/adapters`, keyed by the settings and a hash of the training data, and
    loaded instead of retrained next time (`from_cache` then says so; `train_seconds` is the time
    measured when it was trained).
    """
    import torch

    docs = check_embeddings(doc_emb, "doc_emb")
    full_dim = docs.shape[1]
    dims = tuple(sorted({check_dim(d, full_dim, "dims") for d in (dims or dimension_ladder(full_dim))}, reverse=True))
    check_choice(kind, ADAPTER_KINDS, "kind")
    if (query_emb is None) != (pairs is None):
        raise ValueError("give query_emb and pairs together (labelled pairs), or neither (self-supervised only)")
    queries = None
    if query_emb is not None:
        queries = check_embeddings(query_emb, "query_emb")
        pairs = np.asarray(pairs, dtype=np.int64)
        if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0:
            raise ValueError(f"pairs must have shape (n_pairs, 2) with n_pairs >= 1, got {pairs.shape}")
        if queries.shape[1] != full_dim:
            raise ValueError(f"query_emb has dim={queries.shape[1]} but doc_emb has dim={full_dim}")
        if pairs.min() < 0 or pairs[:, 0].max() >= len(queries) or pairs[:, 1].max() >= len(docs):
            raise ValueError("pairs hold positions outside query_emb / doc_emb")
    settings = AdapterSettings(
        dims=dims, kind=kind, steps=check_k(steps, "steps"), batch_size=check_k(batch_size, "batch_size"),
        pool_size=check_k(pool_size, "pool_size"), learning_rate=float(learning_rate), temperature=float(temperature),
        teacher_temperature=float(teacher_temperature), corpus_weight=float(corpus_weight),
        pairs_weight=float(pairs_weight) if queries is not None else 0.0, hidden=check_k(hidden, "hidden"),
        seed=int(seed),
    )
    if settings.corpus_weight <= 0 and settings.pairs_weight <= 0:
        raise ValueError("nothing to train on: corpus_weight is 0 and no labelled pairs (query_emb, pairs) were given")
    key = hashlib.sha256(json.dumps({"version": TRAINING_VERSION, "libraries": library_versions(), **settings.__dict__},
                                    sort_keys=True).encode()
                         + _fingerprint(docs, queries, pairs).encode()).hexdigest()[:24]
    path = cache_dir() / "adapters" / f"adapter-{key}.pt"
    if cache and path.exists():
        saved = torch.load(path, weights_only=True)
        return MatryoshkaAdapter(settings, saved["params"], saved["train_seconds"], True, saved["losses"])

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 384-wide matrices: one thread beats several, and is steadier on a shared machine
    try:
        params, seconds, losses = _train_adapter(docs, queries, pairs, settings)
    finally:
        torch.set_num_threads(threads)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"params": params, "train_seconds": seconds, "losses": losses, "settings": settings.__dict__}, tmp)
        tmp.replace(path)
    return MatryoshkaAdapter(settings, params, seconds, False, losses)


def _train_adapter(docs: np.ndarray, queries: np.ndarray | None, pairs: np.ndarray | None, settings: AdapterSettings):
    import torch
    import torch.nn.functional as F

    dims = settings.dims
    start = time.perf_counter()
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    params = _adapter_params(fit_pca_rotation(docs), settings.kind, settings.hidden)
    for tensor in params.values():
        tensor.requires_grad_(True)
    optimiser = torch.optim.Adam(list(params.values()), lr=settings.learning_rate)
    docs_t = torch.from_numpy(docs)
    queries_t = torch.from_numpy(queries) if queries is not None else None
    n_pool = min(settings.pool_size, len(docs))
    n_anchor = min(settings.batch_size, n_pool)
    relevant_to: dict[int, set[int]] = {}
    for i, j in (pairs if pairs is not None else []):
        relevant_to.setdefault(int(i), set()).add(int(j))
    losses = []
    for step in range(settings.steps):
        pool = rng.choice(len(docs), n_pool, replace=False)  # the first n_anchor also serve as anchors
        loss = 0.0
        if settings.pairs_weight > 0:
            batch = pairs[rng.choice(len(pairs), min(settings.batch_size, len(pairs)), replace=False)]
            extra = np.setdiff1d(batch[:, 1], pool)
            pool = np.concatenate([pool, extra])
        pool_t = torch.from_numpy(pool)
        student_pool = _adapter_forward(params, docs_t[pool_t])
        if settings.corpus_weight > 0:
            anchors = pool_t[:n_anchor]
            self_mask = torch.zeros(n_anchor, len(pool), dtype=torch.bool)
            self_mask[torch.arange(n_anchor), torch.arange(n_anchor)] = True
            with torch.no_grad():
                teacher = docs_t[anchors] @ docs_t[pool_t].T / settings.teacher_temperature
                target = F.softmax(teacher.masked_fill(self_mask, -1e4), dim=1)
            loss = loss + settings.corpus_weight * _matryoshka_soft_ce(
                student_pool[:n_anchor], student_pool, target, dims, settings.temperature, self_mask)
        if settings.pairs_weight > 0:
            column = {int(j): c for c, j in enumerate(pool)}
            positives = torch.tensor([column[int(j)] for j in batch[:, 1]])
            target = F.one_hot(positives, len(pool)).float()
            other_relevant = torch.zeros(len(batch), len(pool), dtype=torch.bool)  # not negatives: mask them out
            for row, (i, j) in enumerate(batch):
                for other in relevant_to[int(i)] - {int(j)}:
                    if other in column:
                        other_relevant[row, column[other]] = True
            loss = loss + settings.pairs_weight * _matryoshka_soft_ce(
                _adapter_forward(params, queries_t[torch.from_numpy(batch[:, 0])]), student_pool, target, dims,
                settings.temperature, other_relevant)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 10 == 0 or step == settings.steps - 1:
            losses.append(float(loss.detach()))
    seconds = time.perf_counter() - start
    return {name: tensor.detach().clone() for name, tensor in params.items()}, seconds, losses


# ---------------------------------------------------------------------------------------------
# 3. Matryoshka fine-tune of the model itself
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FinetuneSettings:
    """How a model is fine-tuned with MatryoshkaLoss(MultipleNegativesRankingLoss); the key of its cache entry."""

    dims: tuple[int, ...]
    steps: int = 30
    batch_size: int = 16
    max_seq_length: int = 128  # while training; encoding afterwards uses the base model's length
    learning_rate: float = 2e-5
    warmup_steps: int = 3
    seed: int = 0


def _features(st, texts: list[str], prompt: str) -> dict:
    """Tokenise texts with a prompt in front: `preprocess` in sentence-transformers >= 6, `tokenize` before."""
    if hasattr(st, "preprocess"):
        return st.preprocess(texts, prompt=prompt)
    return st.tokenize([prompt + text for text in texts])


def finetune_matryoshka(
    model: EmbeddingModel,
    train: Dataset,
    *,
    dims: Sequence[int] | None = None,
    steps: int = 30,
    batch_size: int = 16,
    max_seq_length: int = 128,
    learning_rate: float = 2e-5,
    warmup_steps: int = 3,
    seed: int = 0,
    cache: bool = True,
) -> tuple[EmbeddingModel, float, bool]:
    """Fine-tune a copy of `model` with MatryoshkaLoss(MultipleNegativesRankingLoss) on `train`'s pairs (notebook 07).

    The pairs are (query, relevant document) texts from `train`'s judgements, each text with the
    model's task prompt; in a batch, the other documents are the negatives
    (MultipleNegativesRankingLoss), and the loss is summed over the nested `dims` (default: the
    model's ladder down to 16). A batch never holds the same document or query twice. The model
    loaded by `load_model` is copied first and never changed.

    Returns (fine-tuned model, training seconds, from_cache). The fine-tuned model is an
    `EmbeddingModel` named after the base model and the settings, so `encode` caches its
    embeddings separately. Its weights are cached under `cache_dir()/finetuned` (keyed by the
    settings and the training pairs); the seconds are those measured when it was trained.
    """
    import torch

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss
    except ImportError:  # 3.x to 5.x, e.g. on Colab
        from sentence_transformers.losses import MatryoshkaLoss, MultipleNegativesRankingLoss

    dims = tuple(sorted({check_dim(d, model.full_dim, "dims") for d in (dims or dimension_ladder(model.full_dim))},
                        reverse=True))
    settings = FinetuneSettings(
        dims=dims, steps=check_k(steps, "steps"), batch_size=check_k(batch_size, "batch_size"),
        max_seq_length=check_k(max_seq_length, "max_seq_length"), learning_rate=float(learning_rate),
        warmup_steps=int(warmup_steps), seed=int(seed),
    )
    pairs = relevant_pairs(train)
    texts = [(train.queries[i], train.docs[j]) for i, j in pairs]
    described = {"version": TRAINING_VERSION, "libraries": library_versions(), "model": model.name, **settings.__dict__}
    key = hashlib.sha256(json.dumps(described, sort_keys=True).encode()
                         + "\x1f".join(q + "\x1e" + d for q, d in texts).encode()).hexdigest()[:24]
    folder = cache_dir() / "finetuned"
    weights, meta = folder / f"{key}.pt", folder / f"{key}.json"
    st = copy.deepcopy(model.st)  # never train the loaded (or installed) model itself
    name = f"{model.name}+matryoshka-finetune-{key[:12]}"
    tuned = replace(model, name=name, st=st, trained_with_mrl=True,
                    reason=f"{model.name} fine-tuned with MatryoshkaLoss for {settings.steps} steps")
    if cache and weights.exists() and meta.exists():
        st.load_state_dict(torch.load(weights, weights_only=True))
        st.eval()
        return tuned, float(json.loads(meta.read_text())["train_seconds"]), True

    start = time.perf_counter()
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    base_length = st.max_seq_length
    st.max_seq_length = settings.max_seq_length
    st.train()
    loss_fn = MatryoshkaLoss(st, MultipleNegativesRankingLoss(st), matryoshka_dims=list(dims))
    st[0].auto_model.get_input_embeddings().weight.requires_grad_(False)  # the vocabulary table stays: less memory
    trained = [p for p in st.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=settings.learning_rate, foreach=False)  # foreach: faster, more memory
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / max(1, settings.warmup_steps)))
    query_prompt, doc_prompt = model.prompt("query"), model.prompt("document")
    order = rng.permutation(len(texts))
    cursor = 0
    for _ in range(settings.steps):
        batch, seen_q, seen_d = [], set(), set()
        for _ in range(len(texts)):  # at most one pass over the pairs per batch
            if len(batch) == settings.batch_size:
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
        features = [_features(st, [q for q, _ in batch], query_prompt),
                    _features(st, [d for _, d in batch], doc_prompt)]
        loss = loss_fn(features, None)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    st.eval()
    st.max_seq_length = base_length
    seconds = time.perf_counter() - start
    if cache:
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(st.state_dict(), weights.with_suffix(".tmp"))
        weights.with_suffix(".tmp").replace(weights)
        meta.write_text(json.dumps({"train_seconds": seconds, "model": model.name, **settings.__dict__}))
    return tuned, seconds, False


# ---------------------------------------------------------------------------------------------
# One name per method, for `evaluate` and `python -m mrl_helpers eval --method`
# ---------------------------------------------------------------------------------------------

Method = Literal["truncate", "pca", "adapter", "adapter+train", "finetune"]
METHODS: tuple[str, ...] = ("truncate", "pca", "adapter", "adapter+train", "finetune")


def prepare_method(
    method: Method, model: EmbeddingModel, dataset: Dataset, train: Dataset | None = None, finetune_steps: int = 30,
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
    from .embedding import encode

    check_choice(method, METHODS, "method")
    if method == "truncate":
        return model, None
    if method in ("adapter+train", "finetune"):
        if train is None:
            raise ValueError(f"method={method!r} needs a train split with judgements (e.g. SciFact's 'train')")
        if set(train.query_ids) & set(dataset.query_ids):
            raise ValueError(f"method={method!r}: the train split shares queries with the evaluated one "
                             f"({dataset.name} has no separate train split?); train on other questions than you score")
        if method == "finetune":
            return finetune_matryoshka(model, train, steps=finetune_steps)[0], None
        if train.doc_ids != dataset.doc_ids:
            raise ValueError("the train split must share the dataset's corpus (same documents in the same order)")
    docs = encode(model, dataset.docs, "document")
    if method == "pca":
        return model, partial(rotate, rotation=fit_pca_rotation(docs))
    if method == "adapter":
        return model, train_matryoshka_adapter(docs)
    return model, train_matryoshka_adapter(docs, encode(model, train.queries, "query"), relevant_pairs(train))
