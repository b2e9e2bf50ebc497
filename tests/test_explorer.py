"""The explorer's logic (mrl_helpers.explorer: geometry, state, prepare, explore, views), without widgets.

On the mini corpus, so it stays fast.

UMAP is swapped for PCA here (it compiles for tens of seconds in a fresh process); the real UMAP
runs when notebook 06 is executed, by nbmake and by the browser test.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from mrl_helpers import PRECISIONS, SEED_QUESTION, bytes_per_vector, evaluate, explore, prepare_explorer, retrieve
from mrl_helpers.explorer import geometry
from mrl_helpers.explorer.geometry import cosine_knn, nearest, nearest_neighbours, neighbour_preservation, slider_dims
from mrl_helpers.explorer.state import memoised, memoised_args
from mrl_helpers.explorer.views import (
    PALETTE, changed_props, choose_display_mode, group_styles, metrics_html, results_html, scatter_layout,
    scatter_trace_count, scatter_traces,
)


def fake_umap(emb, seed=0):
    """A cheap stand-in with UMAP's signature: the first two principal components."""
    centred = emb - emb.mean(axis=0)
    return (centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T).astype(np.float32)


@pytest.fixture(scope="module")
def state(model):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(geometry, "umap_2d", fake_umap)
        return prepare_explorer(model, corpora=("mini",), progress=False)


@pytest.fixture
def no_umap(monkeypatch):
    """Make any UMAP call fail: `explore` must only use what `prepare_explorer` computed."""

    def refuse(*args, **kwargs):
        raise AssertionError("UMAP ran outside prepare_explorer")

    monkeypatch.setattr(geometry, "umap_2d", refuse)


# --- small pure pieces ----------------------------------------------------------------------------


def test_slider_offers_every_multiple_of_8_and_the_ladder():
    dims = slider_dims(384, (384, 256, 128, 64, 32, 16))
    assert dims[0] == 8 and dims[-1] == 384 and len(dims) == 48
    assert all(d % 8 == 0 for d in dims) and {384, 256, 128, 64, 32, 16} <= set(dims)
    assert slider_dims(20, (20, 16)) == (8, 16, 20)  # a full dimension off the step is still offered


def test_nearest_prefers_the_larger_on_a_tie():
    assert nearest(120, (384, 256, 128, 64)) == 128
    assert nearest(96, (128, 64)) == 128
    assert nearest(8, (384, 16)) == 16


def test_memoised_computes_once_per_object_and_arguments():
    class Counter:
        def __init__(self):
            self._memo, self.calls = {}, 0

        @memoised
        def square(self, x):
            self.calls += 1
            return x * x

    a, b = Counter(), Counter()
    assert [a.square(3), a.square(3), a.square(4), b.square(3)] == [9, 9, 16, 9]
    assert a.calls == 2 and b.calls == 1 and sorted(memoised_args(a, "square")) == [(3,), (4,)]


def test_neighbour_preservation_is_one_for_a_faithful_picture_and_low_for_a_random_one(rng):
    xy = rng.standard_normal((300, 2)).astype(np.float32)
    assert neighbour_preservation(nearest_neighbours(xy, 10, "euclidean"), xy) == 1.0
    high = np.hstack([xy, np.zeros((300, 6), np.float32)])  # 8-D points that live in a 2-D plane
    high /= np.linalg.norm(high, axis=1, keepdims=True)
    random_xy = rng.standard_normal((300, 2)).astype(np.float32)
    assert neighbour_preservation(nearest_neighbours(high, 10, "cosine"), random_xy) < 0.15  # about 10/299
    with pytest.raises(ValueError, match="xy must have shape"):
        neighbour_preservation(nearest_neighbours(xy, 10, "euclidean"), xy[:10])
    with pytest.raises(ValueError, match="n_neighbors=300"):
        nearest_neighbours(xy, 300, "euclidean")
    with pytest.raises(ValueError, match="metric='manhattan'"):
        nearest_neighbours(xy, 3, "manhattan")


def test_nearest_neighbours_leave_out_the_point_itself(rng):
    emb = rng.standard_normal((50, 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    knn = nearest_neighbours(emb, 5, "cosine")
    assert knn.shape == (50, 5) and not (knn == np.arange(50)[:, None]).any()
    assert knn.base is None or knn.base.size == knn.size  # memoised: it must not keep the n × n array alive
    sims = emb @ emb.T
    np.fill_diagonal(sims, -np.inf)
    assert all(set(row) == set(np.argsort(-s)[:5]) for row, s in zip(knn, sims))


def test_cosine_knn_finds_what_scikit_learn_finds_itself_first(rng):
    from sklearn.neighbors import NearestNeighbors

    emb = rng.standard_normal((200, 16)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    idx, dist = cosine_knn(emb, 15)  # what umap_2d hands UMAP in place of its own exact search
    want_dist, want_idx = NearestNeighbors(n_neighbors=15, metric="cosine", algorithm="brute").fit(emb).kneighbors(emb)
    assert (idx[:, 0] == np.arange(200)).all() and (dist[:, 0] == 0).all()
    assert (idx == want_idx).all() and np.allclose(dist, want_dist, atol=1e-5)
    with pytest.raises(ValueError, match="n_neighbors=201"):
        cosine_knn(emb, 201)


@pytest.mark.parametrize("versions, expected", [
    (("8.1.9", "7.1.0", False, True), "figurewidget"),
    (("8.1.9", "7.1.0", True, True), "output"),  # Colab
    (("7.7.1", "5.24.1", False, True), "output"),  # ipywidgets 7
    (("8.1.9", "5.24.1", False, True), "output"),  # plotly 5: no FigureWidget for JupyterLab 4
    (("8.1.9", "6.0.0", False, False), "output"),  # no anywidget
])
def test_display_mode_is_chosen_from_the_environment_and_explained(versions, expected):
    mode, why = choose_display_mode(*versions)
    assert mode == expected and versions[0] in why and versions[1] in why


def test_changed_props_compares_arrays_and_nested_dicts_by_value():
    sent = {"x": np.array([1.0, 2.0]), "name": "a", "marker": {"color": ["#000", "#111"]}}
    assert changed_props(sent, {"x": np.array([1.0, 2.0]), "name": "a", "marker": {"color": ["#000", "#111"]}}) == {}
    changed = changed_props(sent, {"x": np.array([1.0, 3.0]), "name": "a", "marker": {"color": ["#000", "#222"]},
                                   "y": [1]})
    assert set(changed) == {"x", "marker", "y"}
    assert changed_props({"x": [None]}, {"x": [None]}) == {}
    assert set(changed_props({"x": [1, 2]}, {"x": [1, 2, 3]})) == {"x"}


# --- prepare and explore ----------------------------------------------------------------------------


def test_prepare_computes_umap_at_every_ladder_dimension(state, model):
    corpus = state.corpora["mini"]
    assert state.ladder == tuple(sorted(model.matryoshka_dims, reverse=True))
    assert corpus.umap_dims == state.ladder
    assert {d for p, d in memoised_args(corpus, "xy") if p == "UMAP"} == set(state.ladder)  # UMAP at the ladder only
    assert {d for p, d in memoised_args(corpus, "xy") if p == "PCA"} == set(state.dims)  # cheap pictures everywhere
    ndcg = set(memoised_args(corpus, "_ndcg10"))
    assert all((d, p, None if p != "binary+rescore" else 4) in ndcg for d in state.dims for p in PRECISIONS)
    assert state.dims == slider_dims(model.full_dim, state.ladder)
    assert corpus.group_kind == "topic" and len(set(corpus.groups)) == len(set(corpus.dataset.topics))
    assert corpus.examples[0] == SEED_QUESTION and len(corpus.examples) == len(set(corpus.examples))


def test_full_dimension_float32_is_its_own_reference(state, model, no_umap):
    r = explore(state, SEED_QUESTION, model.full_dim, "float32", k=5)
    assert r.overlap == 1.0 and [h.full_rank for h in r.hits] == [1, 2, 3, 4, 5]
    assert all(h.moved == 0 for h in r.hits) and r.ndcg10 == r.ndcg10_full
    assert list(r.table()["rank at full float32"]) == [1, 2, 3, 4, 5]


def test_the_seed_question_finds_both_einstein_passages(state, model, mini):
    r = explore(state, SEED_QUESTION, model.full_dim, k=3)
    assert sum("Einstein" in h.title for h in r.hits) == 2 and "Einstein" in r.hits[0].title


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("dim", [384, 64, 24])
def test_explore_ranks_as_retrieve_does(state, mini_emb, mini, precision, dim):
    """The explorer's results, from its prepared state, must equal `retrieve`'s from the embeddings alone."""
    docs, queries = mini_emb
    for i in (0, 7, 42):
        expected_scores, expected_ids = retrieve(docs, queries[i:i + 1], dim, precision, k=8, oversample=3)
        r = explore(state, mini.queries[i], dim, precision, k=8, oversample=3)
        assert r.ids == list(expected_ids[0])
        np.testing.assert_allclose([h.score for h in r.hits], expected_scores[0], rtol=1e-5, atol=1e-4)
        assert np.allclose(state.query_embedding(mini.queries[i])[0], queries[i:i + 1], atol=1e-5)


def test_ndcg_at_full_dimension_equals_evaluate(state, model, mini):
    table = evaluate(model, mini, [model.full_dim], ["float32"])
    assert state.corpora["mini"].ndcg10(model.full_dim, "float32", 4) == pytest.approx(table["ndcg@10"][0], abs=1e-9)


def test_memory_numbers(state, no_umap):
    r = explore(state, SEED_QUESTION, 64, "binary", k=5)
    n = len(state.corpora["mini"].dataset.docs)
    assert r.bytes_per_vector == bytes_per_vector(64, "binary") == 8
    assert r.index_bytes == 8 * n and r.full_index_bytes == 4 * 384 * n
    assert r.score_label == "−Hamming distance" and all(float(h.score).is_integer() for h in r.hits)


def test_moved_compares_with_the_full_ranking(state):
    r = explore(state, SEED_QUESTION, 16, "binary", k=10)
    assert all(h.moved == h.full_rank - h.rank for h in r.hits)
    docs = state.corpora["mini"].doc_emb  # the reference, by hand: every cosine at full dimension, best first
    reference = list(np.argsort(-(docs @ state.query_embedding(SEED_QUESTION)[0][0])))
    assert [h.full_rank for h in r.hits] == [reference.index(i) + 1 for i in r.ids]
    assert r.overlap == pytest.approx(len(set(r.ids) & set(reference[:10])) / 10)


def test_umap_off_the_ladder_snaps_to_the_nearest_precomputed_dimension(state, no_umap):
    r = explore(state, SEED_QUESTION, 120, "float32", k=5, projection="UMAP")
    assert r.projected_dim == 128 and r.xy is state.corpora["mini"].xy("UMAP", 128)
    assert any("shows the picture at 128" in note for note in r.notes)
    np.testing.assert_allclose(r.query_xy, r.xy[r.ids].mean(axis=0), rtol=1e-5)
    assert r.query_placement.startswith("at the mean of its top 5")
    on_ladder = explore(state, SEED_QUESTION, 128, projection="UMAP")
    assert on_ladder.projected_dim == 128 and not any("shows the picture" in n for n in on_ladder.notes)


@pytest.mark.parametrize("projection", ["first two", "PCA"])
def test_a_document_used_as_query_lands_on_itself(state, mini, projection, no_umap):
    """all-MiniLM-L6-v2 has no query prompt, so a document's text as a query embeds to the document."""
    r = explore(state, mini.docs[3], 200, projection=projection)
    assert r.hits[0].doc == 3 and r.query_placement == "exact" and r.projected_dim == 200
    np.testing.assert_allclose(r.query_xy, r.xy[3], atol=1e-4)


def test_query_embedding_is_memoised(state):
    text = "Which bird cannot fly but swims well?"
    first = explore(state, text, 64)
    again = explore(state, text, 128, "int8")
    assert first.encode_s is not None and again.encode_s is None
    assert explore(state, text, 64).xy is first.xy  # the pictures are memoised too


def test_a_change_after_prepare_computes_nothing_new(state, no_umap):
    """Every picture, trust score and nDCG@10 a slider move needs was made by `prepare_explorer` (indexes: per call)."""
    corpus = state.corpora["mini"]
    explore(state, SEED_QUESTION, 64)  # the question's embedding and reference ranking, kept by the state
    before = set(corpus._memo)
    for dim in (384, 200, 64, 16):
        for precision in PRECISIONS:
            for projection in state.projections:
                explore(state, SEED_QUESTION, dim, precision, k=7, projection=projection)
    assert set(corpus._memo) == before


def test_trust_is_a_share_and_beats_random_placement_with_pca(state, model):
    for projection in ("first two", "PCA", "UMAP"):
        r = explore(state, SEED_QUESTION, model.full_dim, projection=projection)
        assert 0.0 <= r.trust <= 1.0
    pca = explore(state, SEED_QUESTION, model.full_dim, projection="PCA")
    assert pca.trust > 2 * pca.trust_random and pca.trust_random == pytest.approx(10 / 269)


def test_a_change_is_fast(state):
    """A regression guard (100 × the usual time), not a benchmark: e.g. UMAP in a callback would break it."""
    settings = [(d, p) for d in (384, 256, 120, 64, 16) for p in PRECISIONS]
    seconds = []
    for dim, precision in settings:
        start = time.perf_counter()
        explore(state, SEED_QUESTION, dim, precision, projection="UMAP")
        seconds.append(time.perf_counter() - start)
    assert np.median(seconds) < 0.5


@pytest.mark.parametrize("kwargs, error, match", [
    ({"query": ""}, ValueError, "query='' is empty"),
    ({"query": 42}, TypeError, "query=42 must be a string"),
    ({"dim": 0}, ValueError, "dim=0 must be between 1 and the full dimension 384"),
    ({"dim": 385}, ValueError, "dim=385"),
    ({"dim": 64.0}, TypeError, "dim=64.0 must be an integer"),
    ({"dim": 20, "precision": "binary"}, ValueError, "dim=20 must be a multiple of 8 for precision='binary'"),
    ({"precision": "float16"}, ValueError, "precision='float16' is not one of 'float32', 'int8'"),
    ({"k": 0}, ValueError, "k=0 must be a positive integer"),
    ({"oversample": 0}, ValueError, "oversample=0 must be a positive integer"),
    ({"projection": "t-SNE"}, ValueError, "projection='t-SNE' is not one of 'first two', 'PCA', 'UMAP'"),
    ({"corpus": "scidocs"}, ValueError, "corpus='scidocs' is not one of 'mini'"),
])
def test_bad_input_names_the_parameter_the_value_and_what_is_allowed(state, kwargs, error, match):
    args = {"query": SEED_QUESTION, "dim": 64, **kwargs}
    with pytest.raises(error, match=match):
        explore(state, **args)


def test_prepare_refuses_unknown_names(model):
    with pytest.raises(ValueError, match="corpora='msmarco' is not one of 'mini', 'scifact'"):
        prepare_explorer(model, corpora=("msmarco",))
    with pytest.raises(ValueError, match="projections='tsne'"):
        prepare_explorer(model, projections=("tsne",))


@pytest.mark.parametrize("data_dir", [None, "an empty folder"])
def test_without_a_local_scifact_only_the_mini_corpus_is_offered_and_why(model, monkeypatch, tmp_path, data_dir):
    if data_dir is None:
        monkeypatch.delenv("MRL_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("MRL_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(geometry, "umap_2d", fake_umap)
    s = prepare_explorer(model, projections=("PCA", "UMAP"), every_dim=False, progress=False)
    assert list(s.corpora) == ["mini"] and "needs a local copy of SciFact in $MRL_DATA_DIR/scifact" in s.notes[0]
    with pytest.raises(ValueError, match="projection='first two' is not one of 'PCA', 'UMAP'"):
        explore(s, SEED_QUESTION, 64, projection="first two")


def test_scifact_subset(model, scifact, monkeypatch):
    monkeypatch.setattr(geometry, "umap_2d", fake_umap)
    s = prepare_explorer(model, corpora=("scifact",), scifact_docs=800, every_dim=False, progress=False)
    corpus = s.corpora["scifact"]
    relevant = {d for rels in scifact.qrels.values() for d in rels}
    assert len(corpus.dataset.docs) == 800 == corpus.doc_emb.shape[0] and relevant <= set(corpus.dataset.doc_ids)
    assert corpus.group_kind == "k-means cluster" and len(set(corpus.groups)) == 8
    for name in set(corpus.groups):  # each cluster is named by words that its documents' titles use
        titles = " ".join(t for t, g in zip(corpus.dataset.titles, corpus.groups) if g == name).lower()
        assert len(name.split(", ")) == 3 and all(word in titles for word in name.split(", ")), name
    r = explore(s, corpus.examples[0], 128, "binary+rescore", corpus="scifact")
    assert r.n_queries == len(scifact.queries) and 0 < r.ndcg10 <= 1 and "800 documents" in r.corpus_label


# --- what the widgets show ----------------------------------------------------------------------------


def test_results_html_has_one_row_per_hit_and_escapes_text(state):
    r = explore(state, SEED_QUESTION, 64, "int8", k=4)
    page = results_html(r)
    assert page.count('class="mrl-hit"') == 4 and 'class="mrl-results"' in page and "int8 dot product" in page
    assert "table-layout:fixed" in page and page.count("<col ") == 5  # fixed column widths: the table never jumps
    assert '<th title="rank of the same document at full dimension in float32' in page and ">full-dim rank<" in page
    evil = dataclasses.replace(r, hits=[dataclasses.replace(r.hits[0], title="<script>alert(1)</script>")])
    assert "<script>" not in results_html(evil) and "&lt;script&gt;" in results_html(evil)


def test_metrics_html_shows_every_number(state):
    r = explore(state, SEED_QUESTION, 72, "binary+rescore", k=5, oversample=3)
    page = metrics_html(r)
    for name in ("setting", "overlap", "ndcg", "bytes", "latency", "trust"):
        assert f'data-metric="{name}"' in page
    assert "72 dimensions (between rungs)" in page and "shortlist 3× k" in page
    assert f"{r.bytes_per_vector:,} bytes per vector" in page and "9 bytes per vector" in page


def test_group_styles_tell_every_topic_apart_largest_first():
    groups = ["a"] * 3 + [f"t{i}" for i in range(14)] + ["b"] * 2
    styles = group_styles(groups)
    assert list(styles)[:2] == ["a", "b"] and list(styles)[2:] == [f"t{i}" for i in range(14)]  # by size, then order
    assert len(set(styles.values())) == 16 and len({colour for colour, _ in styles.values()}) == len(PALETTE) == 10
    assert len({colour.lower() for colour in PALETTE}) == 10


def test_scatter_traces_keep_their_count_and_order(state, no_umap):
    n_slots = 20
    for dim, k, projection in [(384, 5, "PCA"), (40, 12, "first two"), (200, 3, "UMAP")]:
        r = explore(state, SEED_QUESTION, dim, k=k, projection=projection)
        traces = scatter_traces(r, n_slots)
        assert len(traces) == scatter_trace_count(n_slots) == 3 + n_slots
        documents, top, query = traces[:3]
        assert len(documents["x"]) == len(r.xy) == len(documents["marker"]["color"])
        assert len(top["x"]) == k and top["text"][0] == "1" and len(query["x"]) == 1
        legend = traces[3:]
        assert sum(t["visible"] for t in legend) == len(set(r.groups))
        assert scatter_layout(r)["xaxis"]["title"]["text"].startswith(
            {"PCA": "PC", "first two": "dimension", "UMAP": "UMAP"}[projection])
    with pytest.raises(ValueError, match="n_group_slots=3 is fewer than the 15 topics"):
        scatter_traces(r, 3)
