"""`prepare_explorer`: everything slow, once, before any slider moves (notebook 06)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..checks import check_choice, check_k
from ..data import SEED_QUESTION, Dataset, load_beir, load_mini, sample_corpus
from ..embedding import encode
from ..evaluation import PRECISIONS
from ..models import EmbeddingModel
from ..threads import limited_threads
from .geometry import slider_dims
from .state import DEFAULT_OVERSAMPLE, PROJECTIONS, Corpus, ExplorerState

CORPORA: tuple[str, ...] = ("mini", "scifact")


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
    random others; at most the model's `max_docs`, as in the other notebooks) only when `MRL_DATA_DIR`
    points at a local copy; otherwise `notes` says why.
    """
    from tqdm.auto import tqdm

    for name in corpora:
        check_choice(name, CORPORA, "corpora")
    for projection in projections:
        check_choice(projection, PROJECTIONS, "projections")
    check_k(scifact_docs, "scifact_docs")
    corpora, notes = _available(corpora)
    loaded = {name: _load_corpus(model, name, scifact_docs, seed) for name in corpora}  # encoding: every core
    ladder = tuple(sorted(model.matryoshka_dims, reverse=True))
    state = ExplorerState(model=model, corpora=loaded, dims=slider_dims(model.full_dim, ladder), ladder=ladder,
                          projections=tuple(projections), notes=notes)
    import sklearn.cluster  # noqa: F401  (loads SciPy's thread pool before `limited_threads` limits the pools)

    with limited_threads(1):  # many small computations: one thread each is faster on a busy machine
        for corpus in loaded.values():
            corpus.umap_dims = ladder if "UMAP" in projections else ()
            if not corpus.groups:  # no topic labels (SciFact): colour by k-means cluster, named by its words
                corpus.groups = _kmeans_groups(corpus.doc_emb, corpus.dataset.titles, 8, seed)
        steps = [(c, d) for c in loaded.values() for d in ladder]
        for corpus, dim in tqdm(steps, desc="UMAP per corpus and ladder dimension", disable=not progress):
            for projection in projections:
                corpus.picture(projection, dim)  # computes (and memoises) the coordinates and their trust
        if every_dim:
            steps = [(c, d) for c in loaded.values() for d in state.dims]
            for corpus, dim in tqdm(steps, desc="PCA, first two and nDCG@10 per slider dimension",
                                    disable=not progress):
                for projection in projections:
                    corpus.picture(projection, dim)  # UMAP: the nearest ladder picture, already computed
                for precision in PRECISIONS:
                    corpus.ndcg10(dim, precision, DEFAULT_OVERSAMPLE)
    return state


def _available(corpora: Sequence[str]) -> tuple[list[str], list[str]]:
    """The corpora that can be loaded here, and a note for each one left out."""
    data_dir = os.environ.get("MRL_DATA_DIR")
    if "scifact" in corpora and not (data_dir and (Path(data_dir) / "scifact").is_dir()):
        note = ("Only the mini corpus: the SciFact subset needs a local copy of SciFact in $MRL_DATA_DIR/scifact, "
                "and there is none (make lab and make test set MRL_DATA_DIR where ../shared/data has one).")
        corpora, notes = [c for c in corpora if c != "scifact"], [note]
    else:
        corpora, notes = list(corpora), []
    if not corpora:
        raise ValueError("corpora is empty after leaving out what is not available: give at least 'mini'")
    return corpora, notes


def _load_corpus(model: EmbeddingModel, name: str, scifact_docs: int, seed: int) -> Corpus:
    if name == "mini":
        dataset = load_mini()
        doc_emb = encode(model, dataset.docs, "document")
        label, examples = "mini corpus", _example_queries(dataset, SEED_QUESTION)
    else:
        full = load_beir("scifact", "test")
        dataset, rows = sample_corpus(full, min(scifact_docs, model.max_docs or scifact_docs), seed)
        # the whole corpus is cached on disk (shipped for MiniLM): slice it; a model with max_docs encodes only the subset
        doc_emb = encode(model, full.docs, "document")[rows] if model.max_docs is None else \
            encode(model, dataset.docs, "document")
        label, examples = f"SciFact subset ({len(dataset.docs)} documents)", _example_queries(dataset)
    query_emb = encode(model, dataset.queries, "query")
    return Corpus(name=name, label=label, dataset=dataset, doc_emb=doc_emb, query_emb=query_emb,
                  groups=list(dataset.topics or []), group_kind="topic" if dataset.topics else "k-means cluster",
                  examples=examples, seed=seed)


def _example_queries(dataset: Dataset, first: str | None = None, n: int = 5) -> list[str]:
    """`first`, then queries spread evenly over the dataset."""
    picks = [dataset.queries[i] for i in np.linspace(0, len(dataset.queries) - 1, n).round().astype(int)]
    return list(dict.fromkeys([first, *picks] if first else picks))[:n]


def _kmeans_groups(emb: np.ndarray, titles: Sequence[str], n_clusters: int, seed: int) -> list[str]:
    """Each document's k-means cluster, named by the cluster's most characteristic words."""
    from sklearn.cluster import KMeans

    labels = KMeans(n_clusters=n_clusters, n_init=4, random_state=seed).fit_predict(emb)
    names = cluster_names(titles, labels)
    return [names[label] for label in labels]


def cluster_names(texts: Sequence[str], labels: Sequence[int], n_words: int = 3) -> dict[int, str]:
    """Each cluster's `n_words` most characteristic words: the top TF-IDF terms of its texts, joined as one document.

    >>> cluster_names(["red apple", "green apple", "fast car", "red car"], [0, 0, 1, 1], n_words=2)
    {0: 'apple, green', 1: 'car, fast'}
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    clusters = sorted(set(labels))
    joined = [" ".join(t for t, label in zip(texts, labels) if label == c) for c in clusters]
    words_only = r"(?u)\b[a-zA-Z][a-zA-Z-]+[a-zA-Z]\b"  # no numbers, no "il-" from "IL-6"
    tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True, token_pattern=words_only)
    weights, words = tfidf.fit_transform(joined).toarray(), tfidf.get_feature_names_out()
    return {int(c): ", ".join(words[np.argsort(-w, kind="stable")[:n_words]]) for c, w in zip(clusters, weights)}
