"""`explore`: one setting of the explorer (query, dimension, precision, k, ...) and all it shows (notebook 06)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..checks import check_choice, check_dim, check_k
from ..embedding import truncate
from ..evaluation import PRECISIONS, Precision, bytes_per_vector
from ..metrics import overlap_at_k
from ..speed import median_seconds
from ..threads import limited_threads
from .state import DEFAULT_OVERSAMPLE, Corpus, ExplorerState, Picture, Projection

LATENCY_REPEATS = 5  # the search latency shown is the median of 5 runs, after the one that gave the results
SCORE_LABELS = {"float32": "cosine", "int8": "int8 dot product", "binary": "−Hamming distance",
                "binary+rescore": "cosine (rescored)"}


@dataclass(frozen=True)
class Hit:
    """One ranked result."""

    rank: int  # 1 = best, at the explored setting
    doc: int  # position in the corpus
    doc_id: str
    title: str
    snippet: str
    score: float
    full_rank: int  # rank of the same document at full dimension in float32

    @property
    def moved(self) -> int:
        """Places gained against full dimension in float32: > 0 moved up, < 0 moved down."""
        return self.full_rank - self.rank


@dataclass(eq=False)
class Exploration:
    """What `explore` returns: the ranked results and every number the explorer shows for one setting."""

    corpus: str
    corpus_label: str
    query: str
    dim: int
    precision: str
    k: int
    oversample: int
    projection: str
    hits: list[Hit]
    overlap: float  # overlap@k with full-dimension float32
    ndcg10: float  # over the corpus's queries at this setting
    ndcg10_full: float  # the same at full dimension in float32
    n_queries: int
    bytes_per_vector: int
    index_bytes: int
    full_index_bytes: int
    latency_s: float  # one search at this setting, the query already encoded
    encode_s: float | None  # encoding the query, or None when it was memoised
    on_ladder: bool
    xy: np.ndarray  # (n_docs, 2) the documents in the picture
    titles: list[str]
    groups: list[str]
    group_kind: str
    query_xy: np.ndarray  # (2,)
    query_placement: str
    projected_dim: int  # the dimension the picture shows (UMAP: the nearest precomputed one)
    trust: float
    trust_random: float
    notes: list[str]

    @property
    def score_label(self) -> str:
        return SCORE_LABELS[self.precision]

    @property
    def ids(self) -> list[int]:
        return [h.doc for h in self.hits]

    def table(self) -> pd.DataFrame:
        """The ranked results as a table."""
        return pd.DataFrame([{"rank": h.rank, "title": h.title, self.score_label: h.score,
                              "rank at full float32": h.full_rank, "moved": h.moved} for h in self.hits])

    def __repr__(self) -> str:
        return (f"Exploration({self.query!r} on {self.corpus}, dim={self.dim}, {self.precision}, k={self.k}: "
                f"overlap@{self.k}={self.overlap:.2f}, nDCG@10={self.ndcg10:.3f})")


def explore(
    state: ExplorerState,
    query: str,
    dim: int,
    precision: Precision = "float32",
    *,
    k: int = 5,
    oversample: int = DEFAULT_OVERSAMPLE,
    projection: Projection = "PCA",
    corpus: str = "mini",
) -> Exploration:
    """Search one query at one setting and measure it against full dimension in float32 (notebook 06).

    Fast after `prepare_explorer`: the query's embedding, pictures and nDCG@10 are memoised (an
    index takes a millisecond to build), and UMAP is never run here (a dimension between UMAP's
    precomputed ones shows the nearest precomputed picture, and says so). Runs with one thread
    (`limited_threads`).
    """
    if not isinstance(query, str):
        raise TypeError(f"query={query!r} must be a string, got {type(query).__name__}")
    if not query.strip():
        raise ValueError(f"query={query!r} is empty: type a question or pick an example")
    corpus = check_choice(corpus, list(state.corpora), "corpus")
    c = state.corpora[corpus]
    dim = check_dim(dim, c.full_dim)
    precision = check_choice(precision, PRECISIONS, "precision")
    if precision.startswith("binary") and dim % 8:
        raise ValueError(f"dim={dim} must be a multiple of 8 for precision={precision!r} (8 bits pack into one byte); "
                         f"the slider offers {', '.join(map(str, state.dims))}")
    k, oversample = check_k(k), check_k(oversample, "oversample")
    projection = check_choice(projection, state.projections, "projection")
    with limited_threads(1):  # a search over a few thousand vectors is too small to share among threads
        return _explore(state, c, query, dim, precision, k, oversample, projection)


def _explore(state: ExplorerState, c: Corpus, query: str, dim: int, precision: str, k: int, oversample: int,
             projection: str) -> Exploration:
    # 1. Search at this setting, timed, and look up the reference ranking at full dimension in float32
    q, encode_s = state.query_embedding(query)
    scores, ids, latency = _timed_search(c, q, dim, precision, k, oversample)
    order = state.reference_order(c.name, query)
    full_rank = np.empty(c.n_docs, dtype=int)
    full_rank[order] = np.arange(1, c.n_docs + 1)
    hits = [Hit(rank=r + 1, doc=int(i), doc_id=c.dataset.doc_ids[i], title=c.dataset.titles[i],
                snippet=c.snippets[i], score=float(s), full_rank=int(full_rank[i]))
            for r, (s, i) in enumerate(zip(scores, ids))]

    # 2. The 2-D picture, and where the query goes in it
    picture = c.picture(projection, dim)
    query_xy, placement, notes = _place_query(picture, truncate(q, dim), ids, c.umap_dims)

    # 3. Quality, memory and speed
    bpv = bytes_per_vector(dim, precision)
    return Exploration(
        corpus=c.name, corpus_label=c.label, query=query, dim=dim, precision=precision, k=k, oversample=oversample,
        projection=projection, hits=hits, overlap=overlap_at_k(ids, order, len(hits)),
        ndcg10=c.ndcg10(dim, precision, oversample), ndcg10_full=c.ndcg10(c.full_dim, "float32", oversample),
        n_queries=len(c.dataset.queries), bytes_per_vector=bpv, index_bytes=bpv * c.n_docs,
        full_index_bytes=bytes_per_vector(c.full_dim, "float32") * c.n_docs, latency_s=latency, encode_s=encode_s,
        on_ladder=dim in state.ladder, xy=picture.xy, titles=c.dataset.titles, groups=c.groups,
        group_kind=c.group_kind, query_xy=query_xy, query_placement=placement, projected_dim=picture.shown_dim,
        trust=picture.trust, trust_random=picture.trust_random, notes=notes,
    )


def _timed_search(c: Corpus, q: np.ndarray, dim: int, precision: str, k: int,
                  oversample: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The top k of one query, and the median seconds of `LATENCY_REPEATS` more runs (the first one warmed up)."""
    run = c.searcher(dim, precision)
    scores, ids = run(q, k, oversample)
    return scores[0], ids[0], median_seconds(lambda: run(q, k, oversample), repeats=LATENCY_REPEATS, warmup=0)


def _place_query(picture: Picture, q_small: np.ndarray, ids: np.ndarray,
                 umap_dims: tuple[int, ...]) -> tuple[np.ndarray, str, list[str]]:
    """The query's place in the picture, how it was placed, and notes: exact for first two and PCA.

    UMAP cannot place a new point cheaply, so the query goes to the mean of its top k documents.
    """
    if picture.projection == "first two":
        return q_small[0, :2].astype(np.float32), "exact", []
    if picture.projection == "PCA":
        return picture.pca.transform(q_small)[0].astype(np.float32), "exact", []
    placement = f"at the mean of its top {len(ids)} documents"
    notes = [f"UMAP cannot place a new point cheaply, so the query is drawn {placement}."]
    if picture.shown_dim != picture.dim:
        notes.append(f"UMAP was computed up front at {', '.join(map(str, umap_dims))} dimensions only; "
                     f"{picture.dim} shows the picture at {picture.shown_dim}.")
    return picture.xy[ids].mean(axis=0).astype(np.float32), placement, notes
