"""Encode texts once at full dimension, then truncate (notebooks 02 and 03)."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np

from .cache import atomic_file, cache_dir, cache_key
from .checks import check_dim, check_embeddings, check_texts
from .data import packaged_data
from .models import EmbeddingModel


def normalize(emb: np.ndarray) -> np.ndarray:
    """Scale each row to unit L2 length, so that inner product = cosine similarity (notebook 02)."""
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return (emb / np.maximum(norms, 1e-12)).astype(np.float32)


def layer_norm(emb: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Centre and scale each row, without learned weights: nomic's step before truncation (notebook 02)."""
    mean = emb.mean(axis=1, keepdims=True)
    var = emb.var(axis=1, keepdims=True)
    return ((emb - mean) / np.sqrt(var + eps)).astype(np.float32)


def encode(
    model: EmbeddingModel,
    texts: list[str],
    prompt_name: str = "document",
    *,
    cache: bool = True,
    batch_size: int | None = None,
    show_progress_bar: bool | None = None,
) -> np.ndarray:
    """Embed `texts` at full dimension with the model's task prompt; unit-length float32 rows (notebook 02).

    For nomic the rows go through `layer_norm` first, as its model card does. With `cache=True`
    the result is saved under `cache_dir()`, keyed by model, library versions, sequence length, prompt and texts, so a
    re-run does not re-encode; texts the lab ships embeddings for (`shipped_embeddings`) are not encoded at all.
    The progress bar shows for more than 100 texts unless told otherwise.
    `batch_size` defaults to the model's (8 for nomic on a CPU, to keep memory within Binder's 2 GB; else 32).
    A model that is a linear head on another (the offline Matryoshka model) encodes with that model,
    cached, then applies its head: the same numbers as its `st.encode`, without a second pass.
    """
    if model.base is not None:
        base = encode(model.base, texts, prompt_name, cache=cache, batch_size=batch_size,
                      show_progress_bar=show_progress_bar)
        return normalize(base @ model.head.T)
    texts = check_texts(texts)
    prompt = model.prompt(prompt_name)
    described = _described(model, prompt_name, texts)
    path = cache_dir() / "embeddings" / f"{model.name.replace('/', '__')}-{prompt_name}-{cache_key(*described)}.npy"
    if cache and path.exists():
        return np.load(path)
    if cache and (emb := shipped_embeddings(described)) is not None:
        return emb
    emb = model.st.encode(
        texts, prompt=prompt, batch_size=batch_size or model.batch_size, convert_to_numpy=True, normalize_embeddings=False,
        show_progress_bar=len(texts) > 100 if show_progress_bar is None else show_progress_bar,
    )
    if model.layer_norm:
        emb = layer_norm(emb)
    emb = normalize(emb)
    if cache:
        with atomic_file(path) as file:
            np.save(file, emb)
    return emb


def _described(model: EmbeddingModel, prompt_name: str, texts: list[str]) -> tuple[str, ...]:
    """Everything but library versions that decides what `encode` returns."""
    return model.name, model.revision, str(model.st.max_seq_length), model.prompt(prompt_name), *texts


def _text_key(described: tuple[str, ...]) -> str:
    return hashlib.sha256("\x1f".join(described).encode()).hexdigest()


def shipped_embeddings(described: tuple[str, ...]) -> np.ndarray | None:
    """The embeddings the lab ships for these model settings and texts (data/embeddings), or None (notebook 03).

    all-MiniLM-L6-v2's embeddings of SciFact's corpus and queries come with the package, so that no notebook
    waits minutes for them on its first run. They were computed with the library versions their manifest names;
    each file is checked against its SHA-256 before use, notebook 03 re-encodes a sample to show they
    match, and tests/test_shipped.py checks them all.
    """
    folder = packaged_data("embeddings")
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return None
    entry = json.loads(manifest.read_text())["files"].get(_text_key(described))
    if entry is None:
        return None
    data = (folder / entry["file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ValueError(f"{folder / entry['file']} does not match its SHA-256 in {manifest}: the file is damaged; "
                         "restore it (git checkout data/embeddings, or reinstall the package)")
    return np.load(io.BytesIO(data))


def truncate(emb: np.ndarray, dim: int) -> np.ndarray:
    """Keep the first `dim` coordinates and re-normalise to unit length (notebook 03)."""
    emb = check_embeddings(emb)
    dim = check_dim(dim, emb.shape[1])
    return normalize(emb[:, :dim])


def ship_embeddings() -> None:
    """Encode SciFact's corpus and its test and train queries with all-MiniLM-L6-v2 into data/embeddings.

    `python -m mrl_helpers ship-embeddings`; run it when the packaged MiniLM or the locked library versions change.
    """
    from .cache import library_versions
    from .data import load_beir
    from .models import load_model

    folder = packaged_data("embeddings")
    (folder / "manifest.json").unlink(missing_ok=True)  # encode what these versions compute, never the old files
    model = load_model("minilm")
    test, train = load_beir("scifact", "test"), load_beir("scifact", "train")
    files = {}
    for name, prompt_name, texts in (("scifact-corpus", "document", test.docs), ("scifact-test-queries", "query", test.queries),
                                     ("scifact-train-queries", "query", train.queries)):
        file = folder / f"all-MiniLM-L6-v2-{name}.npy"
        with atomic_file(file) as out:
            np.save(out, encode(model, texts, prompt_name))
        files[_text_key(_described(model, prompt_name, texts))] = {
            "file": file.name, "sha256": hashlib.sha256(file.read_bytes()).hexdigest(), "rows": len(texts)}
    manifest = {"model": model.name, "library_versions": library_versions(),
                "made_by": "python -m mrl_helpers ship-embeddings", "files": files}
    with atomic_file(folder / "manifest.json") as out:
        out.write((json.dumps(manifest, indent=1) + "\n").encode())
