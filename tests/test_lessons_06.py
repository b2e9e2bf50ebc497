"""Facts notebook 06 shows and the explorer's tests (test_explorer.py) do not check: the real UMAP, rescoring's index.

test_explorer.py swaps UMAP for PCA to stay fast; here the real UMAP runs once, on the mini corpus at full
dimension with the offline default model (what notebook 06 draws offline), through the explorer's own geometry.
"""

from __future__ import annotations

import pytest

from mrl_helpers import SEED_QUESTION, bytes_per_vector, encode, explore, prepare_explorer
from mrl_helpers.explorer import geometry
from mrl_helpers.explorer.state import TRUST_NEIGHBOURS


def test_umap_keeps_more_neighbourhoods_than_pca_and_no_picture_keeps_them_all(mrl_model, mini):
    docs = encode(mrl_model, mini.docs, "document")
    neighbours = geometry.nearest_neighbours(docs, TRUST_NEIGHBOURS, "cosine")
    pictures = {"first two": docs[:, :2], "PCA": geometry.fit_pca_2d(docs).transform(docs),
                "UMAP": geometry.umap_2d(docs)}
    trust = {name: geometry.neighbour_preservation(neighbours, xy) for name, xy in pictures.items()}
    random_placement = TRUST_NEIGHBOURS / (len(mini.docs) - 1)
    assert trust["UMAP"] > trust["PCA"] > random_placement, trust
    assert max(trust.values()) < 1, trust


def test_rescoring_keeps_the_binary_index(model, mini):
    state = prepare_explorer(model, corpora=("mini",), projections=("PCA",), every_dim=False, progress=False)
    binary = explore(state, SEED_QUESTION, 64, "binary", k=5)
    rescored = explore(state, SEED_QUESTION, 64, "binary+rescore", k=5, oversample=4)
    assert rescored.index_bytes == binary.index_bytes == bytes_per_vector(64, "binary") * len(mini.docs)
    assert rescored.full_index_bytes == bytes_per_vector(model.full_dim, "float32") * len(mini.docs)
