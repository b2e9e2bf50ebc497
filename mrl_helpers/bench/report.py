"""Benchmark results as tables: ratios to the baseline at one N, and projections to 1 B vectors (notebook 08)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pandas.io.formats.style import Styler

from ..display import table as display_table
from ..speed import format_bytes
from .configurations import Config, baseline
from .results import check_results


def results_frame(results: dict[str, object]) -> pd.DataFrame:
    """Every measured row with its ratios to the baseline at the same N: one row per config × N (notebook 08).

    speedup = baseline median latency / this one's; batch_speedup = this throughput / the baseline's at
    the largest batch; smaller_by = baseline index bytes / this index's bytes (RAM). `first_stage` is the
    key of the scan a funnel starts with (a scan's own key); `recall_real` the recall on the real embeddings.
    """
    check_results(results)
    frame = pd.DataFrame(results["rows"])
    batch = str(max(results["settings"]["batch_sizes"]))
    frame["qps"] = [row.get(batch, np.nan) for row in frame["throughput_qps"]]
    base = frame[frame["key"] == baseline(results["source"]["full_dim"]).key].set_index("n")
    frame["speedup"] = frame["n"].map(base["latency_median_s"]) / frame["latency_median_s"]
    frame["batch_speedup"] = frame["qps"] / frame["n"].map(base["qps"])
    frame["smaller_by"] = frame["n"].map(base["index_bytes"]) / frame["index_bytes"]
    frame["bytes_per_vector"] = frame["index_bytes"] / frame["n"]
    frame["recall_real"] = frame["key"].map({row["key"]: row["recall_at_k"] for row in results["real"]})
    stages = [Config.from_row(row).first_stage for _, row in frame.iterrows()]
    frame["first_stage"] = [stage.key if stage else None for stage in stages]
    frame["first_stage_label"] = [stage.label if stage else None for stage in stages]
    return frame


def results_table(results: dict[str, object], n: int | None = None) -> pd.DataFrame:
    """The table at one N (default: the largest), indexed by key: ratios to the baseline first (notebook 08)."""
    frame = results_frame(results)
    n = int(frame["n"].max()) if n is None else n
    if n not in set(frame["n"]):
        raise ValueError(f"n={n} was not measured; measured: {sorted(set(frame['n']))}")
    k = results["settings"]["k"]
    batch = max(results["settings"]["batch_sizes"])
    at = frame[frame["n"] == n].set_index("key")
    return pd.DataFrame({
        "config": at["label"],
        "speedup": at["speedup"],
        "batch speedup": at["batch_speedup"],
        "smaller by": at["smaller_by"],
        f"recall@{k}": at["recall_at_k"],
        f"recall@{k} real": at["recall_real"],
        "% of bound": at["pct_of_bound"],
        "latency (ms)": 1000 * at["latency_median_s"],
        "p95 (ms)": 1000 * at["latency_p95_s"],
        f"qps (batch {batch})": at["qps"],
        "bytes per vector": at["bytes_per_vector"],
        "memory": [format_bytes(b) for b in at["index_bytes"]],
    })


def summary_table(results: dict[str, object], n: int | None = None, shortlist: int = 1000) -> pd.DataFrame:
    """`results_table` cut to the comparison that teaches (notebook 08): the full-dimension scans, float32 at the
    smallest measured dimension from 128 up, each funnel at `shortlist` candidates, and NumPy; the columns that
    compare (speed, memory, recall, % of bound, latency)."""
    frame = results_frame(results)
    n = int(frame["n"].max()) if n is None else n
    table, at = results_table(results, n), frame[frame["n"] == n]
    full_dim = results["source"]["full_dim"]
    truncated = at.loc[(at["kind"] == "scan") & (at["precision"] == "float32") & (at["dim"] >= 128), "dim"].min()
    keep = ((at["kind"] == "scan") & ~at["blas_for_one_query"] & (at["dim"] == full_dim)
            | (at["kind"] == "scan") & (at["precision"] == "float32") & (at["dim"] == truncated)
            | (at["shortlist"] == shortlist) | (at["peer"] == "numpy"))
    k = results["settings"]["k"]
    return table.loc[at.loc[keep, "key"], ["config", "speedup", "smaller by", f"recall@{k}", f"recall@{k} real",
                                            "% of bound", "latency (ms)", "memory"]]


def project(results: dict[str, object], targets: Sequence[int] = (10**8, 10**9),
            fit_from: int = 100_000) -> pd.DataFrame:
    """Latency and RAM at `targets` vectors, from each configuration's measured log-log slope (notebook 08).

    `slope` is a least-squares fit of log(latency) on log(N) over the measured N from `fit_from` up
    (at smaller N, fixed per-call costs hide the scan), and `latency_s` extends it. A slope above 1
    means the smaller corpora sat in a cache that the largest one outgrew; beyond that point a scan
    grows in proportion to N, which `latency_linear_s` assumes from the largest measured N. RAM is
    bytes per vector × N for the scanned index (a funnel's float vectors can stay on disk);
    `fits_this_machine` compares it with this machine's RAM.
    """
    frame = results_frame(results)
    ram = results["machine"].get("ram_bytes")
    out = []
    for key, group in frame[frame["n"] >= fit_from].groupby("key", sort=False):
        if len(group) < 2:
            continue
        slope, intercept = np.polyfit(np.log(group["n"]), np.log(group["latency_median_s"]), 1)
        largest = group.loc[group["n"].idxmax()]
        per_vector = float(largest["bytes_per_vector"])
        for target in targets:
            need = per_vector * target
            out.append({"key": key, "config": largest["label"], "slope": float(slope), "n": target,
                        "latency_s": float(np.exp(intercept + slope * math.log(target))),
                        "latency_linear_s": float(largest["latency_median_s"] * target / largest["n"]),
                        "ram_bytes": need, "ram_gb": need / 1e9, "fits_this_machine": bool(ram and need < ram)})
    return pd.DataFrame(out)


def table_formats(table: pd.DataFrame) -> dict[str, str]:
    """How `results_table`'s ratios and recalls read: '31.2×', '82%', '0.993'; `mrl_helpers.display` rounds the rest."""
    ratios = {column: "{:,.1f}×" for column in ("speedup", "batch speedup", "smaller by")}
    recalls = {column: "{:.3f}" for column in table.columns if column.startswith("recall")}
    return {column: form for column, form in {**ratios, **recalls, "% of bound": "{:.0f}%"}.items()
            if column in table.columns}


def format_table(table: pd.DataFrame) -> Styler:
    """`results_table` (or `summary_table`) to display: '31.2×', '0.993', '82%', '1.25' ms, no index (notebook 08)."""
    return display_table(table, table_formats(table))
