"""The SciFact embeddings the package ships (data/embeddings): the model's own, checked, and used instead of encoding."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import mrl_helpers.embedding as embedding
from mrl_helpers import encode, load_beir

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "data" / "embeddings"


def test_the_shipped_corpus_is_what_sentence_transformers_computes_here(model, scifact):
    shipped = encode(model, scifact.docs, "document")
    rows = np.random.default_rng(0).choice(len(scifact.docs), 24, replace=False)
    live = model.st.encode([scifact.docs[i] for i in rows], normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(shipped[rows], live, atol=1e-5)


def test_shipped_texts_are_never_encoded_and_nothing_is_written(model, scifact, tmp_path, monkeypatch):
    monkeypatch.setenv("MRL_CACHE_DIR", str(tmp_path))

    def must_not_run(*args, **kwargs):
        raise AssertionError("a shipped corpus was encoded")

    monkeypatch.setattr(model.st, "encode", must_not_run)
    train = load_beir("scifact", "train")
    for texts, prompt_name in ((scifact.docs, "document"), (scifact.queries, "query"), (train.queries, "query")):
        assert encode(model, texts, prompt_name).shape == (len(texts), 384)
    assert not list(tmp_path.iterdir())
    with pytest.raises(AssertionError):  # other texts: encoded as usual
        encode(model, scifact.docs[:3], "document")


def test_a_damaged_file_is_refused_with_what_to_do(model, scifact, tmp_path, monkeypatch):
    copy = tmp_path / "embeddings"
    shutil.copytree(FOLDER, copy)
    corpus = copy / "all-MiniLM-L6-v2-scifact-corpus.npy"
    data = bytearray(corpus.read_bytes())
    data[-1] ^= 1
    corpus.write_bytes(bytes(data))
    monkeypatch.setattr(embedding, "packaged_data", lambda name: tmp_path / name)
    monkeypatch.setenv("MRL_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="does not match its SHA-256.*restore it"):
        encode(model, scifact.docs, "document")


def test_the_manifest_lists_every_file_and_the_locked_versions_made_them():
    manifest = json.loads((FOLDER / "manifest.json").read_text())
    assert sorted(e["file"] for e in manifest["files"].values()) == sorted(p.name for p in FOLDER.glob("*.npy"))
    lock = dict(re.findall(r"^([\w-]+)==(\S+)$", (ROOT / "requirements-lock.txt").read_text(), re.M))
    made = dict(re.findall(r"([\w-]+) (\S+?)(?:\+\w+)?(?:,|$)", manifest["library_versions"]))
    assert made == {name: lock[name] for name in made}, "re-run `python -m mrl_helpers ship-embeddings` after `make lock`"
