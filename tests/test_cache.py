import numpy as np
import pytest

import mrl_helpers.cache as cache
from mrl_helpers.cache import atomic_file, cache_dir, cache_key


def test_an_interrupted_write_leaves_no_file_and_no_partial_one(tmp_path):
    path = tmp_path / "sub" / "emb.npy"
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(path) as file:
            file.write(b"half an array")
            raise KeyboardInterrupt
    assert list(tmp_path.rglob("*")) == [tmp_path / "sub"]
    with atomic_file(path) as file:
        np.save(file, np.arange(3))
    np.testing.assert_array_equal(np.load(path), np.arange(3))
    assert [p.name for p in path.parent.iterdir()] == ["emb.npy"]


def test_keys_change_with_the_library_versions(monkeypatch):
    key = cache_key("model", "text")
    monkeypatch.setattr(cache, "library_versions", lambda: "sentence-transformers 3.0.0, transformers 4.41.0, torch 2.1.0")
    assert cache_key("model", "text") != key


def test_cache_dir_honours_mrl_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MRL_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
