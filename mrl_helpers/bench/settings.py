"""What a benchmark run measures: `BenchSettings`, its defaults, and the checks that name a bad option (notebook 08)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from ..checks import check_choice, check_k

PADDINGS = ("fast", "none", "both")
PEERS = ("numpy", "sentence-transformers")
# sq8 is FAISS's 8-bit scalar quantizer: it scores a *float* query against each stored byte's bucket centre.
# It is not notebook 05's int8 (`make_searcher`), which scores int8 queries against int8 documents.
SCAN_PRECISIONS = ("float32", "sq8", "binary")
PEER_MAX_SHORTLIST = 1000  # sentence-transformers rescores by reconstructing candidates one by one in Python

Padding = Literal["fast", "none", "both"]


def positive_ints(values: object, name: str) -> tuple[int, ...]:
    """A non-empty tuple of positive whole numbers, or a clear error naming `name`."""
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        values = (values,)
    if not isinstance(values, Sequence) or isinstance(values, str) or len(values) == 0:
        raise ValueError(f"{name}={values!r} must be a non-empty list of positive integers")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name}={tuple(values)!r}: {value!r} is not a positive integer")
    return tuple(int(v) for v in values)


def parse_funnel(spec: str, full_dim: int) -> tuple[str, int]:
    """'binary@96' -> ("binary", 96): the first stage of a funnel, rescored with full-dimension float32."""
    match = re.fullmatch(r"(binary|float32)@(\d+)", str(spec).strip())
    if not match:
        raise ValueError(f"funnels: {spec!r} must look like 'binary@{full_dim // 4}' or 'float32@64' "
                         "(first-stage precision binary or float32, @, its dimension)")
    precision, dim = match[1], int(match[2])
    if not 1 <= dim <= full_dim:
        raise ValueError(f"funnels: {spec!r} has dim={dim}; it must be between 1 and the full dimension {full_dim}")
    if precision == "binary" and dim % 8:
        raise ValueError(f"funnels: {spec!r} has dim={dim}; binary codes need a multiple of 8")
    return precision, dim


def default_funnels(full_dim: int) -> tuple[str, ...]:
    """Binary at full and at a quarter of the bits, float32 at a quarter of the dimensions (the MRL paper's)."""
    return f"binary@{full_dim}", f"binary@{full_dim // 4 // 8 * 8}", f"float32@{full_dim // 4}"


@dataclass(frozen=True)
class BenchSettings:
    """What `run_bench` measures (notebook 08). `None` for `dims` or `funnels`: derived from the full dimension.

    `dims` defaults to the model's Matryoshka ladder, `funnels` to `default_funnels`, all rescored with
    full-dimension float32. sq8 (FAISS's 8-bit scalar quantizer, float queries) is measured at the full dimension.
    """

    n: tuple[int, ...] = (10_000, 30_000, 100_000, 300_000, 1_000_000)
    dims: tuple[int, ...] | None = None
    precisions: tuple[str, ...] = SCAN_PRECISIONS
    funnels: tuple[str, ...] | None = None
    shortlists: tuple[int, ...] = (40, 100, 400, 1000, 4000, 10_000, 20_000, 40_000)
    batch_sizes: tuple[int, ...] = (16, 256)
    threads: int = 1
    repeats: int = 30
    batch_repeats: int = 2
    queries: int = 256
    k: int = 10
    binary_padding: Padding = "both"
    peers: tuple[str, ...] = PEERS
    bandwidth_mb: int = 1000
    seed: int = 0

    @classmethod
    def quick(cls, **changes: object) -> BenchSettings:
        """A run that finishes in under a minute on a busy 2-core machine (model loading aside)."""
        fast = dict(n=(10_000, 30_000), shortlists=(40, 200, 1000), batch_sizes=(64,), repeats=10,
                    batch_repeats=1, queries=64, bandwidth_mb=250)
        return cls(**{**fast, **changes})

    def checked(self, full_dim: int | None, ladder: Sequence[int] | None = None) -> BenchSettings:
        """Validate every option and fill in the defaults; errors name the option, the value and what is allowed.

        With `full_dim=None` the options that depend on the model (dims, funnels) are left unchecked.
        """
        k = check_k(self.k)
        for name in ("threads", "repeats", "batch_repeats", "bandwidth_mb"):
            check_k(getattr(self, name), name)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed={self.seed!r} must be a non-negative integer")
        precisions = tuple(self.precisions)
        if not precisions:
            raise ValueError(f"precisions is empty: give one or more of {', '.join(map(repr, SCAN_PRECISIONS))}")
        for precision in precisions:
            check_choice(precision, SCAN_PRECISIONS, "precisions")
        shortlists = positive_ints(self.shortlists, "shortlists")
        for shortlist in shortlists:
            if shortlist % k or shortlist <= k:
                raise ValueError(f"shortlists: {shortlist} must be a multiple of k={k} larger than k "
                                 "(a funnel keeps k × oversample candidates)")
        queries = check_k(self.queries, "queries")
        batch_sizes = positive_ints(self.batch_sizes, "batch_sizes")
        if max(batch_sizes) > queries:
            raise ValueError(f"batch_sizes: {max(batch_sizes)} is larger than queries={queries}; "
                             "a batch is taken from the benchmark's queries")
        check_choice(self.binary_padding, PADDINGS, "binary_padding")
        for peer in self.peers:
            check_choice(peer, PEERS, "peers")
        checked = replace(self, n=positive_ints(self.n, "n"), precisions=precisions, shortlists=shortlists,
                          batch_sizes=batch_sizes, peers=tuple(self.peers), k=k, queries=queries)
        return checked if full_dim is None else checked._with_model(full_dim, ladder)

    def _with_model(self, full_dim: int, ladder: Sequence[int] | None) -> BenchSettings:
        """`dims` and `funnels` checked against the model's full dimension (the ladder is the default `dims`)."""
        dims = positive_ints(self.dims if self.dims is not None else (ladder or (full_dim,)), "dims")
        for dim in dims:
            if dim > full_dim:
                raise ValueError(f"dims: {dim} is larger than the full dimension {full_dim}")
            if "binary" in self.precisions and dim % 8:
                raise ValueError(f"dims: {dim} is not a multiple of 8, which binary codes need (or leave out binary)")
        funnels = tuple(self.funnels) if self.funnels is not None else default_funnels(full_dim)
        for spec in funnels:
            parse_funnel(spec, full_dim)
        return replace(self, dims=dims, funnels=funnels)
