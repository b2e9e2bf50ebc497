import faiss
import pytest
import torch
from threadpoolctl import threadpool_info

from mrl_helpers import limited_threads


def counts() -> tuple:
    return faiss.omp_get_max_threads(), torch.get_num_threads(), [p["num_threads"] for p in threadpool_info()]


def test_every_pool_is_limited_inside_and_restored_after_even_on_error():
    before = counts()
    with pytest.raises(RuntimeError):
        with limited_threads(1):
            faiss_threads, torch_threads, pools = counts()
            assert faiss_threads == torch_threads == 1 and set(pools) == {1}  # threadpoolctl's own reading
            raise RuntimeError("a failing cell")
    assert counts() == before


def test_the_thread_count_is_checked():
    with pytest.raises(ValueError, match="threads"):
        with limited_threads(0):
            pass
