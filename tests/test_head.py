"""The offline Matryoshka model (a linear head on all-MiniLM-L6-v2): loading, the shipped head, rebuilding it."""

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mrl_helpers import binarize, encode, load_mini, ndcg_of, retrieve, truncate
from mrl_helpers.bench.machine import cpu_name
from mrl_helpers.head import RECIPE, WEIGHTS, corpus_only, head_report, save_head, train_head
from mrl_helpers.models import MINILM_MRL, head_dir, load_model, st_modules

QUICK = {"steps": 30, "pool_size": 128, "batch_size": 32}  # the mechanics, in about a second


def test_it_loads_offline_as_an_ordinary_sentence_transformers_model(mrl_model, mini):
    assert mrl_model.name == MINILM_MRL and mrl_model.trained_with_mrl and mrl_model.full_dim == 384
    assert mrl_model.matryoshka_dims == RECIPE.dims
    texts = mini.docs[:40]
    st_emb = mrl_model.st.encode(texts, convert_to_numpy=True)
    np.testing.assert_allclose(encode(mrl_model, texts, cache=False), st_emb, atol=1e-5)  # the cached-base shortcut
    np.testing.assert_allclose(np.linalg.norm(st_emb, axis=1), 1, atol=1e-5)
    mrl_model.st.truncate_dim = 64  # the attribute every version >= 3 reads (encode's truncate_dim= came in 5.0)
    try:
        np.testing.assert_allclose(mrl_model.st.encode(texts), st_emb[:, :64], atol=1e-6)
        codes = mrl_model.st.encode(texts, precision="ubinary")
    finally:
        mrl_model.st.truncate_dim = None
    np.testing.assert_array_equal(codes, binarize(truncate(st_emb, 64)))


def test_load_model_says_what_it_is(capsys):
    load_model("minilm-mrl")
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"Model: {MINILM_MRL} (384 dimensions, trained with Matryoshka loss at 384/256/128/64/32/16/8")
    assert "a head on all-MiniLM-L6-v2" in line


def test_shipped_head_checksum_is_the_data_cards():
    digest = hashlib.sha256((head_dir() / WEIGHTS).read_bytes()).hexdigest()
    card = (Path(__file__).resolve().parents[1] / "data" / "README.md").read_text()
    assert re.search(rf"SHA-256[^\n]*`{digest}`", card), "data/README.md names the shipped head's SHA-256"
    assert (head_dir() / WEIGHTS).stat().st_size < 5 * 2**20


def test_training_refuses_judgements(model, mini):
    with pytest.raises(ValueError, match=r"carries 105 queries.*unlabelled texts only: pass corpus_only"):
        train_head(model, mini, cache=False, **QUICK)
    without_titles = replace(corpus_only(mini), titles=["", *mini.titles[1:]])
    with pytest.raises(ValueError, match="every document needs a title"):
        train_head(model, without_titles, cache=False, **QUICK)


def test_same_seed_same_head_other_seed_other_head(model, mini):
    first, again = (train_head(model, corpus_only(mini), cache=False, **QUICK) for _ in range(2))
    other = train_head(model, corpus_only(mini), cache=False, seed=1, **QUICK)
    docs = encode(model, mini.docs)
    np.testing.assert_allclose(first(docs), again(docs), atol=1e-5)
    assert np.abs(first(docs) - other(docs)).max() > 1e-3


def test_saved_head_is_the_trained_map(model, mini, tmp_path):
    (Dense,) = st_modules("Dense")
    adapter = train_head(model, corpus_only(mini), cache=False, **QUICK)
    save_head(adapter, tmp_path)
    dense = Dense.load(str(tmp_path))
    docs = encode(model, mini.docs)
    out = dense({"sentence_embedding": __import__("torch").from_numpy(docs)})["sentence_embedding"].detach().numpy()
    np.testing.assert_allclose(truncate(out, 384), adapter(docs), atol=1e-5)
    with pytest.raises(ValueError, match="only a 'linear' adapter"):
        save_head(train_head(model, corpus_only(mini), cache=False, kind="residual", **QUICK), tmp_path)


def not_the_locked_versions() -> list[str]:
    """The libraries training depends on whose installed version is not the one in requirements-lock.txt."""
    from importlib.metadata import version

    from packaging.version import Version

    lines = (Path(__file__).resolve().parents[1] / "requirements-lock.txt").read_text().split()
    lock = dict(line.split("==") for line in lines if "==" in line)
    return [name for name in ("numpy", "torch", "sentence-transformers", "transformers")
            if Version(version(name)).public != lock[name]]


@pytest.fixture(scope="module")
def rebuilt(model, scifact):
    """The whole recipe, as `python -m mrl_helpers build-head` runs it (about 20 s of training)."""
    return train_head(model, corpus_only(scifact), cache=False)


def test_rebuilding_the_recipe_gives_the_shipped_head_at_every_nested_size(rebuilt, model, mrl_model, scifact):
    """Whatever the CPU or the versions in our ranges. Measured on an Intel Xeon with the locked and the lowest
    versions: worst cosine 0.9999985 at 256, nDCG@10 equal to 1e-4 at every size; coordinates 257-384 drift."""
    docs, queries = encode(model, scifact.docs, "document"), encode(model, scifact.queries, "query")
    mine = rebuilt(docs), rebuilt(queries)
    shipped = encode(mrl_model, scifact.docs, "document"), encode(mrl_model, scifact.queries, "query")
    for dim in RECIPE.dims[1:]:
        assert np.sum(truncate(mine[0], dim) * truncate(shipped[0], dim), axis=1).min() > 0.9999, dim
    for dim in RECIPE.dims:
        ndcg = [ndcg_of(scifact, *retrieve(*emb, dim, "float32", k=10)) for emb in (mine, shipped)]
        assert abs(ndcg[0] - ndcg[1]) < 1e-3, (dim, ndcg)


def test_on_the_machine_that_built_it_the_rebuild_is_exact(rebuilt, model, mrl_model, mini):
    built_on = json.loads((head_dir() / "training.json").read_text())["cpu"]
    if other := not_the_locked_versions():
        pytest.skip(f"the head is reproduced to 1e-5 with the locked versions only; these differ: {', '.join(other)}")
    if cpu_name() != built_on:
        # Measured on an Intel Xeon: up to 0.14 apart in coordinates 257-384 (worst cosine 0.990 at 384), while every
        # nested size below agrees (the test above): 600 Adam steps amplify the CPU's own float rounding.
        pytest.skip(f"the head is reproduced to 1e-5 on the CPU that built it ({built_on}) only; this is {cpu_name()}")
    docs = encode(model, mini.docs)
    np.testing.assert_allclose(rebuilt(docs), encode(mrl_model, mini.docs), atol=1e-5)


def test_matryoshka_head_holds_where_plain_truncation_falls_apart(model, mrl_model, scifact):
    """Loose bounds, so a broken head fails CI; the figures themselves are in data/README.md (build-head)."""
    report = head_report({"plain": model, "matryoshka": mrl_model}, [scifact, load_mini()], dims=(384, 64, 32),
                         precisions=("float32",)).set_index(["dataset", "model", "dim"])["% of plain full"]
    assert report["scifact", "matryoshka", 384] > 97
    assert report["scifact", "matryoshka", 64] > 85 > report["scifact", "plain", 64]
    assert report["scifact", "matryoshka", 32] > 70 > report["scifact", "plain", 32]
    mini_own = report["mini", "matryoshka", 64] / report["mini", "matryoshka", 384] * 100
    assert mini_own > 85 > report["mini", "plain", 64]
