"""Each configuration built over one corpus, ready to time: its index, its prepared queries, its bytes (notebook 08)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import faiss
import numpy as np

from ..embedding import truncate
from ..quantization import binarize, calibrate_int8, quantize_int8
from ..search import BLAS_MIN_QUERIES, binary_index, float_index, funnel_search, search
from .configurations import Config
from .peers import numpy_search, semantic_search_faiss


# sentence-transformers rescores by unpacking every query's shortlist to floats: 64 queries × 1,000 candidates ×
# 768 dimensions added 420 MB at once. Asked 8 queries at a time, it holds an eighth (one query when timed).
PEER_QUERIES = 8


def pad_codes(codes: np.ndarray, code_bytes: int) -> np.ndarray:
    """Append zero bytes to every code: equal bytes add 0 to every Hamming distance, so results are unchanged."""
    extra = code_bytes - codes.shape[1]
    if extra < 0:
        raise ValueError(f"code_bytes={code_bytes} is smaller than the codes' {codes.shape[1]} bytes")
    return np.ascontiguousarray(np.pad(codes, ((0, 0), (0, extra))) if extra else codes)


def sq8_index(docs: np.ndarray) -> faiss.IndexScalarQuantizer:
    """sq8: FAISS's 8-bit scalar quantizer holding the codes of `quantize_int8`, d bytes per vector.

    The index is trained on the two rows of `calibrate_int8` (faiss's min-max rule then keeps exactly those
    ranges) and holds the int8 buckets of `quantize_int8` shifted to 0..255: it is given each bucket's centre,
    which it encodes back to that bucket (this works on every faiss the package allows; `add_sa_codes` is
    missing from faiss 1.8's scalar quantizer). At search time FAISS decodes each byte to its bucket's centre
    and multiplies by the *float* query: unlike notebook 05's int8 (`make_searcher`), the query is never quantized.
    """
    ranges = calibrate_int8(docs)
    index = faiss.IndexScalarQuantizer(docs.shape[1], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    index.train(np.ascontiguousarray(ranges, dtype=np.float32))
    codes = (quantize_int8(docs, ranges).astype(np.int16) + 128).astype(np.uint8)
    index.add(index.sa_decode(codes))
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


def scan_index(config: Config, docs: np.ndarray) -> tuple[faiss.Index, Callable]:
    """The flat index `config`'s scan (or first stage) searches, and how to turn full queries into its input."""
    dim, code_bytes = config.dim, config.code_bytes
    small = truncate(docs, dim)
    if config.precision == "float32":
        return float_index(small), lambda q: truncate(q, dim)
    if config.precision == "sq8":
        return sq8_index(small), lambda q: truncate(q, dim)
    codes = pad_codes(binarize(small), code_bytes)
    return binary_index(codes), lambda q: pad_codes(binarize(truncate(q, dim)), code_bytes)


def _prepare_peer(config: Config, docs: np.ndarray, queries: np.ndarray, k: int, cache: dict) -> Prepared:
    if config.peer == "numpy":
        return Prepared(lambda q: numpy_search(docs, q[0], k), (queries,), docs.nbytes, 0, docs.nbytes)
    key = ("ubinary", docs.shape[1], id(docs), len(docs))
    if key not in cache:
        cache[key] = binary_index(binarize(docs))
    index, search_faiss, multiplier = cache[key], semantic_search_faiss(), config.shortlist // k

    def run_peer(q: tuple[np.ndarray, ...]) -> np.ndarray:
        ids = []
        for start in range(0, len(q[0]), PEER_QUERIES):
            hits, _ = search_faiss(q[0][start:start + PEER_QUERIES], corpus_index=index, corpus_precision="ubinary",
                                   top_k=k, rescore=True, rescore_multiplier=multiplier)
            ids += [[hit["corpus_id"] for hit in row] for row in hits]
        return np.array(ids, dtype=np.int64)

    index_bytes = len(docs) * index.code_size
    return Prepared(run_peer, (queries,), index_bytes, 0, index_bytes + config.shortlist * index.code_size)


def prepare(config: Config, docs: np.ndarray, queries: np.ndarray, k: int, cache: dict | None = None) -> Prepared:
    """Build `config`'s index over `docs` (unit float32 rows at full dimension) and prepare `queries`.

    Preparing a query (truncating, binarizing) is left out of the timings: it is the same few
    microseconds for every configuration, and the model's encoding dwarfs it. `cache` (a dict) keeps
    the indexes built, so configurations that scan the same index (a scan and the funnels it starts) share it.
    """
    cache = {} if cache is None else cache
    if config.kind == "peer":
        return _prepare_peer(config, docs, queries, k, cache)
    n, full_dim = docs.shape
    key = (config.first_stage, id(docs), n)
    if key not in cache:
        cache[key] = scan_index(config, docs)
    index, transform = cache[key]
    index_bytes = index.ntotal * index.code_size
    if config.kind == "scan":
        blas_min_queries = 1 if config.blas_for_one_query else BLAS_MIN_QUERIES
        return Prepared(lambda q: search(index, q[0], k, blas_min_queries=blas_min_queries)[1], (transform(queries),),
                        index_bytes, 0, index_bytes)
    oversample = config.shortlist // k
    return Prepared(lambda q: funnel_search(index, q[0], q[1], docs, k, oversample=oversample)[1], (transform(queries), queries),
                    index_bytes, docs.nbytes, index_bytes + min(config.shortlist, n) * 4 * full_dim)
