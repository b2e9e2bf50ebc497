"""Measure speed at scale: synthetic corpora shaped like real embeddings, and timing (notebooks 04, 05 and 08)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .checks import check_embeddings, check_k
from .embedding import normalize
from .threads import limited_threads


def gaussian_like(emb: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """`n` unit vectors drawn from a Gaussian with the mean and covariance of the real embeddings `emb`.

    Isotropic noise would spread information evenly over the dimensions and hide everything
    Matryoshka truncation and binary codes exploit; this keeps the real structure.
    """
    emb = check_embeddings(emb)
    n = check_k(n, "n")
    rng = np.random.default_rng(seed)
    with limited_threads(1):  # BLAS threads on a small eigendecomposition mostly wait: 40x slower on a busy machine
        samples = rng.multivariate_normal(emb.mean(axis=0), np.cov(emb, rowvar=False), size=n, method="eigh")
    return normalize(samples.astype(np.float32))


def synthetic_corpus(real: np.ndarray, n: int, *, seed: int = 0, chunk: int = 50_000) -> np.ndarray:
    """`n` vectors from `gaussian_like(real)`, drawn `chunk` at a time to keep memory small (notebooks 04 and 08).

    Chunk i uses seed 1000·seed + i + 1, leaving 1000·seed for queries (`run_bench` draws them so), and
    a corpus of n vectors is the first n of any larger one drawn with the same seed and chunk.
    """
    n = check_k(n, "n")
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for i, start in enumerate(range(0, n, chunk)):
        stop = min(n, start + chunk)
        out[start:stop] = gaussian_like(real, stop - start, seed=1000 * seed + i + 1)
    return out


def median_seconds(fn: Callable[[], object], repeats: int = 20, warmup: int = 2) -> float:
    """Median wall time of `fn()` over `repeats` calls, after `warmup` calls that are not counted."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(check_k(repeats, "repeats")):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def format_bytes(nbytes: float) -> str:
    """Bytes in decimal units (1 MB = 1,000,000 bytes), as disk and cloud prices use them: '1.5 GB'."""
    scaled, unit = float(nbytes), "B"
    for bigger in ("kB", "MB", "GB", "TB"):
        if scaled < 1000:
            break
        scaled, unit = scaled / 1000, bigger
    return f"{scaled:,.0f} B" if unit == "B" else f"{scaled:,.1f} {unit}"
