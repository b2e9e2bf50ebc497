import pytest
from conftest import embedding_dimension

import mrl_helpers.models as models
from mrl_helpers import MINILM, NOMIC, dimension_ladder
from mrl_helpers.models import MINILM_MRL


def test_packaged_model_knows_itself(model):
    assert model.name == MINILM and model.full_dim == embedding_dimension(model.st) == 384
    assert model.matryoshka_dims == (384, 256, 128, 64, 32, 16)
    assert not model.trained_with_mrl and model.prompt("query") == ""


@pytest.mark.parametrize(("full", "ladder"), [(384, (384, 256, 128, 64, 32, 16)), (768, (768, 512, 256, 128, 64, 32, 16)),
                                              (256, (256, 128, 64, 32, 16))])
def test_dimension_ladder(full, ladder):
    assert dimension_ladder(full) == ladder


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a network call was made")

    monkeypatch.setattr(models, "urlopen", refuse)
    monkeypatch.delenv("MRL_MODEL", raising=False)


def test_auto_offline_without_cache_picks_the_packaged_matryoshka_model_without_network(no_network, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(models, "_nomic_is_cached", lambda: False)
    name, why = models.choose_model("auto")
    assert name == MINILM_MRL and "not reachable" in why


def test_auto_picks_nomic_when_cached(no_network, monkeypatch):
    monkeypatch.setattr(models, "_nomic_is_cached", lambda: True)
    assert models.choose_model("auto") == (NOMIC, "its files are in the Hugging Face cache")


def test_auto_picks_nomic_when_the_hub_answers(monkeypatch):
    monkeypatch.delenv("MRL_MODEL", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(models, "_nomic_is_cached", lambda: False)

    class Answer:
        status = 200
        def __enter__(self): return self
        def __exit__(self, *exc): return False

    monkeypatch.setattr(models, "urlopen", lambda url, timeout: Answer())
    assert models.choose_model("auto")[0] == NOMIC


def test_mrl_model_forces_a_choice(no_network, monkeypatch):
    monkeypatch.setenv("MRL_MODEL", "minilm")
    monkeypatch.setattr(models, "_nomic_is_cached", lambda: True)
    assert models.choose_model("auto") == (MINILM, "forced by MRL_MODEL")


def test_load_model_says_which_model_and_why(capsys, monkeypatch):
    monkeypatch.setenv("MRL_MODEL", "minilm")
    models.load_model("auto")
    assert capsys.readouterr().out.strip() == (
        "Model: sentence-transformers/all-MiniLM-L6-v2 (384 dimensions, not trained with Matryoshka loss); "
        "forced by MRL_MODEL; on cpu."
    )


def test_device_is_the_gpu_where_there_is_one(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert models.pick_device() == "cpu"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert models.pick_device() == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert models.pick_device() == "cuda"


def test_auto_falls_back_when_nomic_does_not_load(no_network, monkeypatch, capsys):
    monkeypatch.setattr(models, "choose_model", lambda name: (NOMIC, "the Hugging Face hub answers"))

    def cut_off(device="cpu"):
        raise OSError("Consistency check failed: file should be of size 547 MB but has size 12 MB")

    monkeypatch.setattr(models, "_load_nomic", cut_off)
    model = models.load_model("auto")
    assert model.name == MINILM_MRL and "did not load (Consistency check failed" in capsys.readouterr().out
    with pytest.raises(OSError, match="Consistency check failed"):  # asked for by name: no silent substitute
        models.load_model("nomic")
