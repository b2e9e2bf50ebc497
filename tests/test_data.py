import gzip
import shutil
from collections import Counter

import pytest

from mrl_helpers import (SEED_ANSWER, SEED_PASSAGES, SEED_QUESTION, load_beir, sample_corpus, scifact_or_mini, subset_corpus,
                         subset_queries)
from mrl_helpers.data import load_dataset, mini_dir


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


def test_subsets_keep_what_they_say(mini):
    queries = subset_queries(mini, [0, 2])
    assert queries.queries == [mini.queries[0], mini.queries[2]] and set(queries.qrels) == set(queries.query_ids)
    corpus = subset_corpus(mini, range(0, len(mini.docs), 2))
    assert corpus.docs == mini.docs[::2]
    assert all(d in set(corpus.doc_ids) for rels in corpus.qrels.values() for d in rels)
    assert set(corpus.qrels) == set(corpus.query_ids) and len(corpus.queries) < len(mini.queries)


def test_sample_corpus_keeps_every_relevant_document(mini):
    relevant = {d for rels in mini.qrels.values() for d in rels}
    smaller, rows = sample_corpus(mini, len(relevant) + 20, seed=0)
    assert len(smaller.docs) == len(relevant) + 20 == len(rows)
    assert relevant <= set(smaller.doc_ids) and list(rows) == sorted(rows)
    assert smaller.docs == [mini.docs[i] for i in rows] and smaller.topics == [mini.topics[i] for i in rows]
    assert smaller.qrels == mini.qrels and smaller.queries == mini.queries
    with pytest.raises(ValueError, match=f"n_docs={len(relevant) - 1} must be between {len(relevant)}"):
        sample_corpus(mini, len(relevant) - 1)
    with pytest.raises(ValueError, match="n_docs=100000"):
        sample_corpus(mini, 100_000)


def test_the_mini_corpus_has_only_a_test_split():
    assert load_dataset("mini", "test").name == "mini"
    with pytest.raises(ValueError, match=r"split='train' has no judgements .* available: \['test'\]"):
        load_dataset("mini", "train")


def test_scifact_or_mini_cuts_a_large_corpus_to_max_docs_keeping_every_judged_abstract(scifact, capsys):
    sample = scifact_or_mini(max_docs=400)
    assert len(sample.docs) == 400 and sample.query_ids == scifact.query_ids and sample.qrels == scifact.qrels
    assert "SciFact cut to 400 of its 5,183 abstracts" in capsys.readouterr().out
    assert scifact_or_mini(max_docs=len(scifact.docs)).docs == scifact.docs  # nothing to cut: the whole corpus
