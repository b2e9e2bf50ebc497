"""Making a non-Matryoshka model Matryoshka (notebook 07): PCA rotation, adapter, fine-tune, and the eval path."""

import os

import numpy as np
import pytest
import torch

from conftest import unit_rows
from mrl_helpers import encode, evaluate, load_beir, ndcg_of, retrieve, subset_queries
from mrl_helpers.__main__ import main
from mrl_helpers.adapters import (
    AdapterSettings, FinetuneSettings, finetune_matryoshka, fit_pca_rotation, prepare_method, relevant_pairs, rotate,
    train_matryoshka_adapter,
)

QUICK = {"steps": 60, "pool_size": 128, "batch_size": 32}  # enough to check the mechanics, in a second or two


@pytest.mark.parametrize("centre", [True, False])
def test_pca_rotation_is_orthonormal_and_keeps_full_dimension_scores(rng, centre):
    docs, queries = unit_rows(rng, 500, 48) + 0.3, unit_rows(rng, 20, 48)  # an offset, as real embeddings have
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    rotation = fit_pca_rotation(docs, centre=centre)
    assert rotation.shape == (48, 48) and rotation.dtype == np.float32
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(48), atol=1e-5)
    np.testing.assert_allclose(rotate(queries, rotation) @ rotate(docs, rotation).T, queries @ docs.T, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(rotate(docs, rotation), axis=1), 1, atol=1e-5)


def test_pca_rotation_puts_the_variance_first_and_is_reproducible(rng):
    scales = np.linspace(3, 0.1, 32)
    docs = (rng.standard_normal((400, 32)) * scales) @ np.linalg.qr(rng.standard_normal((32, 32)))[0]
    rotation = fit_pca_rotation(docs.astype(np.float32))
    variance = rotate(docs.astype(np.float32), rotation).var(axis=0)
    assert np.all(np.diff(variance) <= 1e-6), "coordinates come out in order of decreasing variance"
    np.testing.assert_array_equal(rotation, fit_pca_rotation(docs.astype(np.float32)))


def test_pca_rotation_helps_truncation_on_the_mini_corpus(mini, mini_emb):
    docs, queries = mini_emb
    rotation = fit_pca_rotation(docs)
    plain = ndcg_of(mini, *retrieve(docs, queries, 16, k=10))
    rotated = ndcg_of(mini, *retrieve(rotate(docs, rotation), rotate(queries, rotation), 16, k=10))
    assert rotated > plain
    assert ndcg_of(mini, *retrieve(rotate(docs, rotation), rotate(queries, rotation), 384, k=10)) == pytest.approx(
        ndcg_of(mini, *retrieve(docs, queries, 384, k=10)), abs=1e-9)


def test_adapter_training_is_reproducible_with_a_seed(mini_emb):
    docs, _ = mini_emb
    first = train_matryoshka_adapter(docs, cache=False, **QUICK)
    again = train_matryoshka_adapter(docs, cache=False, **QUICK)
    other = train_matryoshka_adapter(docs, cache=False, seed=1, **QUICK)
    np.testing.assert_array_equal(first.weight, again.weight)
    np.testing.assert_array_equal(first(docs), again(docs))
    assert not np.array_equal(first.weight, other.weight)
    assert first.settings.dims == (384, 256, 128, 64, 32, 16) and first.train_seconds > 0


def test_settings_object_and_keyword_overrides_are_one_way(mini_emb):
    docs, _ = mini_emb
    by_keyword = train_matryoshka_adapter(docs, cache=False, **QUICK)
    by_object = train_matryoshka_adapter(docs, settings=AdapterSettings(**QUICK), cache=False)
    assert by_keyword.settings == by_object.settings == AdapterSettings(dims=(384, 256, 128, 64, 32, 16), **QUICK,
                                                                        pairs_weight=0.0)
    np.testing.assert_array_equal(by_keyword.weight, by_object.weight)
    both = train_matryoshka_adapter(docs, settings=AdapterSettings(**QUICK), steps=30, cache=False)
    assert both.settings.steps == 30 and both.settings.pool_size == QUICK["pool_size"], "keywords override the object"


def test_adapter_output_is_unit_length_and_starts_from_the_pca_rotation(mini_emb):
    docs, queries = mini_emb
    adapter = train_matryoshka_adapter(docs, cache=False, kind="residual", learning_rate=1e-9, **QUICK)
    out = adapter(queries)
    assert out.shape == queries.shape and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(adapter.weight, fit_pca_rotation(docs), atol=1e-5)  # a tiny learning rate: barely moved
    np.testing.assert_allclose(out, rotate(queries, fit_pca_rotation(docs)), atol=1e-4)


def test_adapter_beats_plain_truncation_at_low_dimension_on_the_mini_corpus(mini, mini_emb):
    """Self-supervised on the corpus alone; the mini queries are never seen in training."""
    docs, queries = mini_emb
    adapter = train_matryoshka_adapter(docs, cache=False, steps=200, pool_size=256, batch_size=64)
    for dim in (32, 16):
        plain = ndcg_of(mini, *retrieve(docs, queries, dim, k=10))
        adapted = ndcg_of(mini, *retrieve(adapter(docs), adapter(queries), dim, k=10))
        assert adapted > plain, f"dim {dim}: adapter {adapted:.3f} <= truncation {plain:.3f}"


@pytest.fixture(scope="module")
def scifact_train():
    if not os.environ.get("MRL_DATA_DIR"):
        pytest.skip("MRL_DATA_DIR is not set: no local SciFact copy to read")
    return load_beir("scifact", "train")


def test_adapter_beats_plain_truncation_on_held_out_train_queries(model, scifact_train):
    """Train on 80% of SciFact's train queries (plus the corpus), score on the other 20%: never seen in training."""
    docs = encode(model, scifact_train.docs, "document")
    queries = encode(model, scifact_train.queries, "query")  # also warms the cache notebook 07 reads
    order = np.random.default_rng(0).permutation(len(queries))
    fit, held = np.sort(order[: int(0.8 * len(order))]), np.sort(order[int(0.8 * len(order)):])
    fit_set, held_set = subset_queries(scifact_train, fit), subset_queries(scifact_train, held)
    adapter = train_matryoshka_adapter(docs, queries[fit], relevant_pairs(fit_set), cache=False,
                                       steps=200, pool_size=512, batch_size=64)
    for dim in (64, 32):
        plain = ndcg_of(held_set, *retrieve(docs, queries[held], dim, k=10))
        adapted = ndcg_of(held_set, *retrieve(adapter(docs), adapter(queries[held]), dim, k=10))
        assert adapted > plain + 0.05, f"dim {dim}: adapter {adapted:.3f} vs truncation {plain:.3f}"


def test_adapter_is_cached_and_rebuilt_on_demand(mini_emb, tmp_path, monkeypatch):
    monkeypatch.setenv("MRL_CACHE_DIR", str(tmp_path))
    docs, queries = mini_emb
    trained = train_matryoshka_adapter(docs, **QUICK)
    assert not trained.from_cache and len(list((tmp_path / "adapters").glob("*.pt"))) == 1
    loaded = train_matryoshka_adapter(docs, **QUICK)
    assert loaded.from_cache and loaded.train_seconds == trained.train_seconds
    np.testing.assert_array_equal(loaded(queries), trained(queries))
    assert not train_matryoshka_adapter(docs, **{**QUICK, "steps": 61}).from_cache  # other settings: a new entry
    for path in (tmp_path / "adapters").glob("*.pt"):
        path.unlink()
    assert not train_matryoshka_adapter(docs, **QUICK).from_cache  # deleted: trained again


def test_supervised_adapter_uses_the_labelled_pairs(mini, mini_emb):
    docs, queries = mini_emb
    pairs = relevant_pairs(mini)
    assert pairs.shape[1] == 2 and len(pairs) == sum(len(r) for r in mini.qrels.values())
    adapter = train_matryoshka_adapter(docs, queries, pairs, cache=False, corpus_weight=0, **QUICK)
    assert adapter.settings.pairs_weight == 1 and adapter.settings.corpus_weight == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pairs": np.array([[0, 0]])}, "give query_emb and pairs together"),
    ({"kind": "mlp"}, "kind='mlp' is not one of"),
    ({"dims": [64, 999]}, "dims=999 must be between 1 and the full dimension 384"),
    ({"corpus_weight": 0}, "nothing to train on"),
    ({"steps": 0}, "steps=0 must be a positive integer"),
    ({"stepz": 10}, "stepz=10 is not a setting of AdapterSettings; the settings are dims, kind, steps"),
    ({"settings": FinetuneSettings()}, "must be an instance of AdapterSettings"),
])
def test_adapter_bad_input_is_named(mini_emb, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(")):
        train_matryoshka_adapter(mini_emb[0], cache=False, **kwargs)


def test_finetune_trains_a_copy_and_caches_it(model, mini, tmp_path, monkeypatch):
    monkeypatch.setenv("MRL_CACHE_DIR", str(tmp_path))
    before = {name: p.detach().clone() for name, p in model.st.named_parameters()}
    finetuned = finetune_matryoshka(model, mini, steps=2, batch_size=4, max_seq_length=32)
    tuned = finetuned.model
    assert not finetuned.from_cache and finetuned.train_seconds > 0 and tuned.trained_with_mrl
    assert tuned.name != model.name and finetuned.settings == FinetuneSettings(dims=(384, 256, 128, 64, 32, 16), steps=2,
                                                                               batch_size=4, max_seq_length=32)
    assert all(torch.equal(p, before[name]) for name, p in model.st.named_parameters()), "the loaded model is untouched"
    assert tuned.st.max_seq_length == model.st.max_seq_length, "encodes like the base model after training"
    texts = mini.docs[:3]
    moved = encode(tuned, texts, cache=False)
    assert not np.allclose(moved, encode(model, texts, cache=False), atol=1e-4)
    again = finetune_matryoshka(model, mini, settings=FinetuneSettings(steps=2, batch_size=4), max_seq_length=32)
    assert again.from_cache and again.model.name == tuned.name and again.train_seconds == finetuned.train_seconds
    np.testing.assert_allclose(encode(again.model, texts, cache=False), moved, atol=1e-5)
    with pytest.raises(TypeError, match="steps_=2 is not a setting of FinetuneSettings"):
        finetune_matryoshka(model, mini, steps_=2)


def test_evaluate_with_a_transform_keeps_one_scale(model, mini, mini_emb):
    rotation = fit_pca_rotation(mini_emb[0])
    table = evaluate(model, mini, dims=[384, 16], precisions=["float32"],
                     transform=lambda emb: rotate(emb, rotation)).set_index("dim")
    plain = evaluate(model, mini, dims=[384, 16], precisions=["float32"]).set_index("dim")
    assert table.loc[384, "pct_of_full"] == pytest.approx(100)  # a rotation changes nothing at full dimension
    assert table.loc[16, "ndcg@10"] > plain.loc[16, "ndcg@10"]
    assert table.loc[16, "pct_of_full"] == pytest.approx(100 * table.loc[16, "ndcg@10"] / plain.loc[384, "ndcg@10"])


def test_prepare_method_names_what_it_needs(model, mini):
    assert prepare_method("truncate", model, mini) == (model, None)
    with pytest.raises(ValueError, match="needs a train split"):
        prepare_method("adapter+train", model, mini)
    with pytest.raises(ValueError, match="method='svd' is not one of"):
        prepare_method("svd", model, mini)
    for method in ("adapter+train", "finetune"):  # training on the questions it is scored on would be a leak
        with pytest.raises(ValueError, match="shares queries"):
            prepare_method(method, model, mini, train=mini)


def test_cli_says_the_mini_corpus_has_no_train_split(capsys):
    with pytest.raises(SystemExit):
        main(["--model", "minilm", "eval", "--dataset", "mini", "--method", "adapter+train"])
    assert "split='train' has no judgements" in capsys.readouterr().err


def test_cli_eval_names_the_method(capsys):
    assert main(["--model", "minilm", "eval", "--dataset", "mini", "--method", "pca", "--dims", "384,32",
                 "--precision", "float32"]) == 0
    out = capsys.readouterr().out
    assert "method pca" in out
    full = [line for line in out.splitlines() if line.strip().startswith("384")]
    assert len(full) == 1 and "100.0" in full[0]
