"""Speed and memory at scale: every dimension, precision and funnel against float32 flat search (notebook 08).

`run_bench` measures, in one run on this machine, each configuration against the baseline, an exact
float32 `IndexFlatIP` at the full dimension: single-query latency (median and p95, one thread), batch
throughput, index bytes, recall@10 against exact search, and the time an ideal scan would take at
the memory bandwidth measured in the same run. `bench_report` turns the results into tables, projections
and goals, and is the command line `python -m mrl_helpers bench`.

The corpus is drawn with `gaussian_like` from real embeddings (SciFact where it is reachable), so it
keeps their covariance; recall is measured on the real embeddings too.
"""

from __future__ import annotations

import math
import os
import platform
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Literal

import faiss
import numpy as np

from .checks import check_choice, check_embeddings, check_k
from .embedding import truncate
from .quantization import binarize, calibrate_int8, quantize_int8
from .search import BLAS_MIN_QUERIES, binary_index, float_index, funnel_search, search
from .speed import gaussian_like, median_seconds, synthetic_corpus

SCHEMA_VERSION = 1
# FAISS has a specialised Hamming kernel only for codes of these sizes in bytes
# (faiss/utils/hamming_distance/hamdis-inl.h); other sizes take a generic, slower loop.
FAST_CODE_BYTES = (4, 8, 16, 20, 32, 64)
# faiss's own rule: BLAS (matrix-matrix products) when n_queries * d >= this; one query never qualifies.
FAISS_BLAS_THRESHOLD = 128_000
PADDINGS = ("fast", "none", "both")
PEERS = ("numpy", "sentence-transformers")
SCAN_PRECISIONS = ("float32", "int8", "binary")
PEER_MAX_SHORTLIST = 1000  # sentence-transformers rescores by reconstructing candidates one by one in Python

Padding = Literal["fast", "none", "both"]


# ---------------------------------------------------------------------------------------------
# Settings


def _positive_ints(values: object, name: str) -> tuple[int, ...]:
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


@dataclass(frozen=True)
class BenchSettings:
    """What `run_bench` measures (notebook 08). `None` for `dims` or `funnels`: derived from the full dimension.

    `dims` defaults to the model's Matryoshka ladder, `funnels` to binary at full and at a quarter of
    the bits, and float32 at a quarter of the dimensions (the MRL paper's adaptive retrieval), all
    rescored with full-dimension float32. int8 is measured at the full dimension.
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
        n = _positive_ints(self.n, "n")
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
        shortlists = _positive_ints(self.shortlists, "shortlists")
        for shortlist in shortlists:
            if shortlist % k or shortlist <= k:
                raise ValueError(f"shortlists: {shortlist} must be a multiple of k={k} larger than k "
                                 "(a funnel keeps k × oversample candidates)")
        queries = check_k(self.queries, "queries")
        batch_sizes = _positive_ints(self.batch_sizes, "batch_sizes")
        if max(batch_sizes) > queries:
            raise ValueError(f"batch_sizes: {max(batch_sizes)} is larger than queries={queries}; "
                             "a batch is taken from the benchmark's queries")
        check_choice(self.binary_padding, PADDINGS, "binary_padding")
        for peer in self.peers:
            check_choice(peer, PEERS, "peers")
        checked = replace(self, n=n, precisions=precisions, shortlists=shortlists, batch_sizes=batch_sizes,
                          peers=tuple(self.peers), k=k, queries=queries)
        if full_dim is None:
            return checked
        dims = _positive_ints(self.dims if self.dims is not None else (ladder or (full_dim,)), "dims")
        for dim in dims:
            if dim > full_dim:
                raise ValueError(f"dims: {dim} is larger than the full dimension {full_dim}")
            if "binary" in precisions and dim % 8:
                raise ValueError(f"dims: {dim} is not a multiple of 8, which binary codes need (or leave out binary)")
        funnels = tuple(self.funnels) if self.funnels is not None else (
            f"binary@{full_dim}", f"binary@{full_dim // 4 // 8 * 8}", f"float32@{full_dim // 4}")
        for spec in funnels:
            parse_funnel(spec, full_dim)
        return replace(checked, dims=dims, funnels=funnels)


# ---------------------------------------------------------------------------------------------
# The machine


def memory_bandwidth(nbytes: float = 1e9, repeats: int = 3, block: float = 128e6) -> dict[str, float]:
    """Single-core memory bandwidth in GB/s, read from an array far larger than any cache (notebook 08).

    "read" sums the rows of one `block` of the array at a time (every byte read once, nothing
    written: the access pattern of a flat scan); "copy" copies a block of the first half onto the
    second half (bytes read + bytes written). Each is the best over every block and `repeats` passes:
    other work on the machine can only make a measurement slower, and short blocks are less often
    interrupted than one long pass. Blocks of 128 MB are four times the largest cache here (32 MB).
    """
    repeats = check_k(repeats, "repeats")
    width = 4096
    rows = max(2, int(nbytes) // (4 * width))
    data = np.ones((rows, width), dtype=np.float32)  # written once, so every page is really in RAM
    step = max(1, min(rows // 2, int(block) // (4 * width)))
    half = rows // 2
    read, copy = [], []
    with threads(1):
        for _ in range(repeats):
            for start in range(0, rows - step + 1, step):
                begin = time.perf_counter()
                data[start:start + step].sum(axis=0)
                read.append(time.perf_counter() - begin)
            for start in range(0, half - step + 1, step):
                begin = time.perf_counter()
                np.copyto(data[half + start:half + start + step], data[start:start + step])
                copy.append(time.perf_counter() - begin)
    block_bytes = step * width * 4
    return {"read_gb_s": block_bytes / min(read) / 1e9, "copy_gb_s": 2 * block_bytes / min(copy) / 1e9,
            "array_bytes": int(data.nbytes), "block_bytes": int(block_bytes)}


def machine_info() -> dict[str, object]:
    """What the figures were measured on: CPU, cores, RAM, library versions, load average."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        ram = None
    versions = {"python": platform.python_version(), "numpy": np.__version__, "faiss": faiss.__version__}
    try:
        import sentence_transformers

        versions["sentence_transformers"] = sentence_transformers.__version__
    except ImportError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_bytes": ram, "platform": platform.platform(),
            "faiss_simd": faiss.get_compile_options(), "versions": versions,
            "name": machine_name(cpu, os.cpu_count())}


def machine_name(cpu: str | None = None, cores: int | None = None) -> str:
    """A short file-name-safe name for this machine: 'amd-epyc-2-cores'."""
    if cpu is None:
        return str(machine_info()["name"])
    slug = re.sub(r"\(r\)|\(tm\)|cpu|processor|@.*", "", cpu.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", slug).strip("-") or "cpu"
    return f"{slug}-{cores}-cores"


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


@contextmanager
def threads(n: int) -> Iterator[None]:
    """Run FAISS (OpenMP) and every BLAS library with `n` threads, then restore what was set."""
    from threadpoolctl import threadpool_limits

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(check_k(n, "threads"))
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        faiss.omp_set_num_threads(before)


def faiss_rule_min_queries(dim: int) -> int:
    """The smallest batch faiss's own rule (n_queries × d ≥ 128,000) scores with BLAS at `dim` dimensions."""
    return math.ceil(FAISS_BLAS_THRESHOLD / check_k(dim, "dim"))


# ---------------------------------------------------------------------------------------------
# Configurations


def fast_code_bytes(code_bytes: int) -> int:
    """The smallest code size with a specialised FAISS Hamming kernel that holds `code_bytes` (else itself)."""
    return next((size for size in FAST_CODE_BYTES if size >= code_bytes), code_bytes)


def pad_codes(codes: np.ndarray, code_bytes: int) -> np.ndarray:
    """Append zero bytes to every code: equal bytes add 0 to every Hamming distance, so results are unchanged."""
    extra = code_bytes - codes.shape[1]
    if extra < 0:
        raise ValueError(f"code_bytes={code_bytes} is smaller than the codes' {codes.shape[1]} bytes")
    return np.ascontiguousarray(np.pad(codes, ((0, 0), (0, extra))) if extra else codes)


@dataclass(frozen=True)
class Config:
    """One way to search: a flat scan, a funnel (scan, then rescore with full float32) or a peer library."""

    kind: Literal["scan", "funnel", "peer"]
    precision: str  # of the scan, or of the funnel's first stage
    dim: int
    code_bytes: int  # bytes per vector in the scanned index (binary: after padding)
    shortlist: int | None = None
    peer: str | None = None
    blas_for_one_query: bool = False  # time single queries on faiss's BLAS path (which `search` avoids)

    @property
    def name(self) -> str:
        """A unique, readable label: 'binary 384 (64 B)', 'binary 96 → float32 · 1000', 'numpy 384'."""
        if self.kind == "peer":
            return f"{self.peer} {self.dim}" + (f" ubinary + rescore · {self.shortlist}" if self.shortlist else "")
        label = f"{self.precision} {self.dim}"
        if self.precision == "binary" and self.code_bytes != self.dim // 8:
            label += f" ({self.code_bytes} B)"
        if self.blas_for_one_query:
            label += " · BLAS for 1 query"
        return label if self.kind == "scan" else f"{label} → float32 · {self.shortlist}"


def configurations(settings: BenchSettings, full_dim: int) -> list[Config]:
    """Every configuration of a run, the baseline (float32 at full dimension) first."""
    s = settings
    paddings = {"fast": (True,), "none": (False,), "both": (True, False)}[s.binary_padding]

    def binary_sizes(dim: int, options: Sequence[bool]) -> list[int]:
        return sorted({fast_code_bytes(dim // 8) if pad else dim // 8 for pad in options}, reverse=True)

    out = [Config("scan", "float32", full_dim, 4 * full_dim)]
    if "float32" in s.precisions:
        out += [Config("scan", "float32", d, 4 * d) for d in s.dims if d != full_dim]
        out.append(Config("scan", "float32", full_dim, 4 * full_dim, blas_for_one_query=True))
    if "int8" in s.precisions:
        out.append(Config("scan", "int8", full_dim, full_dim))
    if "binary" in s.precisions:
        out += [Config("scan", "binary", d, b) for d in s.dims for b in binary_sizes(d, paddings)]
    for spec in s.funnels:
        precision, dim = parse_funnel(spec, full_dim)
        code = binary_sizes(dim, paddings[:1])[0] if precision == "binary" else 4 * dim
        out += [Config("funnel", precision, dim, code, shortlist) for shortlist in s.shortlists]
    if "numpy" in s.peers:
        out.append(Config("peer", "float32", full_dim, 4 * full_dim, peer="numpy"))
    if "sentence-transformers" in s.peers and _semantic_search_faiss() is not None:
        out += [Config("peer", "binary", full_dim, full_dim // 8, shortlist, "sentence-transformers")
                for shortlist in s.shortlists if shortlist <= PEER_MAX_SHORTLIST]
    return out


def _semantic_search_faiss() -> Callable | None:
    try:
        from sentence_transformers.util.quantization import semantic_search_faiss
    except ImportError:
        return None
    return semantic_search_faiss


def numpy_search(docs: np.ndarray, queries: np.ndarray, k: int, chunk: int = 16) -> np.ndarray:
    """The numpy peer: matmul, then argpartition for the top k, `chunk` queries at a time; ids (n_queries, k)."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        scores = queries[start:start + chunk] @ docs.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
        out[start:start + chunk] = np.take_along_axis(top, order, 1)
    return out


def int8_index(docs: np.ndarray) -> faiss.IndexScalarQuantizer:
    """`quantize_int8` codes in FAISS's 8-bit scalar quantizer: d bytes per vector, scanned by its int8 kernel.

    The index holds exactly the int8 buckets of `quantize_int8` (shifted to 0..255) with the ranges of
    `calibrate_int8`; FAISS scores a float query against each bucket's centre.
    """
    ranges = calibrate_int8(docs)
    span = ranges[1] - ranges[0]
    index = faiss.IndexScalarQuantizer(docs.shape[1], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    faiss.copy_array_to_vector(np.concatenate([ranges[0], np.where(span == 0, 255, span)]).astype(np.float32),
                               index.sq.trained)
    index.is_trained = True
    index.add_sa_codes((quantize_int8(docs, ranges).astype(np.int16) + 128).astype(np.uint8))
    return index


@dataclass
class Prepared:
    """A configuration built over one corpus: `run(queries)` returns ids; queries are prepared beforehand."""

    run: Callable[[tuple[np.ndarray, ...]], np.ndarray]
    queries: tuple[np.ndarray, ...]  # row-aligned arrays: what `run` takes (truncated, binarized...)
    index_bytes: int  # what must be in RAM to scan
    rescore_bytes: int  # full float vectors the funnel rescores with (in RAM here; could be on disk)
    scan_bytes: int  # bytes one query reads: the scanned index plus the rescored candidates

    def rows(self, rows: slice | int) -> tuple[np.ndarray, ...]:
        rows = slice(rows, rows + 1) if isinstance(rows, int) else rows
        return tuple(q[rows] for q in self.queries)


def scan_index(precision: str, dim: int, code_bytes: int, docs: np.ndarray) -> tuple[faiss.Index, Callable]:
    """The flat index a scan (or a funnel's first stage) searches, and how to turn full queries into its input."""
    small = truncate(docs, dim)
    if precision == "float32":
        return float_index(small), lambda q: truncate(q, dim)
    if precision == "int8":
        return int8_index(small), lambda q: truncate(q, dim)
    return binary_index(pad_codes(binarize(small), code_bytes)), lambda q: pad_codes(binarize(truncate(q, dim)), code_bytes)


def prepare(config: Config, docs: np.ndarray, queries: np.ndarray, k: int, cache: dict | None = None) -> Prepared:
    """Build `config`'s index over `docs` (unit float32 rows at full dimension) and prepare `queries`.

    Preparing a query (truncating, binarizing) is left out of the timings: it is the same few
    microseconds for every configuration, and the model's encoding dwarfs it. `cache` (a dict) keeps
    the indexes built, so configurations that scan the same index (a scan and the funnels it starts) share it.
    """
    n, full_dim = docs.shape
    if config.kind == "peer" and config.peer == "numpy":
        return Prepared(lambda q: numpy_search(docs, q[0], k), (queries,), docs.nbytes, 0, docs.nbytes)
    cache = {} if cache is None else cache
    if config.kind == "peer":
        key = ("ubinary", full_dim, id(docs), n)
        if key not in cache:
            cache[key] = binary_index(binarize(docs))
        index = cache[key]
        semantic_search_faiss = _semantic_search_faiss()
        multiplier = config.shortlist // k

        def run_peer(q: tuple[np.ndarray, ...]) -> np.ndarray:
            hits, _ = semantic_search_faiss(q[0], corpus_index=index, corpus_precision="ubinary", top_k=k,
                                            rescore=True, rescore_multiplier=multiplier)
            return np.array([[hit["corpus_id"] for hit in row] for row in hits], dtype=np.int64)

        index_bytes = n * index.code_size
        return Prepared(run_peer, (queries,), index_bytes, 0, index_bytes + config.shortlist * index.code_size)

    key = (config.precision, config.dim, config.code_bytes, id(docs), n)
    if key not in cache:
        cache[key] = scan_index(config.precision, config.dim, config.code_bytes, docs)
    index, transform = cache[key]
    index_bytes = index.ntotal * index.code_size
    if config.kind == "scan":
        blas_min_queries = 1 if config.blas_for_one_query else BLAS_MIN_QUERIES
        return Prepared(lambda q: search(index, q[0], k, blas_min_queries)[1], (transform(queries),),
                        index_bytes, 0, index_bytes)
    oversample = config.shortlist // k
    return Prepared(lambda q: funnel_search(index, q[0], q[1], docs, k, oversample)[1], (transform(queries), queries),
                    index_bytes, docs.nbytes,
                    index_bytes + min(config.shortlist, n) * 4 * full_dim)


def funnel_fits(config: Config, n: int) -> bool:
    """Whether `config` is measured on `n` documents: a funnel rescores at most a tenth of the corpus
    (rescoring more is no longer a funnel, and at a shortlist of everything it is exact search)."""
    return config.shortlist is None or 10 * config.shortlist <= n


def recall_at_k(ids: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of the exact top k found in `ids`, row by row (k = the width of `exact`)."""
    return float(np.mean([len(set(a[a >= 0]) & set(b)) / len(b) for a, b in zip(ids, exact)]))


def measure_all(prepared: dict[Config, Prepared], exact: np.ndarray, settings: BenchSettings, read_gb_s: float,
                step: Callable[[str], None] = lambda _: None) -> list[dict[str, object]]:
    """Time every prepared configuration and score its recall: one row each.

    Timings are taken in rounds over all the configurations, in a new random order each round, so a
    burst of load from elsewhere on the machine slows them all alike instead of one of them. Single
    queries run on one thread; batches on `settings.threads` threads with the package's BLAS rule.
    The first run of a batch of every query gives the recall (and, when the largest batch holds every
    query, one of its timings). `blas_for_one_query` configs are not timed in batches: a batch takes
    the baseline's path.
    """
    s, rng = settings, np.random.default_rng(settings.seed)
    configs = list(prepared)
    rounds = min(5, s.repeats)
    single: dict[Config, list[float]] = {config: [] for config in configs}
    with threads(1):
        for config in configs:  # warm up: the first searches of a new index touch its memory for the first time
            for i in range(2):
                prepared[config].run(prepared[config].rows(i))
        for r in range(rounds):
            for i in rng.permutation(len(configs)):
                config, p = configs[i], prepared[configs[i]]
                count = s.repeats // rounds + (r < s.repeats % rounds)
                for _ in range(count):
                    query = p.rows(len(single[config]) % len(p.queries[0]))
                    start = time.perf_counter()
                    p.run(query)
                    single[config].append(time.perf_counter() - start)
            step(f"single queries, round {r + 1} of {rounds}")

    ids: dict[Config, np.ndarray] = {}
    batch_times: dict[Config, dict[int, list[float]]] = {config: {b: [] for b in s.batch_sizes} for config in configs}
    with threads(s.threads):
        for config in configs:
            start = time.perf_counter()
            ids[config] = prepared[config].run(prepared[config].rows(slice(None)))
            if len(exact) in s.batch_sizes:
                batch_times[config][len(exact)].append(time.perf_counter() - start)
        step("recall")
        for r in range(s.batch_repeats):
            for i in rng.permutation(len(configs)):
                config, p = configs[i], prepared[configs[i]]
                for batch in () if config.blas_for_one_query else s.batch_sizes:
                    if len(batch_times[config][batch]) < s.batch_repeats:
                        queries = p.rows(slice(0, batch))
                        start = time.perf_counter()
                        p.run(queries)
                        batch_times[config][batch].append(time.perf_counter() - start)
            step(f"batches, round {r + 1} of {s.batch_repeats}")

    rows = []
    for config in configs:
        p, seconds = prepared[config], np.array(single[config])
        median, bound = float(np.median(seconds)), p.scan_bytes / (read_gb_s * 1e9)
        throughput = {} if config.blas_for_one_query else {
            str(b): b / float(np.median(times)) for b, times in batch_times[config].items()}
        rows.append({
            "config": config.name, "kind": config.kind, "precision": config.precision, "dim": config.dim,
            "code_bytes": config.code_bytes, "shortlist": config.shortlist, "peer": config.peer,
            "blas_for_one_query": config.blas_for_one_query,
            "index_bytes": p.index_bytes, "rescore_bytes": p.rescore_bytes, "scan_bytes": p.scan_bytes,
            "latency_median_s": median, "latency_p95_s": float(np.percentile(seconds, 95)),
            "throughput_qps": throughput, "recall_at_k": recall_at_k(ids[config], exact),
            "bound_s": bound, "pct_of_bound": 100 * bound / median,
        })
    return rows


# ---------------------------------------------------------------------------------------------
# The run


def run_bench(
    real_docs: np.ndarray,
    real_queries: np.ndarray,
    settings: BenchSettings | None = None,
    *,
    ladder: Sequence[int] | None = None,
    source: str = "",
    model: str = "",
    progress: bool = True,
) -> dict[str, object]:
    """Measure every configuration at every N against float32 flat search at full dimension (notebook 08).

    `real_docs` and `real_queries` are unit-length embeddings at full dimension: the synthetic corpus
    and queries are drawn from a Gaussian with the documents' covariance, and recall is also measured
    on the real embeddings. `ladder` gives the default `dims` (the model's Matryoshka dimensions).
    Returns a JSON-ready dict; see `results_table` and `save_results`.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    real_docs, real_queries = check_embeddings(real_docs, "real_docs"), check_embeddings(real_queries, "real_queries")
    full_dim = real_docs.shape[1]
    if real_queries.shape[1] != full_dim:
        raise ValueError(f"real_queries have dim={real_queries.shape[1]} but real_docs have dim={full_dim}")
    s = (settings or BenchSettings()).checked(full_dim, ladder)
    configs = configurations(s, full_dim)
    machine = machine_info()
    load_before = load_average()
    per_n = {n: [config for config in configs if funnel_fits(config, n)] for n in s.n}
    steps_per_n = min(5, s.repeats) + 1 + s.batch_repeats
    bar = tqdm(total=3 + sum(len(c) + steps_per_n for c in per_n.values()) + len(configs), desc="bench",
               disable=not progress)

    def step(label: str) -> None:
        bar.set_postfix_str(label)
        bar.update()

    bandwidths = [memory_bandwidth(s.bandwidth_mb * 1e6)]
    step("memory bandwidth")
    with threads(1):  # numpy's eigh is many times slower on two busy threads than on one
        corpus = synthetic_corpus(real_docs, max(s.n), s.seed)
        queries = gaussian_like(real_docs, s.queries, seed=1000 * s.seed)
    step(f"drew {max(s.n):,} vectors")

    rows = []
    for n in s.n:
        docs, cache = corpus[:n], {}
        with threads(s.threads):
            _, exact = search(float_index(docs), queries, s.k)
        prepared = {}
        for config in per_n[n]:
            prepared[config] = prepare(config, docs, queries, s.k, cache)
            step(f"N={n:,}: built {config.name}")
        measured = measure_all(prepared, exact, s, max(b["read_gb_s"] for b in bandwidths),
                               lambda label, n=n: step(f"N={n:,}: {label}"))
        rows += [{"n": n, **row} for row in measured]
        del prepared, cache

    real, cache = [], {}
    with threads(s.threads):
        _, exact = search(float_index(real_docs), real_queries, s.k)
        for config in configs:
            if funnel_fits(config, len(real_docs)):
                prepared = prepare(config, real_docs, real_queries, s.k, cache)
                real.append({"config": config.name, "recall_at_k": recall_at_k(prepared.run(prepared.queries), exact)})
            step(f"real embeddings: {config.name}")
    del cache
    bandwidths.append(memory_bandwidth(s.bandwidth_mb * 1e6))
    step("memory bandwidth, again")
    bar.close()
    # The bound uses the best bandwidth measured, at the start or at the end of the run.
    bandwidth = max(bandwidths, key=lambda b: b["read_gb_s"])
    if bandwidth is bandwidths[1]:
        for row in rows:
            row["bound_s"] = row["scan_bytes"] / (bandwidth["read_gb_s"] * 1e9)
            row["pct_of_bound"] = 100 * row["bound_s"] / row["latency_median_s"]
    bandwidth = {**bandwidth, "read_gb_s_each": [b["read_gb_s"] for b in bandwidths]}

    blas = blas_effect(corpus[:min(s.n)], queries, s.dims, max(s.batch_sizes), s.k, s.threads)
    return {
        "schema_version": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine,
        "load_average": {"before": load_before, "after": load_average()},
        "settings": asdict(s),
        "source": {"name": source, "model": model, "docs": len(real_docs), "queries": len(real_queries),
                   "full_dim": full_dim},
        "bandwidth": bandwidth,
        "rows": rows,
        "real": real,
        "blas": blas,
        "runtime_s": time.perf_counter() - started,
    }


def blas_effect(docs: np.ndarray, queries: np.ndarray, dims: Sequence[int], batch: int, k: int = 10,
                n_threads: int = 1) -> list[dict[str, object]]:
    """Batch throughput at each dimension with faiss's own BLAS rule and with the package's (notebook 08).

    faiss multiplies matrices (BLAS) only when n_queries × d ≥ 128,000, so a batch at a small dimension
    takes the one-query-at-a-time path; `search` uses BLAS from `BLAS_MIN_QUERIES` queries at any dimension.
    """
    out = []
    with threads(n_threads):
        for dim in dims:
            index, small = float_index(truncate(docs, dim)), truncate(queries[:batch], dim)
            row = {"dim": dim, "batch": len(small)}
            for label, rule in (("faiss_default", faiss_rule_min_queries(dim)), ("package", BLAS_MIN_QUERIES)):
                row[f"qps_{label}"] = len(small) / median_seconds(lambda: search(index, small, k, rule),
                                                                  repeats=3, warmup=1)
            out.append(row)
    return out


__all__ = [
    "FAISS_BLAS_THRESHOLD", "FAST_CODE_BYTES", "SCHEMA_VERSION", "BenchSettings", "Config", "blas_effect",
    "configurations", "faiss_rule_min_queries", "fast_code_bytes", "funnel_fits", "int8_index", "load_average",
    "machine_info", "machine_name", "memory_bandwidth", "numpy_search", "pad_codes", "prepare", "recall_at_k",
    "run_bench", "threads",
]
