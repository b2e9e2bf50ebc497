"""The seed example, the project's mini corpus and BEIR datasets such as SciFact (notebook 03)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .cache import cache_dir
from .checks import check_choice, check_k
from .metrics import Qrels

BEIR_URL = "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/{name}.zip"
BEIR_DATASETS = (
    "scifact", "nfcorpus", "arguana", "scidocs", "fiqa", "trec-covid", "webis-touche2020",
    "quora", "nq", "hotpotqa", "dbpedia-entity", "fever", "climate-fever", "msmarco",
)

SEED_PASSAGES = [
    "The dog is a loyal companion of humans, bred over thousands of years to herd, guard and keep people company.",
    "Albert Einstein was born on 14 March 1879 in Ulm, a city in the Kingdom of Württemberg in the German Empire.",
    "As a boy, Einstein grew up in Munich, taught himself geometry from a small book and played the violin.",
    "Werner Heisenberg was a German physicist who formulated the uncertainty principle of quantum mechanics.",
    "Steve Jobs co-founded Apple in a garage in California and later introduced the iPhone.",
    "The cat is a small carnivore that was domesticated around the grain stores of the ancient Near East.",
]
SEED_QUESTION = "Where was Albert Einstein born?"
SEED_ANSWER = 1  # position of the Einstein-birth passage in SEED_PASSAGES


@dataclass
class Dataset:
    """A retrieval benchmark: documents, queries and relevance judgements (qrels)."""

    name: str
    doc_ids: list[str]
    titles: list[str]
    docs: list[str]  # what gets embedded: title + " " + text
    topics: list[str] | None  # one per document, where the corpus has them (the mini corpus does)
    query_ids: list[str]
    queries: list[str]
    qrels: Qrels

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}: {len(self.docs)} documents, {len(self.queries)} queries)"


def subset_queries(dataset: Dataset, keep: Sequence[int] | np.ndarray) -> Dataset:
    """The same corpus with only the queries at positions `keep` (and their judgements) (notebook 07)."""
    keep = [int(i) for i in keep]
    if not keep:
        raise ValueError("keep is empty: a dataset needs at least one query")
    query_ids = [dataset.query_ids[i] for i in keep]
    return replace(dataset, query_ids=query_ids, queries=[dataset.queries[i] for i in keep],
                   qrels={q: dataset.qrels[q] for q in query_ids})


def subset_corpus(dataset: Dataset, keep: Sequence[int] | np.ndarray) -> Dataset:
    """Only the documents at positions `keep`, their judgements, and the queries still with a relevant one (notebook 07).
    """
    keep = sorted({int(j) for j in keep})
    if not keep:
        raise ValueError("keep is empty: a corpus needs at least one document")
    doc_ids = [dataset.doc_ids[j] for j in keep]
    kept = set(doc_ids)
    qrels = {q: {d: r for d, r in rels.items() if d in kept} for q, rels in dataset.qrels.items()}
    qrels = {q: rels for q, rels in qrels.items() if any(r > 0 for r in rels.values())}
    query_keep = [i for i, q in enumerate(dataset.query_ids) if q in qrels]
    return replace(
        dataset, doc_ids=doc_ids, titles=[dataset.titles[j] for j in keep], docs=[dataset.docs[j] for j in keep],
        topics=[dataset.topics[j] for j in keep] if dataset.topics else None,
        query_ids=[dataset.query_ids[i] for i in query_keep], queries=[dataset.queries[i] for i in query_keep],
        qrels={dataset.query_ids[i]: qrels[dataset.query_ids[i]] for i in query_keep},
    )


def sample_corpus(dataset: Dataset, n_docs: int, seed: int = 0) -> tuple[Dataset, np.ndarray]:
    """`dataset` cut down to `n_docs` documents: every document relevant to a query, plus random others (notebook 06).

    Returns the smaller dataset (the same queries: each keeps its relevant documents) and the positions
    of its documents in the full one, so that the full corpus's cached embeddings can be sliced instead of re-encoded.
    """
    n_docs = check_k(n_docs, "n_docs")
    relevant = {d for rels in dataset.qrels.values() for d, r in rels.items() if r > 0}
    keep = [i for i, d in enumerate(dataset.doc_ids) if d in relevant]
    if not len(keep) <= n_docs <= len(dataset.docs):
        raise ValueError(f"n_docs={n_docs} must be between {len(keep)} (the documents relevant to a query) and "
                         f"{len(dataset.docs)} (the whole corpus of {dataset.name})")
    others = np.setdiff1d(np.arange(len(dataset.docs)), keep)
    extra = np.random.default_rng(seed).choice(others, n_docs - len(keep), replace=False)
    rows = np.sort(np.concatenate([np.array(keep, dtype=int), extra]))
    return replace(subset_corpus(dataset, rows), name=f"{dataset.name}-{n_docs}"), rows


def _read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_beir_folder(folder: Path, name: str, split: str = "test") -> Dataset:
    """Read a dataset in BEIR format: corpus.jsonl(.gz), queries.jsonl and qrels/{split}.tsv."""
    folder = Path(folder)
    corpus_path = next((folder / f for f in ("corpus.jsonl", "corpus.jsonl.gz") if (folder / f).exists()), None)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if corpus_path is None or not (folder / "queries.jsonl").exists():
        raise FileNotFoundError(f"data folder {folder} has no corpus.jsonl(.gz) or queries.jsonl (BEIR format)")
    if not qrels_path.exists():
        splits = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        raise ValueError(f"split={split!r} has no judgements in {folder / 'qrels'}; available: {splits}")
    qrels: Qrels = {}
    with open(qrels_path, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    corpus = _read_jsonl(corpus_path)
    queries = {q["_id"]: q["text"] for q in _read_jsonl(folder / "queries.jsonl")}
    query_ids = [q for q in queries if q in qrels]
    has_topics = all("topic" in (d.get("metadata") or {}) for d in corpus)
    return Dataset(
        name=name,
        doc_ids=[d["_id"] for d in corpus],
        titles=[d.get("title", "") for d in corpus],
        docs=[f"{d.get('title', '')} {d['text']}".strip() for d in corpus],
        topics=[d["metadata"]["topic"] for d in corpus] if has_topics else None,
        query_ids=query_ids,
        queries=[queries[q] for q in query_ids],
        qrels={q: qrels[q] for q in query_ids},
    )


def packaged_data(name: str) -> Path:
    """A folder the project ships, `data/<name>`: inside the installed package, or in a clone of the repo."""
    here = Path(__file__).resolve().parent
    packaged = here / "data" / name
    return packaged if packaged.exists() else here.parent / "data" / name


def mini_dir() -> Path:
    """The project's mini corpus, `data/mini`."""
    return packaged_data("mini")


def load_mini(split: str = "test") -> Dataset:
    """The project's own small corpus: short passages on about 15 topics (data/README.md); it has one split, "test"."""
    return read_beir_folder(mini_dir(), "mini", split)


def _download_beir(name: str, root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    url = BEIR_URL.format(name=name)
    print(f"Downloading {name} from {url} ...")
    with urllib.request.urlopen(url, timeout=60) as response:
        payload = response.read()
    tmp = root / f".{name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    zipfile.ZipFile(io.BytesIO(payload)).extractall(tmp)
    (tmp / name).replace(root / name)
    shutil.rmtree(tmp)
    return root / name


def load_beir(name: str, split: str = "test", data_dir: str | Path | None = None) -> Dataset:
    """Load a BEIR dataset (e.g. "scifact") (notebook 03).

    Reads `data_dir/name`, else `$MRL_DATA_DIR/name` (a gzipped corpus too). With neither set,
    it downloads from the official BEIR location once and keeps it under `cache_dir() / "beir"`.
    """
    check_choice(name, BEIR_DATASETS, "name")
    root = data_dir or os.environ.get("MRL_DATA_DIR")
    if root:
        folder = Path(root) / name
        if not folder.is_dir():
            raise FileNotFoundError(f"data_dir={str(root)!r} has no folder {name!r}: expected {folder} in BEIR format")
        return read_beir_folder(folder, name, split)
    cache = cache_dir() / "beir"
    folder = cache / name if (cache / name).is_dir() else _download_beir(name, cache)
    return read_beir_folder(folder, name, split)


def load_dataset(name: str, split: str = "test") -> Dataset:
    """"mini" for the project's corpus, or a BEIR name such as "scifact"."""
    if name == "mini":
        return load_mini(split)
    check_choice(name, ("mini", *BEIR_DATASETS), "dataset")
    return load_beir(name, split)


def scifact_or_mini(split: str = "test", *, max_docs: int | None = None) -> Dataset:
    """SciFact where a copy is reachable; otherwise say so in one line and use the mini corpus (notebook 03).

    With `max_docs` (a model's `max_docs`: nomic on a CPU), a larger SciFact is cut to that many documents by
    `sample_corpus`, every one judged relevant to a query kept, and one printed line says so.
    """
    try:
        dataset = load_beir("scifact", split)
    except OSError as err:
        print(f"SciFact is not reachable ({err}); using the mini corpus instead.")
        return load_mini()
    if max_docs is None or max_docs >= len(dataset.docs):
        return dataset
    sample, _ = sample_corpus(dataset, max_docs)
    print(f"SciFact cut to {len(sample.docs):,} of its {len(dataset.docs):,} abstracts for this model on this device: "
          f"its {len(sample.queries)} queries keep every abstract judged relevant to them.")
    return sample
