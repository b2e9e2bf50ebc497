"""Timing prepared configurations fairly, and scoring their overlap with exact search: one row each (notebook 08)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..metrics import overlap_at_k
from ..threads import limited_threads
from .configurations import Config
from .indexes import Prepared
from .settings import BenchSettings

Step = Callable[[str], None]


def _timed(prepared: Prepared, rows: slice | int) -> float:
    queries = prepared.rows(rows)
    start = time.perf_counter()
    prepared.run(queries)
    return time.perf_counter() - start


def time_single_queries(prepared: dict[Config, Prepared], settings: BenchSettings, rng: np.random.Generator,
                        step: Step) -> dict[Config, list[float]]:
    """`settings.repeats` single-query times per configuration, on one thread, in rounds of random order."""
    configs, rounds = list(prepared), min(5, settings.repeats)
    single: dict[Config, list[float]] = {config: [] for config in configs}
    with limited_threads(1):
        for config in configs:  # warm up: the first searches of a new index touch its memory for the first time
            for i in range(2):
                prepared[config].run(prepared[config].rows(i))
        for r in range(rounds):
            for i in rng.permutation(len(configs)):
                config, p = configs[i], prepared[configs[i]]
                for _ in range(settings.repeats // rounds + (r < settings.repeats % rounds)):
                    single[config].append(_timed(p, len(single[config]) % len(p.queries[0])))
            step(f"single queries, round {r + 1} of {rounds}")
    return single


def time_batches(prepared: dict[Config, Prepared], settings: BenchSettings, rng: np.random.Generator,
                 step: Step) -> tuple[dict[Config, np.ndarray], dict[Config, dict[int, list[float]]]]:
    """The ids of a batch of every query (for the overlap), and batch times, on `settings.threads` threads.

    When the largest batch holds every query, the first run is one of its timings. `blas_for_one_query`
    configurations are not timed in batches: a batch takes the baseline's path.
    """
    s, configs = settings, list(prepared)
    ids: dict[Config, np.ndarray] = {}
    times: dict[Config, dict[int, list[float]]] = {config: {b: [] for b in s.batch_sizes} for config in configs}
    with limited_threads(s.threads):
        for config in configs:
            start = time.perf_counter()
            ids[config] = prepared[config].run(prepared[config].rows(slice(None)))
            if s.queries in s.batch_sizes:
                times[config][s.queries].append(time.perf_counter() - start)
        step("recall")
        for r in range(s.batch_repeats):
            for i in rng.permutation(len(configs)):
                config = configs[i]
                for batch in () if config.blas_for_one_query else s.batch_sizes:
                    if len(times[config][batch]) < s.batch_repeats:
                        times[config][batch].append(_timed(prepared[config], slice(0, batch)))
            step(f"batches, round {r + 1} of {s.batch_repeats}")
    return ids, times


def with_bound(row: dict[str, object], read_gb_s: float) -> dict[str, object]:
    """`row` with the ideal scan time of its bytes at `read_gb_s`, and its median latency as a share of that."""
    bound = row["scan_bytes"] / (read_gb_s * 1e9)
    return {**row, "bound_s": bound, "pct_of_bound": 100 * bound / row["latency_median_s"]}


def measure_all(prepared: dict[Config, Prepared], exact: np.ndarray, settings: BenchSettings, read_gb_s: float,
                step: Step = lambda _: None) -> list[dict[str, object]]:
    """Time every prepared configuration and score its recall@k against `exact` ids: one row each.

    Timings are taken in rounds over all the configurations, in a new random order each round, so a
    burst of load from elsewhere on the machine slows them all alike instead of one of them. Single
    queries run on one thread; batches on `settings.threads` threads with the package's BLAS rule.
    """
    rng = np.random.default_rng(settings.seed)
    single = time_single_queries(prepared, settings, rng, step)
    ids, batch_times = time_batches(prepared, settings, rng, step)
    rows = []
    for config, p in prepared.items():
        seconds = np.array(single[config])
        throughput = {} if config.blas_for_one_query else {
            str(b): b / float(np.median(times)) for b, times in batch_times[config].items()}
        rows.append(with_bound({
            "key": config.key, "label": config.label, "kind": config.kind, "precision": config.precision,
            "dim": config.dim, "code_bytes": config.code_bytes, "shortlist": config.shortlist, "peer": config.peer,
            "blas_for_one_query": config.blas_for_one_query,
            "index_bytes": p.index_bytes, "rescore_bytes": p.rescore_bytes, "scan_bytes": p.scan_bytes,
            "latency_median_s": float(np.median(seconds)), "latency_p95_s": float(np.percentile(seconds, 95)),
            "throughput_qps": throughput, "recall_at_k": overlap_at_k(ids[config], exact, settings.k),
        }, read_gb_s))
    return rows
