"""The interactive explorer's logic, with no widgets: prepare once, then `explore` one setting (notebook 06).

`prepare_explorer` does everything slow up front: it encodes the corpora (from the on-disk
cache), and computes the 2-D projections, UMAP included, once per dimension of the model's
ladder. `explore` then answers one setting (query, dimension, precision, k, ...) from
memoised pieces, fast enough to run on every slider move. The HTML and plot specs the
widgets show are built here too (`results_html`, `metrics_html`, `scatter_traces`), so
that everything but the wiring is tested without a browser.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .checks import check_choice, check_dim, check_k
from .data import SEED_QUESTION, Dataset, load_beir, load_mini, sample_corpus
from .embedding import encode, truncate
from .evaluation import PRECISIONS, Precision, Searcher, bytes_per_vector, make_searcher, ndcg_of
from .models import EmbeddingModel
from .speed import format_bytes, median_seconds

Projection = Literal["first two", "PCA", "UMAP"]
PROJECTIONS: tuple[str, ...] = ("first two", "PCA", "UMAP")
CORPORA: tuple[str, ...] = ("mini", "scifact")
DIM_STEP = 8  # the slider's step: binary codes pack 8 dimensions per byte
TRUST_NEIGHBOURS = 10  # neighbour preservation compares each document's 10 nearest neighbours
DEFAULT_OVERSAMPLE = 4  # binary+rescore shortlists k × 4 unless told otherwise
NDCG_QUERIES_K = 10  # nDCG@10 retrieves the top 10 per query (binary+rescore shortlists 10 × oversample)
PALETTE = (  # plotly's Dark24, written out so that old plotly versions show the same colours
    "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#222A2A", "#B68100", "#750D86",
    "#EB663B", "#511CFB", "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE",
    "#862A16", "#A777F1", "#620042", "#1616A7", "#DA60CA", "#6C4516", "#0D2A63", "#AF0038",
)


# --- small pure pieces -------------------------------------------------------------------------


def slider_dims(full_dim: int, ladder: Sequence[int], step: int = DIM_STEP) -> tuple[int, ...]:
    """The dimensions the slider offers: every multiple of `step` up to `full_dim`, plus the model's ladder.

    >>> slider_dims(48, (48, 32, 16))
    (8, 16, 24, 32, 40, 48)
    """
    return tuple(sorted(set(range(step, full_dim + 1, step)) | set(ladder) | {full_dim}))


def nearest(value: int, choices: Sequence[int]) -> int:
    """The element of `choices` closest to `value` (the larger one on a tie)."""
    return min(choices, key=lambda c: (abs(c - value), -c))


def overlap_at_k(ids: Sequence[int], reference: Sequence[int]) -> float:
    """Share of the reference top-k that `ids` also contains (1.0 = the same set, in any order)."""
    if len(reference) == 0:
        raise ValueError("reference is empty: overlap@k needs at least one reference result")
    return len(set(map(int, ids)) & set(map(int, reference))) / len(reference)


def nearest_neighbours(emb: np.ndarray, n_neighbors: int, metric: Literal["cosine", "euclidean"]) -> np.ndarray:
    """Each row's `n_neighbors` nearest other rows, shape (n, n_neighbors), in no particular order.

    "cosine" expects unit-length rows (inner product = cosine); "euclidean" is for 2-D coordinates.
    """
    check_choice(metric, ("cosine", "euclidean"), "metric")
    emb = np.asarray(emb, dtype=np.float32)
    n = emb.shape[0]
    n_neighbors = check_k(n_neighbors, "n_neighbors")
    if n_neighbors >= n:
        raise ValueError(f"n_neighbors={n_neighbors} must be smaller than the number of points {n}")
    if metric == "cosine":
        dist = -(emb @ emb.T)
    else:
        sq = (emb**2).sum(axis=1)
        dist = sq[:, None] + sq[None, :] - 2 * (emb @ emb.T)
    np.fill_diagonal(dist, np.inf)  # a point is not its own neighbour
    return np.argpartition(dist, n_neighbors - 1, axis=1)[:, :n_neighbors].copy()  # a copy: not a view of n × n


def neighbour_preservation(high_neighbours: np.ndarray, xy: np.ndarray) -> float:
    """Mean share of each point's nearest neighbours in the high-dimensional space that stay nearest in 2-D.

    `high_neighbours` comes from `nearest_neighbours` on the embeddings (not on the picture);
    1.0 means the 2-D picture keeps every neighbourhood, about k / (n - 1) is what a random
    placement would keep.
    """
    n, k = high_neighbours.shape
    if xy.shape != (n, 2):
        raise ValueError(f"xy must have shape ({n}, 2) to match high_neighbours, got {xy.shape}")
    low = nearest_neighbours(xy, k, "euclidean")
    member = np.zeros((n, n), dtype=bool)
    rows = np.arange(n)[:, None]
    member[rows, high_neighbours] = True
    return float(member[rows, low].sum() / (n * k))


def umap_2d(emb: np.ndarray, seed: int = 0) -> np.ndarray:
    """UMAP to 2-D with cosine distance; slow (seconds, plus compiling on first use): never call it in a callback."""
    import umap  # imported here: it takes seconds to import and compile

    reducer = umap.UMAP(n_components=2, n_neighbors=15, min_dist=0.1, metric="cosine", n_epochs=200,
                        random_state=seed, n_jobs=1)
    return reducer.fit_transform(emb).astype(np.float32)


def _pca(emb: np.ndarray, seed: int):
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit(emb)


def choose_display_mode(
    ipywidgets_version: str, plotly_version: str, in_colab: bool, has_anywidget: bool
) -> tuple[Literal["figurewidget", "output"], str]:
    """Which way the explorer draws its plot, and why.

    "figurewidget": one plotly FigureWidget updated in place (JupyterLab 4 with ipywidgets 8 and
    plotly 6+, which needs anywidget). "output": a plain figure redrawn in an ipywidgets Output on
    every change, for Colab (ipywidgets 7, older plotly, FigureWidget not always rendering).
    """
    widgets_major = int(ipywidgets_version.split(".")[0])
    plotly_major = int(plotly_version.split(".")[0])
    versions = f"ipywidgets {ipywidgets_version}, plotly {plotly_version}"
    if in_colab:
        return "output", f"on Colab FigureWidget does not always render ({versions})"
    if widgets_major < 8:
        return "output", f"FigureWidget needs ipywidgets 8 ({versions})"
    if plotly_major < 6:
        return "output", f"plotly before 6 has no FigureWidget for JupyterLab 4 ({versions})"
    if not has_anywidget:
        return "output", f"plotly's FigureWidget needs anywidget, which is not installed ({versions})"
    return "figurewidget", f"{versions} with anywidget"


def _human_seconds(s: float) -> str:
    return f"{s * 1e6:,.0f} µs" if s < 1e-3 else f"{s * 1e3:,.1f} ms"


# --- the prepared state ------------------------------------------------------------------------


@dataclass(eq=False)
class Corpus:
    """One corpus ready to explore: full-dimension embeddings, plus memoised truncations, indexes and projections."""

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
    _docs: dict = field(default_factory=dict, repr=False)
    _searchers: dict = field(default_factory=dict, repr=False)
    _coords: dict = field(default_factory=dict, repr=False)
    _pcas: dict = field(default_factory=dict, repr=False)
    _knn: dict = field(default_factory=dict, repr=False)
    _trust: dict = field(default_factory=dict, repr=False)
    _ndcg: dict = field(default_factory=dict, repr=False)
    _full_order: dict = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"Corpus({self.label}: {len(self.dataset.docs)} documents, {len(self.dataset.queries)} queries)"

    @property
    def n_docs(self) -> int:
        return self.doc_emb.shape[0]

    @property
    def full_dim(self) -> int:
        return self.doc_emb.shape[1]

    def docs_at(self, dim: int) -> np.ndarray:
        """The documents truncated to `dim` and re-normalised (memoised)."""
        if dim not in self._docs:
            self._docs[dim] = truncate(self.doc_emb, dim)
        return self._docs[dim]

    def searcher(self, dim: int, precision: Precision) -> Searcher:
        """`make_searcher` for (dim, precision), built once: run(query_emb, k, oversample) -> (scores, ids)."""
        if (dim, precision) not in self._searchers:
            self._searchers[dim, precision] = make_searcher(self.doc_emb, dim, precision)
        return self._searchers[dim, precision]

    def pca(self, dim: int):
        """A 2-component PCA fitted on the documents at `dim` (memoised)."""
        if dim not in self._pcas:
            self._pcas[dim] = _pca(self.docs_at(dim), self.seed)
        return self._pcas[dim]

    def projected_dim(self, projection: Projection, dim: int) -> int:
        """The dimension whose picture is shown: `dim` itself, or for UMAP the nearest precomputed one."""
        if projection != "UMAP":
            return dim
        if not self.umap_dims:
            raise ValueError("projection='UMAP' was not prepared: call prepare_explorer with 'UMAP' in projections")
        return dim if dim in self.umap_dims else nearest(dim, self.umap_dims)

    def coords(self, projection: Projection, dim: int) -> np.ndarray:
        """2-D coordinates of the documents at `dim` (memoised; UMAP only from what `prepare_explorer` computed)."""
        dim = self.projected_dim(projection, dim)
        key = (projection, dim)
        if key not in self._coords:
            if projection == "UMAP":  # only reached from prepare_explorer
                self._coords[key] = umap_2d(self.docs_at(dim), self.seed)
            elif projection == "PCA":
                self._coords[key] = self.pca(dim).transform(self.docs_at(dim)).astype(np.float32)
            else:
                self._coords[key] = np.ascontiguousarray(self.docs_at(dim)[:, :2])
        return self._coords[key]

    def neighbours(self, dim: int) -> np.ndarray:
        """Each document's nearest neighbours at `dim` dimensions (cosine), for the trust score (memoised)."""
        if dim not in self._knn:
            self._knn[dim] = nearest_neighbours(self.docs_at(dim), min(TRUST_NEIGHBOURS, self.n_docs - 1), "cosine")
        return self._knn[dim]

    def trust(self, projection: Projection, dim: int) -> float:
        """How well the 2-D picture shown at `dim` keeps the neighbourhoods of the `dim`-dimensional space."""
        key = (projection, dim)
        if key not in self._trust:
            self._trust[key] = neighbour_preservation(self.neighbours(dim), self.coords(projection, dim))
        return self._trust[key]

    def ndcg10(self, dim: int, precision: Precision, oversample: int) -> float:
        """nDCG@10 over the corpus's queries at one setting (memoised): its `searcher`, then `ndcg_of`."""
        key = (dim, precision, oversample if precision == "binary+rescore" else None)
        if key not in self._ndcg:
            scores, ids = self.searcher(dim, precision)(self.query_emb, NDCG_QUERIES_K, oversample)
            self._ndcg[key] = ndcg_of(self.dataset, scores, ids, 10)
        return self._ndcg[key]

    def full_order(self, text: str, query: np.ndarray) -> np.ndarray:
        """Every document, best first, at full dimension in float32: the reference ranking (memoised by text)."""
        if text not in self._full_order:
            self._full_order[text] = self.searcher(self.full_dim, "float32")(query, self.n_docs, 1)[1][0]
        return self._full_order[text]

    def snippet(self, i: int, length: int = 110) -> str:
        """The start of document i's text (its title is shown apart)."""
        title, doc = self.dataset.titles[i], self.dataset.docs[i]
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
    _queries: dict = field(default_factory=dict, repr=False)
    _threads: object = field(default=None, repr=False)

    def one_thread(self):
        """A context in which BLAS and OpenMP (FAISS) use one thread.

        A search over a few thousand vectors is too small to share out: on a busy machine (Binder,
        CI, a laptop running other things), threads waiting for each other can make every
        setting many times slower than one thread working alone.
        """
        return self.thread_pools().limit(limits=1)

    def thread_pools(self):
        """threadpoolctl's view of the loaded thread pools, found once (after FAISS, NumPy and SciPy loaded theirs)."""
        if self._threads is None:
            from threadpoolctl import ThreadpoolController

            self._threads = ThreadpoolController()
        return self._threads

    def __repr__(self) -> str:
        corpora = ", ".join(map(repr, self.corpora.values()))
        return f"ExplorerState({self.model.name}; {corpora}; dims {self.dims[0]}..{self.dims[-1]})"

    def query_embedding(self, text: str) -> tuple[np.ndarray, float | None]:
        """The query's full-dimension embedding, memoised by text, and the seconds encoding took (None: memoised)."""
        if text in self._queries:
            return self._queries[text], None
        start = time.perf_counter()
        emb = encode(self.model, [text], "query", cache=False, show_progress_bar=False)
        self._queries[text] = emb
        return emb, time.perf_counter() - start


def _example_queries(dataset: Dataset, first: str | None = None, n: int = 5) -> list[str]:
    """`first`, then queries spread evenly over the dataset."""
    picks = [dataset.queries[i] for i in np.linspace(0, len(dataset.queries) - 1, n).round().astype(int)]
    return list(dict.fromkeys([first, *picks] if first else picks))[:n]


def _kmeans_groups(emb: np.ndarray, n_clusters: int, seed: int) -> list[str]:
    from sklearn.cluster import KMeans

    labels = KMeans(n_clusters=n_clusters, n_init=4, random_state=seed).fit_predict(emb)
    return [f"cluster {label + 1}" for label in labels]


def _load_corpus(model: EmbeddingModel, name: str, scifact_docs: int, seed: int) -> Corpus:
    if name == "mini":
        dataset = load_mini()
        doc_emb = encode(model, dataset.docs, "document")
        label, examples = "mini corpus", _example_queries(dataset, SEED_QUESTION)
    else:
        full = load_beir("scifact", "test")
        dataset, rows = sample_corpus(full, scifact_docs, seed)
        doc_emb = encode(model, full.docs, "document")[rows]  # the whole corpus is cached on disk: slice it
        label, examples = f"SciFact subset ({len(dataset.docs)} documents)", _example_queries(dataset)
    query_emb = encode(model, dataset.queries, "query")
    return Corpus(name=name, label=label, dataset=dataset, doc_emb=doc_emb, query_emb=query_emb,
                  groups=list(dataset.topics or []), group_kind="topic" if dataset.topics else "k-means cluster",
                  examples=examples, seed=seed)


def prepare_explorer(
    model: EmbeddingModel,
    corpora: Sequence[str] = CORPORA,
    *,
    projections: Sequence[str] = PROJECTIONS,
    scifact_docs: int = 1000,
    every_dim: bool = True,
    seed: int = 0,
    progress: bool = True,
) -> ExplorerState:
    """Do everything slow once, before any slider moves (notebook 06).

    Encodes each corpus (the on-disk cache makes this quick after the first time), then for each
    dimension of the model's ladder: truncates, runs UMAP (the first progress bar) and scores how
    well each picture keeps neighbours. With `every_dim`, it also draws the first-two and PCA
    pictures, scores them and computes nDCG@10 (at the default oversample) at every dimension the
    slider offers (the second bar), so that moving the slider computes nothing new. SciFact comes
    in as a subset of `scifact_docs` documents (every document relevant to a test query, plus
    random others) only when `MRL_DATA_DIR` points at a local copy; otherwise `notes` says why.
    """
    from tqdm.auto import tqdm

    for name in corpora:
        check_choice(name, CORPORA, "corpora")
    for projection in projections:
        check_choice(projection, PROJECTIONS, "projections")
    check_k(scifact_docs, "scifact_docs")
    notes: list[str] = []
    data_dir = os.environ.get("MRL_DATA_DIR")
    if "scifact" in corpora and not (data_dir and (Path(data_dir) / "scifact").is_dir()):
        corpora = [c for c in corpora if c != "scifact"]
        notes.append("Only the mini corpus: the SciFact subset needs a local copy of SciFact in $MRL_DATA_DIR/scifact, "
                     "and there is none (make lab and make test set MRL_DATA_DIR where ../shared/data has one).")
    if not corpora:
        raise ValueError("corpora is empty after leaving out what is not available: give at least 'mini'")
    loaded = {name: _load_corpus(model, name, scifact_docs, seed) for name in corpora}  # encoding: every core
    ladder = tuple(sorted(model.matryoshka_dims, reverse=True))
    state = ExplorerState(model=model, corpora=loaded, dims=slider_dims(model.full_dim, ladder), ladder=ladder,
                          projections=tuple(projections), notes=notes)
    import sklearn.cluster  # noqa: F401  (loads SciPy's thread pool before `one_thread` lists the pools)

    with state.one_thread():  # many small computations: one thread each is faster on a busy machine
        for corpus in loaded.values():
            corpus.umap_dims = ladder if "UMAP" in projections else ()
            if not corpus.groups:  # no topic labels (SciFact): colour by k-means cluster instead
                corpus.groups = _kmeans_groups(corpus.doc_emb, 8, seed)
        steps = [(c, d) for c in loaded.values() for d in ladder]
        for corpus, dim in tqdm(steps, desc="UMAP per corpus and ladder dimension", disable=not progress):
            for projection in projections:
                corpus.trust(projection, dim)  # computes (and memoises) the coordinates too
        if every_dim:
            steps = [(c, d) for c in loaded.values() for d in state.dims]
            for corpus, dim in tqdm(steps, desc="PCA, first two and nDCG@10 per slider dimension",
                                    disable=not progress):
                for projection in projections:
                    corpus.trust(projection, dim)  # UMAP: the nearest ladder picture, already computed
                for precision in PRECISIONS:
                    corpus.ndcg10(dim, precision, DEFAULT_OVERSAMPLE)
    return state


# --- one setting ---------------------------------------------------------------------------------


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


SCORE_LABELS = {"float32": "cosine", "int8": "int8 dot product", "binary": "−Hamming distance",
                "binary+rescore": "cosine (rescored)"}


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
    k: int = 5,
    oversample: int = DEFAULT_OVERSAMPLE,
    projection: Projection = "PCA",
    corpus: str = "mini",
) -> Exploration:
    """Search one query at one setting and measure it against full dimension in float32 (notebook 06).

    Fast after `prepare_explorer`: the query's embedding, indexes, pictures and nDCG@10 are
    memoised, and UMAP is never run here (a dimension between UMAP's precomputed ones shows
    the nearest precomputed picture, and says so).
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

    with state.one_thread():
        return _explore(state, c, query, dim, precision, k, oversample, projection)


def _explore(state: ExplorerState, c: Corpus, query: str, dim: int, precision: str, k: int, oversample: int,
             projection: str) -> Exploration:
    # 1. Search at this setting, and at full dimension in float32 for reference
    q, encode_s = state.query_embedding(query)
    run = c.searcher(dim, precision)
    scores, ids = run(q, k, oversample)
    latency = median_seconds(lambda: run(q, k, oversample), repeats=5, warmup=1)
    order = c.full_order(query, q)
    full_rank = np.empty(c.n_docs, dtype=int)
    full_rank[order] = np.arange(1, c.n_docs + 1)
    hits = [Hit(rank=r + 1, doc=int(i), doc_id=c.dataset.doc_ids[i], title=c.dataset.titles[i], snippet=c.snippet(i),
                score=float(s), full_rank=int(full_rank[i])) for r, (s, i) in enumerate(zip(scores[0], ids[0]))]

    # 2. The 2-D picture: exact for first two and PCA; UMAP places the query at the mean of its top-k
    xy = c.coords(projection, dim)
    shown = c.projected_dim(projection, dim)
    notes = []
    if projection == "first two":
        query_xy, placement = truncate(q, dim)[0, :2], "exact"
    elif projection == "PCA":
        query_xy, placement = c.pca(dim).transform(truncate(q, dim))[0], "exact"
    else:
        query_xy, placement = xy[ids[0]].mean(axis=0), f"at the mean of its top {len(hits)} documents"
        notes.append(f"UMAP cannot place a new point cheaply, so the query is drawn {placement}.")
        if shown != dim:
            notes.append(f"UMAP was computed up front at {', '.join(map(str, c.umap_dims))} dimensions only; "
                         f"{dim} shows the picture at {shown}.")
    n_trust = c.neighbours(dim).shape[1]

    # 3. Quality, memory and speed
    bpv = bytes_per_vector(dim, precision)
    return Exploration(
        corpus=c.name, corpus_label=c.label, query=query, dim=dim, precision=precision, k=k, oversample=oversample,
        projection=projection, hits=hits, overlap=overlap_at_k(ids[0], order[: len(hits)]),
        ndcg10=c.ndcg10(dim, precision, oversample), ndcg10_full=c.ndcg10(c.full_dim, "float32", oversample),
        n_queries=len(c.dataset.queries), bytes_per_vector=bpv, index_bytes=bpv * c.n_docs,
        full_index_bytes=bytes_per_vector(c.full_dim, "float32") * c.n_docs, latency_s=latency, encode_s=encode_s,
        on_ladder=dim in state.ladder, xy=xy, titles=c.dataset.titles, groups=c.groups, group_kind=c.group_kind,
        query_xy=np.asarray(query_xy, dtype=np.float32), query_placement=placement, projected_dim=shown,
        trust=c.trust(projection, dim),
        trust_random=n_trust / (c.n_docs - 1), notes=notes,
    )


# --- what the widgets show -------------------------------------------------------------------------


def _move_html(moved: int) -> str:
    if moved > 0:
        return f'<span class="mrl-up" style="color:#1a7f37">▲ {moved}</span>'
    if moved < 0:
        return f'<span class="mrl-down" style="color:#cf222e">▼ {-moved}</span>'
    return '<span class="mrl-same" style="color:#6e7781">=</span>'


def _score_text(score: float, precision: str) -> str:
    return f"{score:.3f}" if precision in ("float32", "binary+rescore") else f"{score:,.0f}"


def results_html(r: Exploration) -> str:
    """The ranked results as an HTML table (class "mrl-results"), one row per hit (class "mrl-hit")."""
    head = (f"<tr><th>rank</th><th>document</th><th>{html.escape(r.score_label)}</th>"
            "<th>rank at full dimension, float32</th><th>moved</th></tr>")
    rows = "".join(
        f'<tr class="mrl-hit" data-doc-id="{html.escape(h.doc_id)}"><td>{h.rank}</td>'
        f"<td><b>{html.escape(h.title)}</b> {html.escape(h.snippet)}</td>"
        f"<td>{_score_text(h.score, r.precision)}</td><td>{h.full_rank}</td><td>{_move_html(h.moved)}</td></tr>"
        for h in r.hits
    )
    return (f'<table class="mrl-results" data-dim="{r.dim}" data-precision="{html.escape(r.precision)}" '
            f'style="border-collapse:collapse;width:100%"><thead>{head}</thead><tbody>{rows}</tbody></table>')


def metrics_html(r: Exploration) -> str:
    """The numbers for one setting as HTML (class "mrl-metrics"), one line per metric (class "mrl-metric")."""
    rung = "on the model's ladder" if r.on_ladder else "between the ladder's dimensions"
    rescore = f", shortlist {r.oversample}× k" if r.precision == "binary+rescore" else ""
    encoded = ("memoised" if r.encode_s is None else _human_seconds(r.encode_s))
    lines = {
        "setting": f"<b>{html.escape(r.corpus_label)}</b>: {r.dim} dimensions ({rung}), {html.escape(r.precision)}"
                   f"{rescore}, k = {r.k}",
        "overlap": f"overlap@{r.k} with full dimension float32: <b>{r.overlap:.0%}</b> "
                   f"({round(r.overlap * len(r.hits))} of {len(r.hits)})",
        "ndcg": f"nDCG@10 over {r.n_queries} queries: <b>{r.ndcg10:.3f}</b> "
                f"({r.ndcg10 / r.ndcg10_full:.0%} of full dimension float32, {r.ndcg10_full:.3f})",
        "bytes": f"{r.bytes_per_vector:,} bytes per vector; index of {len(r.xy):,} documents: "
                 f"<b>{format_bytes(r.index_bytes)}</b> ("
                 + ("the full float32 size)" if r.index_bytes == r.full_index_bytes
                    else f"{r.full_index_bytes / r.index_bytes:.1f}× smaller than full float32)"),
        "latency": f"search latency: <b>{_human_seconds(r.latency_s)}</b> (median of 5; encoding the query: {encoded})",
        "trust": f"2-D picture ({html.escape(r.projection)}) keeps <b>{r.trust:.0%}</b> of each document's "
                 f"{TRUST_NEIGHBOURS} nearest neighbours at {r.dim} dimensions (random placement: "
                 f"{r.trust_random:.0%})",
    }
    body = "".join(f'<div class="mrl-metric" data-metric="{name}">{text}</div>' for name, text in lines.items())
    notes = "".join(f'<div class="mrl-note" style="color:#6e7781">{html.escape(n)}</div>' for n in r.notes)
    return f'<div class="mrl-metrics" data-query="{html.escape(r.query)}">{body}{notes}</div>'


def scatter_traces(r: Exploration, n_group_slots: int) -> list[dict]:
    """Property dicts for the plot's traces, in a fixed order: the documents, top-k, query, then the legend.

    All documents are one trace (coloured point by point), so a change of dimension moves one
    trace, not one per topic; `n_group_slots` legend-only traces name the colours, the unused
    ones hidden. The count never changes, so a FigureWidget can update its traces in place.
    """
    names = list(dict.fromkeys(r.groups))
    if len(names) > n_group_slots:
        raise ValueError(f"n_group_slots={n_group_slots} is fewer than the {len(names)} {r.group_kind}s to colour")
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    top = r.xy[r.ids]
    traces = [
        {"type": "scatter", "mode": "markers", "name": "documents", "showlegend": False,
         "x": r.xy[:, 0], "y": r.xy[:, 1], "text": [f"{t} ({g})" for t, g in zip(r.titles, r.groups)],
         "marker": {"size": 7, "opacity": 0.75, "color": [colour[g] for g in r.groups]},
         "hovertemplate": "%{text}<extra></extra>"},
        {"type": "scatter", "mode": "markers+text", "name": f"top {len(r.hits)} results", "showlegend": True,
         "x": top[:, 0], "y": top[:, 1], "text": [str(h.rank) for h in r.hits], "textposition": "top center",
         "marker": {"size": 15, "symbol": "circle-open", "color": "black", "line": {"width": 2}},
         "hovertemplate": "rank %{text}<extra></extra>"},
        {"type": "scatter", "mode": "markers", "showlegend": True,
         "name": "query" if r.query_placement == "exact" else "query (mean of its top k)",
         "x": [float(r.query_xy[0])], "y": [float(r.query_xy[1])], "text": [r.query],
         "marker": {"size": 18, "symbol": "star", "color": "gold", "line": {"width": 1.5, "color": "black"}},
         "hovertemplate": "query: %{text}<extra></extra>"},
    ]
    for slot in range(n_group_slots):
        name = names[slot] if slot < len(names) else ""
        traces.append({"type": "scatter", "mode": "markers", "name": name, "x": [None], "y": [None],
                       "marker": {"size": 7, "color": colour.get(name, PALETTE[0])},
                       "visible": slot < len(names), "showlegend": slot < len(names), "hoverinfo": "skip"})
    return traces


def scatter_trace_count(n_group_slots: int) -> int:
    """How many traces `scatter_traces` returns: documents, top-k and query, plus the legend slots."""
    return 3 + n_group_slots


def changed_props(sent: dict, props: dict) -> dict:
    """The entries of `props` that differ from what was `sent` before (arrays compared by value)."""

    def same(a, b) -> bool:
        if isinstance(a, dict) or isinstance(b, dict):
            return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(
                same(a[key], b[key]) for key in a)
        if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
            return (a is not None and b is not None and len(a) == len(b)
                    and np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))
        return a == b

    return {key: value for key, value in props.items() if key not in sent or not same(sent[key], value)}


def scatter_layout(r: Exploration) -> dict:
    """The plot's title and axes for one setting."""
    shown = f"{r.projected_dim} dims" + ("" if r.projected_dim == r.dim else f", nearest to {r.dim}")
    axes = {"first two": ("dimension 1", "dimension 2"), "PCA": ("PC 1", "PC 2"), "UMAP": ("UMAP 1", "UMAP 2")}
    x_title, y_title = axes[r.projection]
    return {
        "title": {"text": f"{r.projection} of the documents at {shown} ({r.precision} search, k = {r.k}); "
                          f"keeps {r.trust:.0%} of neighbours"},
        "xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}},
        "legend": {"title": {"text": r.group_kind}},
    }
