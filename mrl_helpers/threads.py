"""The one way the lab limits threads: every BLAS and OpenMP pool (NumPy, SciPy, FAISS) and torch, restored after."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

from .checks import check_k


@contextmanager
def limited_threads(n: int = 1) -> Iterator[None]:
    """Run the block with at most `n` threads in NumPy's, SciPy's and FAISS's pools and in torch; then restore them.

    Small computations (a search over a few thousand vectors, 384-wide matrices) do not share out well: on a
    busy machine (Binder, CI, a laptop running other things) threads waiting for each other can make them many
    times slower than one thread working alone. Benchmarks use it to compare settings on the same cores.
    """
    n = check_k(n, "threads")
    torch = sys.modules.get("torch")  # only when loaded: importing torch here would take seconds
    torch_threads = torch.get_num_threads() if torch else 0
    with threadpool_limits(limits=n):
        if torch:
            torch.set_num_threads(n)
        try:
            yield
        finally:
            if torch:
                torch.set_num_threads(torch_threads)
