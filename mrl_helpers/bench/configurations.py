"""The ways to search a run compares: `Config`, with a stable `key` and a display `label`; `configurations` (nb 08).

A key ('float32-384', 'binary-384-pad64', 'binary-96-pad16-rescore1000', 'numpy-384') is made only of a
configuration's fields and never changes with the wording of a table; select rows with it (or with the
fields), never with a label ('binary 384 (64 B)', 'binary 96 (16 B) → float32 · 1000'), which is for people.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from .peers import semantic_search_faiss
from .settings import PEER_MAX_SHORTLIST, BenchSettings, parse_funnel

# FAISS has a specialised Hamming kernel only for codes of these sizes in bytes
# (faiss/utils/hamming_distance/hamdis-inl.h); other sizes take a generic, slower loop.
FAST_CODE_BYTES = (4, 8, 16, 20, 32, 64)


def fast_code_bytes(code_bytes: int) -> int:
    """The smallest code size with a specialised FAISS Hamming kernel that holds `code_bytes` (else itself)."""
    return next((size for size in FAST_CODE_BYTES if size >= code_bytes), code_bytes)


def natural_code_bytes(precision: str, dim: int) -> int:
    """Bytes per vector of a scan at `precision` without padding: float32 4·d, sq8 d, binary d/8."""
    return {"float32": 4 * dim, "sq8": dim, "binary": dim // 8}[precision]


def _given(value: object) -> object:
    """None for a missing field: None itself, or the NaN pandas puts in its place."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


@dataclass(frozen=True)
class Config:
    """One way to search: a flat scan, a funnel (scan, then rescore with full float32) or a peer library.

    >>> funnel = Config.scan("binary", 96, code_bytes=16).rescored(1000)
    >>> funnel.key, funnel.label
    ('binary-96-pad16-rescore1000', 'binary 96 (16 B) → float32 · 1000')
    >>> Config.from_row({"kind": "scan", "precision": "sq8", "dim": 384, "code_bytes": 384}).key
    'sq8-384'
    """

    kind: Literal["scan", "funnel", "peer"]
    precision: str  # of the scan, or of the funnel's first stage: float32, sq8 or binary
    dim: int
    code_bytes: int  # bytes per vector in the scanned index (binary: after padding)
    shortlist: int | None = None
    peer: str | None = None
    blas_for_one_query: bool = False  # time single queries on faiss's BLAS path (which `search` avoids)

    @classmethod
    def scan(cls, precision: str, dim: int, code_bytes: int | None = None, *,
             blas_for_one_query: bool = False) -> Config:
        """A flat scan; `code_bytes` defaults to `natural_code_bytes` (binary codes padded when it is larger)."""
        code_bytes = natural_code_bytes(precision, dim) if code_bytes is None else code_bytes
        return cls("scan", precision, dim, code_bytes, blas_for_one_query=blas_for_one_query)

    @classmethod
    def of_peer(cls, peer: str, dim: int, shortlist: int | None = None) -> Config:
        """NumPy's exact search, or sentence-transformers' binary search rescored from a `shortlist`."""
        precision = "float32" if peer == "numpy" else "binary"
        return cls("peer", precision, dim, natural_code_bytes(precision, dim), shortlist, peer)

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> Config:
        """The configuration a results row (a dict, or a row of `results_frame`) was measured with."""
        shortlist = _given(row.get("shortlist"))
        return cls(str(row["kind"]), str(row["precision"]), int(row["dim"]), int(row["code_bytes"]),
                   None if shortlist is None else int(shortlist), _given(row.get("peer")),
                   bool(row.get("blas_for_one_query", False)))

    def rescored(self, shortlist: int) -> Config:
        """The funnel that starts with this scan and rescores `shortlist` candidates with full float32."""
        return replace(self, kind="funnel", shortlist=shortlist, blas_for_one_query=False)

    @property
    def first_stage(self) -> Config | None:
        """The scan a funnel starts with (a scan is its own first stage; a peer has none)."""
        return None if self.kind == "peer" else replace(self, kind="scan", shortlist=None, blas_for_one_query=False)

    @property
    def padded(self) -> bool:
        """Binary codes padded with zero bytes to a size with a fast FAISS kernel."""
        return self.code_bytes != natural_code_bytes(self.precision, self.dim)

    @property
    def key(self) -> str:
        """The stable name of this configuration in results: 'binary-384-pad64', 'float32-96-rescore1000'."""
        if self.kind == "peer":
            return f"{self.peer}-{self.dim}" + (f"-rescore{self.shortlist}" if self.shortlist else "")
        key = f"{self.precision}-{self.dim}" + (f"-pad{self.code_bytes}" if self.padded else "")
        key += "-blas1" if self.blas_for_one_query else ""
        return key if self.kind == "scan" else f"{key}-rescore{self.shortlist}"

    @property
    def label(self) -> str:
        """A readable label for tables: 'binary 384 (64 B)', 'binary 96 (16 B) → float32 · 1000', 'numpy 384'."""
        if self.kind == "peer":
            return f"{self.peer} {self.dim}" + (f" ubinary + rescore · {self.shortlist}" if self.shortlist else "")
        label = f"{self.precision} {self.dim}" + (f" ({self.code_bytes} B)" if self.padded else "")
        label += " · BLAS for 1 query" if self.blas_for_one_query else ""
        return label if self.kind == "scan" else f"{label} → float32 · {self.shortlist}"


def baseline(full_dim: int) -> Config:
    """What every configuration is compared with: exact float32 flat search at the full dimension."""
    return Config.scan("float32", full_dim)


def configurations(settings: BenchSettings, full_dim: int) -> list[Config]:
    """Every configuration of a run (`settings` checked against `full_dim`), the baseline first."""
    s = settings
    paddings = {"fast": (True,), "none": (False,), "both": (True, False)}[s.binary_padding]

    def binary_sizes(dim: int, options: Sequence[bool]) -> list[int]:
        return sorted({fast_code_bytes(dim // 8) if pad else dim // 8 for pad in options}, reverse=True)

    out = [baseline(full_dim)]
    if "float32" in s.precisions:
        out += [Config.scan("float32", d) for d in s.dims if d != full_dim]
        out.append(Config.scan("float32", full_dim, blas_for_one_query=True))
    if "sq8" in s.precisions:
        out.append(Config.scan("sq8", full_dim))
    if "binary" in s.precisions:
        out += [Config.scan("binary", d, b) for d in s.dims for b in binary_sizes(d, paddings)]
    for spec in s.funnels:
        precision, dim = parse_funnel(spec, full_dim)
        first = Config.scan(precision, dim, binary_sizes(dim, paddings[:1])[0] if precision == "binary" else None)
        out += [first.rescored(shortlist) for shortlist in s.shortlists]
    if "numpy" in s.peers:
        out.append(Config.of_peer("numpy", full_dim))
    if "sentence-transformers" in s.peers and semantic_search_faiss() is not None:
        out += [Config.of_peer("sentence-transformers", full_dim, shortlist)
                for shortlist in s.shortlists if shortlist <= PEER_MAX_SHORTLIST]
    return out


def funnel_fits(config: Config, n: int) -> bool:
    """Whether `config` is measured on `n` documents: a funnel rescores at most a tenth of the corpus
    (rescoring more is no longer a funnel, and at a shortlist of everything it is exact search)."""
    return config.shortlist is None or 10 * config.shortlist <= n
