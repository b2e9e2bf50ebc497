"""A Matryoshka adapter: a small map on frozen embeddings, trained with the Matryoshka loss (notebook 07).

`train_matryoshka_adapter` checks its inputs, loads the trained map from the cache or trains it
(`adapter_training` holds the arithmetic), and returns a `MatryoshkaAdapter`, which maps full-dimension
embeddings to Matryoshka-ordered ones that `truncate`, `retrieve` and `evaluate` use like any model's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np

from ..cache import atomic_file, cache_dir, cache_key
from ..checks import check_embeddings
from ..embedding import normalize
from ..threads import limited_threads
from .adapter_training import forward, train_adapter
from .rotation import fit_pca_rotation
from .settings import TRAINING_VERSION, AdapterSettings, with_overrides


@dataclass
class MatryoshkaAdapter:
    """A trained map from a model's embeddings to Matryoshka-ordered ones (notebook 07).

    Call it on full-dimension embeddings (documents and queries alike); it returns unit-length
    full-dimension rows, ready for `truncate`, `retrieve` or `evaluate(..., transform=adapter)`.
    The map is y = x W, plus a small MLP of x for kind="residual".
    """

    settings: AdapterSettings
    params: dict = field(repr=False)  # name -> torch tensor, see `adapter_training.forward`
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
            out = forward(self.params, torch.from_numpy(emb))
        return normalize(out.numpy())


def train_matryoshka_adapter(
    doc_emb: np.ndarray,
    query_emb: np.ndarray | None = None,
    pairs: np.ndarray | None = None,
    *,
    settings: AdapterSettings = AdapterSettings(),
    cache: bool = True,
    **overrides: object,
) -> MatryoshkaAdapter:
    """Train a Matryoshka adapter on frozen, full-dimension, unit-length embeddings (notebook 07).

    How: `settings`, with any field of `AdapterSettings` overridden by keyword (`steps=300`, `kind="residual"`).
    The map starts as the PCA rotation of `doc_emb` (so step 0 already equals `fit_pca_rotation`)
    and is trained with the Matryoshka loss: the same contrastive loss at every nested dimension
    in `dims` (default: the ladder from full dimension down to 16), summed. Each step samples
    `pool_size` corpus documents as candidates and two kinds of anchors:

    - self-supervised (`corpus_weight`): `batch_size` corpus documents; their soft positives are
      their neighbours as the frozen model sees them at *full* dimension (softmax of cosine
      similarity / `teacher_temperature`, itself excluded). Needs no labels.
    - supervised (`pairs_weight`, when `query_emb` and `pairs` are given): `batch_size` labelled
      (query, relevant document) pairs, rows (i, j) of `pairs` as from `relevant_pairs`; the
      relevant document is the positive, the other candidates the negatives (except the query's
      other relevant documents, which are left out).

    Adam, a fixed seed, one thread; training is reproducible. With `cache=True` the trained weights are
    saved under `cache_dir()/adapters`, keyed by the settings and a hash of the training data, and loaded
    instead of retrained next time (`from_cache` then says so; `train_seconds` is the time measured when
    it was trained).
    """
    import torch

    docs, queries, pairs = _training_data(doc_emb, query_emb, pairs)
    settings = with_overrides(settings, AdapterSettings, overrides).checked(docs.shape[1], queries is not None)
    key = cache_key(json.dumps({"version": TRAINING_VERSION, **asdict(settings)}, sort_keys=True),
                    _fingerprint(docs, queries, pairs))
    path = cache_dir() / "adapters" / f"adapter-{key}.pt"
    if cache and path.exists():
        saved = torch.load(path, weights_only=True)
        return MatryoshkaAdapter(settings, saved["params"], saved["train_seconds"], True, saved["losses"])

    rotation = fit_pca_rotation(docs)  # with NumPy's usual threads, as a caller's own fit_pca_rotation(docs) runs
    with limited_threads(1):  # 384-wide matrices: one thread beats several, and is steadier on a shared machine
        params, seconds, losses = train_adapter(docs, queries, pairs, settings, rotation)
    if cache:
        with atomic_file(path) as file:
            torch.save({"params": params, "train_seconds": seconds, "losses": losses, "settings": asdict(settings)},
                       file)
    return MatryoshkaAdapter(settings, params, seconds, False, losses)


def _training_data(doc_emb, query_emb, pairs) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The documents, and the labelled queries and (query, document) positions if given, checked."""
    docs = check_embeddings(doc_emb, "doc_emb")
    if (query_emb is None) != (pairs is None):
        raise ValueError("give query_emb and pairs together (labelled pairs), or neither (self-supervised only)")
    if query_emb is None:
        return docs, None, None
    queries = check_embeddings(query_emb, "query_emb")
    pairs = np.asarray(pairs, dtype=np.int64)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0:
        raise ValueError(f"pairs must have shape (n_pairs, 2) with n_pairs >= 1, got {pairs.shape}")
    if queries.shape[1] != docs.shape[1]:
        raise ValueError(f"query_emb has dim={queries.shape[1]} but doc_emb has dim={docs.shape[1]}")
    if pairs.min() < 0 or pairs[:, 0].max() >= len(queries) or pairs[:, 1].max() >= len(docs):
        raise ValueError(f"pairs hold positions outside query_emb ({len(queries)} rows) / doc_emb ({len(docs)} rows)")
    return docs, queries, pairs


def _fingerprint(*arrays: np.ndarray | None) -> str:
    """A hash of the training data: its arrays' dtypes, shapes and bytes."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none")
        else:
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype}{array.shape}".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()
