import re

import pytest

from mrl_helpers.__main__ import main


def test_tour_ranks_the_einstein_birth_passage_first_from_64_dimensions(capsys):
    assert main(["--model", "minilm", "tour"]) == 0
    out = capsys.readouterr().out
    float_part = out.split("binary, IndexBinaryFlat")[0]
    rows = re.findall(r"dim +(\d+) \( *\d+ bytes/vector\) (ok|--)", float_part)
    assert [int(d) for d, _ in rows] == [384, 256, 128, 64, 32, 16]
    assert all(mark == "ok" for d, mark in rows if int(d) >= 64)
    assert "48 bytes/vector" in out  # 384 bits


def test_eval_on_the_mini_corpus_prints_a_table(capsys):
    assert main(["--model", "minilm", "eval", "--dataset", "mini", "--dims", "384,64", "--precision", "float32,binary"]) == 0
    out = capsys.readouterr().out
    assert "ndcg@10" in out and "pct_of_full" in out
    assert len(re.findall(r"^\s*(384|64)\s+(float32|binary)\s", out, re.M)) == 4


@pytest.mark.parametrize(("argv", "message"), [
    (["eval", "--dims", "64,abc"], "--dims='64,abc' must be comma-separated integers"),
    (["eval", "--dataset", "imagenet"], "dataset='imagenet' is not one of"),
    (["eval", "--dims", "0"], "dim=0 must be between 1"),
    (["eval", "--precision", "fp16"], "precision='fp16' is not one of"),
])
def test_bad_arguments_are_named(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", "minilm", *argv])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
