"""The explorer's prepared state: each corpus with its memoised pictures and scores (notebook 06).

Every slow piece is computed the first time it is asked for and kept: `prepare_explorer` asks for
them up front, so that a change of a control only looks them up. One helper, `memoised`, keeps them
all, in one dict per object. What takes a millisecond (a truncation, a search index) is made when
needed and not kept: kept at every slider dimension and precision, they took 440 MB with nomic on a CPU.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import numpy as np

from ..data import Dataset
from ..embedding import encode, truncate
from ..evaluation import Precision, Searcher, make_searcher, ndcg_of
from ..models import EmbeddingModel
from . import geometry

Projection = Literal["first two", "PCA", "UMAP"]
PROJECTIONS: tuple[str, ...] = ("first two", "PCA", "UMAP")
TRUST_NEIGHBOURS = 10  # neighbour preservation compares each document's 10 nearest neighbours
DEFAULT_OVERSAMPLE = 4  # binary+rescore shortlists k × 4 unless told otherwise
NDCG_QUERIES_K = 10  # nDCG@10 retrieves the top 10 per query (binary+rescore shortlists 10 × oversample)

F = TypeVar("F", bound=Callable)


def memoised(method: F) -> F:
    """Compute `method(self, *args)` once per object and arguments, kept in the object's `_memo` dict."""

    @functools.wraps(method)
    def once(self, *args):
        key = (method.__name__, *args)
        if key not in self._memo:
            self._memo[key] = method(self, *args)
        return self._memo[key]

    return once  # type: ignore[return-value]


def memoised_args(obj: object, method: str) -> list[tuple]:
    """The arguments `obj.method` has been computed for so far (what `prepare_explorer` did up front)."""
    return [key[1:] for key in obj._memo if key[0] == method]  # type: ignore[attr-defined]


@dataclass(frozen=True, eq=False)
class Picture:
    """The documents in 2-D for one projection at one dimension, and how far it can be trusted."""

    projection: str
    dim: int  # the dimension asked for
    shown_dim: int  # the dimension drawn: `dim`, or for UMAP the nearest precomputed one
    xy: np.ndarray  # (n_docs, 2)
    trust: float  # share of each document's nearest neighbours at `dim` that stay nearest in the picture
    trust_random: float  # what a random placement would keep
    pca: object | None  # the fitted PCA that places a query, for projection "PCA"


@dataclass(eq=False)
class Corpus:
    """One corpus ready to explore: full-dimension embeddings, plus memoised pictures and scores."""

    name: str  # "mini" or "scifact"
    label: str  # what the corpus control shows
    dataset: Dataset
    doc_emb: np.ndarray  # full dimension, unit rows
    query_emb: np.ndarray  # the dataset's queries, full dimension
    groups: list[str]  # the colour of each document: its topic, or a k-means cluster
    group_kind: str  # "topic" or "k-means cluster"
    examples: list[str]  # ready-made queries
    umap_dims: tuple[int, ...] = ()
    seed: int = 0
    _memo: dict = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"Corpus({self.label}: {len(self.dataset.docs)} documents, {len(self.dataset.queries)} queries)"

    @property
    def n_docs(self) -> int:
        return self.doc_emb.shape[0]

    @property
    def full_dim(self) -> int:
        return self.doc_emb.shape[1]

    def docs_at(self, dim: int) -> np.ndarray:
        """The documents truncated to `dim` and re-normalised (not kept: what is made from them is)."""
        return truncate(self.doc_emb, dim)

    def searcher(self, dim: int, precision: Precision) -> Searcher:
        """`make_searcher` for (dim, precision), built on each call: run(query_emb, k, oversample) -> (scores, ids)."""
        return make_searcher(self.doc_emb, dim, precision)

    @memoised
    def neighbours(self, dim: int) -> np.ndarray:
        """Each document's nearest neighbours at `dim` dimensions (cosine), for the trust score."""
        return geometry.nearest_neighbours(self.docs_at(dim), min(TRUST_NEIGHBOURS, self.n_docs - 1), "cosine")

    @memoised
    def pca(self, dim: int):
        """A 2-component PCA fitted on the documents at `dim`."""
        return geometry.fit_pca_2d(self.docs_at(dim), self.seed)

    def shown_dim(self, projection: Projection, dim: int) -> int:
        """The dimension whose picture is shown: `dim` itself, or for UMAP the nearest precomputed one."""
        if projection != "UMAP":
            return dim
        if not self.umap_dims:
            raise ValueError("projection='UMAP' was not prepared: call prepare_explorer with 'UMAP' in projections")
        return geometry.nearest(dim, self.umap_dims)

    @memoised
    def xy(self, projection: Projection, dim: int) -> np.ndarray:
        """2-D coordinates of the documents at `dim` (UMAP: slow, only at the dimensions `prepare_explorer` asks)."""
        if projection == "UMAP":
            return geometry.umap_2d(self.docs_at(dim), self.seed)
        if projection == "PCA":
            return self.pca(dim).transform(self.docs_at(dim)).astype(np.float32)
        return np.ascontiguousarray(self.docs_at(dim)[:, :2])

    @memoised
    def picture(self, projection: Projection, dim: int) -> Picture:
        """The picture shown at `dim`, scored against the neighbourhoods of the `dim`-dimensional space."""
        shown = self.shown_dim(projection, dim)
        xy, neighbours = self.xy(projection, shown), self.neighbours(dim)
        return Picture(projection=projection, dim=dim, shown_dim=shown, xy=xy,
                       trust=geometry.neighbour_preservation(neighbours, xy),
                       trust_random=neighbours.shape[1] / (self.n_docs - 1),
                       pca=self.pca(dim) if projection == "PCA" else None)

    def ndcg10(self, dim: int, precision: Precision, oversample: int) -> float:
        """nDCG@10 over the corpus's queries at one setting: its `searcher`, then `ndcg_of` (memoised)."""
        return self._ndcg10(dim, precision, oversample if precision == "binary+rescore" else None)

    @memoised
    def _ndcg10(self, dim: int, precision: Precision, oversample: int | None) -> float:
        scores, ids = self.searcher(dim, precision)(self.query_emb, NDCG_QUERIES_K, oversample or 1)
        return ndcg_of(self.dataset, scores, ids, k=10)

    @functools.cached_property
    def snippets(self) -> list[str]:
        """The start of each document's text (its title is shown apart)."""
        return [snippet(title, doc) for title, doc in zip(self.dataset.titles, self.dataset.docs)]


def snippet(title: str, doc: str, length: int = 110) -> str:
    """The start of a document's text without its title, cut at a word within `length` characters."""
    text = doc[len(title):].strip() if title and doc.startswith(title) else doc
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + " …"


@dataclass(eq=False)
class ExplorerState:
    """Everything `explore` needs, prepared once by `prepare_explorer` (notebook 06)."""

    model: EmbeddingModel
    corpora: dict[str, Corpus]
    dims: tuple[int, ...]  # what the dimension slider offers
    ladder: tuple[int, ...]  # the model's Matryoshka dimensions
    projections: tuple[str, ...]
    notes: list[str]  # what was left out, and why
    _memo: dict = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        corpora = ", ".join(map(repr, self.corpora.values()))
        return f"ExplorerState({self.model.name}; {corpora}; dims {self.dims[0]}..{self.dims[-1]})"

    def query_embedding(self, text: str) -> tuple[np.ndarray, float | None]:
        """The query's full-dimension embedding, memoised by text, and the seconds encoding took (None: memoised)."""
        fresh = ("_encode_query", text) not in self._memo
        emb, seconds = self._encode_query(text)
        return emb, seconds if fresh else None

    @memoised
    def _encode_query(self, text: str) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        emb = encode(self.model, [text], "query", cache=False, show_progress_bar=False)
        return emb, time.perf_counter() - start

    @memoised
    def reference_order(self, corpus: str, text: str) -> np.ndarray:
        """Every document of `corpus`, best first, for the query `text` at full dimension in float32: the reference."""
        c = self.corpora[corpus]
        return c.searcher(c.full_dim, "float32")(self.query_embedding(text)[0], c.n_docs, 1)[1][0]
