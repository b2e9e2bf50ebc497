"""Benchmark results as JSON: their shape, checked; saved atomically; the committed full run (notebook 08).

Schema 2: every row names its configuration by `key` (stable, from its fields) and `label` (for tables), next
to the fields themselves (kind, precision, dim, code_bytes, shortlist, peer, blas_for_one_query); `real`
rows name theirs by `key`. `check_results` rejects a row whose key does not follow from its fields.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..cache import atomic_file
from ..data import packaged_data
from .configurations import Config
from .machine import machine_name

SCHEMA_VERSION = 2

_ROW_KEYS = {
    "n": int, "key": str, "label": str, "kind": str, "precision": str, "dim": int, "code_bytes": int,
    "blas_for_one_query": bool, "index_bytes": int, "rescore_bytes": int, "scan_bytes": int,
    "latency_median_s": float, "latency_p95_s": float, "throughput_qps": dict, "recall_at_k": float,
    "bound_s": float, "pct_of_bound": float,
}
_TOP_KEYS = {"schema_version": int, "created": str, "machine": dict, "load_average": dict, "settings": dict,
             "source": dict, "bandwidth": dict, "rows": list, "real": list, "blas": list, "runtime_s": float}


def _check_fields(record: dict, kinds: dict[str, type], where: str) -> None:
    for key, kind in kinds.items():
        value = record.get(key)
        whole_number = isinstance(value, int) and not isinstance(value, bool)
        if not isinstance(value, kind) and not (kind is float and whole_number):
            raise ValueError(f"{where}[{key!r}]={value!r} must be a {kind.__name__}")


def check_results(results: object) -> dict[str, object]:
    """Return `results` if it has the shape `run_bench` produces, else raise a ValueError saying what is wrong."""
    if not isinstance(results, dict):
        raise ValueError(f"results must be a dict from run_bench, got {type(results).__name__}")
    missing = [key for key in _TOP_KEYS if key not in results]
    if missing:
        raise ValueError(f"results has no {missing[0]!r}: not a benchmark result (expected keys {sorted(_TOP_KEYS)})")
    _check_fields(results, _TOP_KEYS, "results")
    if results["schema_version"] != SCHEMA_VERSION:
        raise ValueError(f"schema_version={results['schema_version']} is not {SCHEMA_VERSION}: re-run the benchmark")
    if not results["rows"]:
        raise ValueError("results['rows'] is empty: the benchmark measured nothing")
    for i, row in enumerate(results["rows"]):
        _check_fields(row, _ROW_KEYS, f"results['rows'][{i}]")
        if row["key"] != Config.from_row(row).key:
            raise ValueError(f"results['rows'][{i}] has key={row['key']!r}, but its fields make "
                             f"{Config.from_row(row).key!r}")
    keys = {row["key"] for row in results["rows"]}
    for i, row in enumerate(results["real"]):
        _check_fields(row, {"key": str, "recall_at_k": float}, f"results['real'][{i}]")
        if row["key"] not in keys:
            raise ValueError(f"results['real'][{i}] has key={row['key']!r}, which no row of results['rows'] has")
    return results


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def save_results(results: dict[str, object], path: str | Path) -> Path:
    """Write `run_bench` results as indented JSON; `path` is replaced only once the whole file is written."""
    path = Path(path)
    text = json.dumps(check_results(results), indent=1, ensure_ascii=False, default=_json_default) + "\n"
    with atomic_file(path) as file:
        file.write(text.encode("utf-8"))
    return path


def results_dir() -> Path:
    """Where the committed full-run results live, `data/bench`."""
    return packaged_data("bench")


def stored_run(prefix: str, command: str) -> Path:
    """The committed run `data/bench/<prefix>-<machine>.json`: this machine's if there is one, else the first."""
    found = sorted(results_dir().glob(f"{prefix}-*.json"))
    if not found:
        raise FileNotFoundError(f"no {prefix}-*.json in {results_dir()}: run `{command}`")
    mine = [p for p in found if p.stem == f"{prefix}-{machine_name()}"]
    return (mine or found)[0]


def load_results(path: str | Path | None = None) -> dict[str, object]:
    """Read benchmark results: `path`, else the committed full run (this machine's if there is one) (notebook 08)."""
    path = path or stored_run("results", "python -m mrl_helpers bench --output ...")
    return check_results(json.loads(Path(path).read_text(encoding="utf-8")))
