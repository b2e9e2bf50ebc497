"""Every bad input gets a clear error that names the parameter, the value and what is allowed."""

import numpy as np
import pytest
from conftest import unit_rows

from mrl_helpers import (binarize, binary_index, encode, float_index, load_beir, load_model, rescore, retrieve, search,
                         truncate)
from mrl_helpers.data import load_dataset

EMB = unit_rows(np.random.default_rng(0), 10, 64)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda m: truncate(EMB, 0), ValueError, r"dim=0 must be between 1 and the full dimension 64"),
    (lambda m: truncate(EMB, -8), ValueError, r"dim=-8 must be between 1 and the full dimension 64"),
    (lambda m: truncate(EMB, 65), ValueError, r"dim=65 must be between 1 and the full dimension 64"),
    (lambda m: truncate(EMB, 32.0), TypeError, r"dim=32.0 must be an integer between 1 and 64"),
    (lambda m: truncate(EMB, "32"), TypeError, r"dim='32' must be an integer"),
    (lambda m: binarize(EMB[:, :12]), ValueError, r"dim=12 must be a multiple of 8"),
    (lambda m: retrieve(EMB, EMB, 20, "binary"), ValueError, r"dim=20 must be a multiple of 8"),
    (lambda m: search(float_index(EMB), EMB, 0), ValueError, r"k=0 must be a positive integer"),
    (lambda m: search(float_index(EMB), EMB, -3), ValueError, r"k=-3 must be a positive integer"),
    (lambda m: float_index(np.zeros((0, 64), np.float32)), ValueError, r"emb is empty \(0 vectors\)"),
    (lambda m: binary_index(np.zeros((0, 8), np.uint8)), ValueError, r"codes is empty \(0 vectors\)"),
    (lambda m: encode(m, [], cache=False), ValueError, r"texts is empty"),
    (lambda m: encode(m, ["ok", "  "], cache=False), ValueError, r"texts\[1\]='  ' is empty"),
    (lambda m: encode(m, ["ok", 42], cache=False), TypeError, r"texts\[1\]=42 must be a string, got int"),
    (lambda m: encode(m, "a single string", cache=False), TypeError, r"texts must be a list of strings, got str"),
    (lambda m: search(float_index(EMB), EMB[:, :32], 5), ValueError, r"queries have dim=32 but the index has dim=64"),
    (lambda m: search(binary_index(binarize(EMB)), binarize(EMB[:, :32]), 5), ValueError, r"codes of 64 bits"),
    (lambda m: rescore(EMB[:, :32], EMB, np.zeros((10, 3), int), 2), ValueError, r"queries have dim=32 but docs have dim=64"),
    (lambda m: float_index(np.where(np.eye(10, 64) > 0, np.nan, EMB)), ValueError, r"emb contains NaN or inf in 10 row"),
    (lambda m: truncate(np.full((2, 8), np.inf, np.float32), 4), ValueError, r"NaN or inf in 2 row"),
    (lambda m: search(float_index(EMB), np.full((1, 64), np.nan, np.float32), 3), ValueError, r"queries contains NaN"),
    (lambda m: encode(m, ["ok"], "passage", cache=False), ValueError, r"prompt_name='passage' is not one of 'query', 'document'"),
    (lambda m: load_model("bert-base"), ValueError, r"name='bert-base' is not one of"),
    (lambda m: load_dataset("imagenet"), ValueError, r"dataset='imagenet' is not one of 'mini', 'scifact'"),
    (lambda m: load_beir("scifact", data_dir="/nonexistent"), FileNotFoundError, r"data_dir='/nonexistent' has no folder 'scifact'"),
    (lambda m: retrieve(EMB, EMB, 64, "fp16"), ValueError, r"precision='fp16' is not one of 'float32', 'int8'"),
])
def test_bad_input_is_named(model, call, error, message):
    with pytest.raises(error, match=message):
        call(model)


def test_unknown_split_lists_the_available_ones(tmp_path):
    (tmp_path / "scifact" / "qrels").mkdir(parents=True)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        (tmp_path / "scifact" / name).write_text("")
    with pytest.raises(ValueError, match=r"split='dev' has no judgements .* available: \['test'\]"):
        load_beir("scifact", "dev", data_dir=tmp_path)
