"""`run_bench`: every configuration at every corpus size, against float32 flat search, in one run (notebook 08).

The corpus is drawn with `gaussian_like` from real embeddings (SciFact where it is reachable), so it
keeps their covariance; recall is measured on the real embeddings too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from ..checks import check_embeddings
from ..metrics import overlap_at_k
from ..search import float_index, search
from ..speed import gaussian_like, synthetic_corpus
from ..threads import limited_threads
from .blas import blas_effect
from .configurations import Config, configurations, funnel_fits
from .indexes import prepare
from .machine import load_average, machine_info, memory_bandwidth
from .measure import Step, measure_all, with_bound
from .results import SCHEMA_VERSION
from .settings import BenchSettings


def _exact_ids(docs: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return search(float_index(docs), queries, k)[1]


def measure_synthetic(corpus: np.ndarray, queries: np.ndarray, per_n: dict[int, list[Config]], s: BenchSettings,
                      read_gb_s: float, step: Step) -> list[dict[str, object]]:
    """The rows of every configuration at every N, on the first N vectors of `corpus`."""
    rows = []
    for n, configs in per_n.items():
        docs, cache = corpus[:n], {}
        with limited_threads(s.threads):
            exact = _exact_ids(docs, queries, s.k)
        prepared = {}
        for config in configs:
            prepared[config] = prepare(config, docs, queries, s.k, cache)
            step(f"N={n:,}: built {config.label}")
        measured = measure_all(prepared, exact, s, read_gb_s, lambda label, n=n: step(f"N={n:,}: {label}"))
        rows += [{"n": n, **row} for row in measured]
        del prepared, cache
    return rows


def measure_real(docs: np.ndarray, queries: np.ndarray, configs: list[Config], s: BenchSettings,
                 step: Step) -> list[dict[str, object]]:
    """recall@k against exact search of every configuration that fits the real corpus, on the real embeddings."""
    real, cache = [], {}
    with limited_threads(s.threads):
        exact = _exact_ids(docs, queries, s.k)
        for config in configs:
            if funnel_fits(config, len(docs)):
                prepared = prepare(config, docs, queries, s.k, cache)
                ids = prepared.run(prepared.queries)
                real.append({"key": config.key, "recall_at_k": overlap_at_k(ids, exact, s.k)})
            step(f"real embeddings: {config.label}")
    return real


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
    configs, machine, load_before = configurations(s, full_dim), machine_info(), load_average()
    per_n = {n: [config for config in configs if funnel_fits(config, n)] for n in s.n}
    steps = 3 + sum(len(c) + min(5, s.repeats) + 1 + s.batch_repeats for c in per_n.values()) + len(configs)
    bar = tqdm(total=steps, desc="bench", disable=not progress)

    def step(label: str) -> None:
        bar.set_postfix_str(label)
        bar.update()

    bandwidths = [memory_bandwidth(s.bandwidth_mb * 1e6)]
    step("memory bandwidth")
    corpus, queries = synthetic_corpus(real_docs, max(s.n), seed=s.seed), gaussian_like(real_docs, s.queries, 1000 * s.seed)
    step(f"drew {max(s.n):,} vectors")
    rows = measure_synthetic(corpus, queries, per_n, s, bandwidths[0]["read_gb_s"], step)
    real = measure_real(real_docs, real_queries, configs, s, step)
    bandwidths.append(memory_bandwidth(s.bandwidth_mb * 1e6))
    step("memory bandwidth, again")
    bar.close()
    # The bound uses the best bandwidth measured, at the start or at the end of the run.
    bandwidth = max(bandwidths, key=lambda b: b["read_gb_s"])
    rows = [with_bound(row, bandwidth["read_gb_s"]) for row in rows]
    return {
        "schema_version": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine,
        "load_average": {"before": load_before, "after": load_average()},
        "settings": asdict(s),
        "source": {"name": source, "model": model, "docs": len(real_docs), "queries": len(real_queries),
                   "full_dim": full_dim},
        "bandwidth": {**bandwidth, "read_gb_s_each": [b["read_gb_s"] for b in bandwidths]},
        "rows": rows,
        "real": real,
        "blas": blas_effect(corpus[:min(s.n)], queries, s.dims, max(s.batch_sizes), s.k, s.threads),
        "runtime_s": time.perf_counter() - started,
    }
