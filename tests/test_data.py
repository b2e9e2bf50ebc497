import gzip
import shutil
from collections import Counter

from mrl_helpers import SEED_ANSWER, SEED_PASSAGES, SEED_QUESTION, load_beir
from mrl_helpers.data import mini_dir


def test_seed_example():
    assert len(SEED_PASSAGES) == 6 and SEED_QUESTION == "Where was Albert Einstein born?"
    assert "Ulm" in SEED_PASSAGES[SEED_ANSWER]


def test_mini_corpus_is_a_valid_beir_dataset(mini):
    assert 200 <= len(mini.docs) <= 400 and len(set(mini.doc_ids)) == len(mini.doc_ids)
    assert 80 <= len(mini.queries) <= 130
    topics = Counter(mini.topics)
    assert 12 <= len(topics) <= 18 and min(topics.values()) >= 10
    ids = set(mini.doc_ids)
    assert all(qrels and set(qrels) <= ids for qrels in mini.qrels.values())
    assert set(mini.qrels) == set(mini.query_ids)


def test_scifact_counts_match_beir(scifact):
    assert len(scifact.docs) == 5183 and len(scifact.queries) == 300
    assert sum(len(r) for r in scifact.qrels.values()) == 339
    assert scifact.topics is None


def test_train_split(scifact):
    train = load_beir("scifact", "train")
    assert len(train.queries) == 809 and not set(train.query_ids) & set(scifact.query_ids)


def test_plain_and_gzipped_corpus_read_alike(mini, tmp_path):
    folder = tmp_path / "scifact"
    shutil.copytree(mini_dir(), folder)
    with open(folder / "corpus.jsonl", "rb") as src, gzip.open(folder / "corpus.jsonl.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    (folder / "corpus.jsonl").unlink()
    from_gz = load_beir("scifact", data_dir=tmp_path)
    assert from_gz.docs == mini.docs and from_gz.qrels == mini.qrels
