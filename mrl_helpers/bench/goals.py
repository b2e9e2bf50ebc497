"""The project's speed goals as data (`GOALS`), and `goals`, which checks a run against them (notebook 08).

Each goal is a small frozen record of its numbers; its `check` reads the rows of one N and says what was
reached. Change a number in `GOALS`, or pass your own dict of goals to `goals`, and nothing else needs to change.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .report import results_frame

Rows = pd.DataFrame  # the rows of `results_frame` at one N


def _float_scans(at: Rows, full_dim: int) -> tuple[Rows, pd.Series]:
    """The float32 scans at every dimension (by dim), and the one at the full dimension (the baseline)."""
    floats = at[(at["kind"] == "scan") & (at["precision"] == "float32") & ~at["blas_for_one_query"]].sort_values("dim")
    return floats, floats[floats["dim"] == full_dim].iloc[0]


@dataclass(frozen=True)
class FunnelGoal:
    """A binary funnel from `dim_share` of the full dimension: ≥ `min_speedup`× faster, recall@k ≥ `min_recall`."""

    dim_share: float
    min_speedup: float
    min_recall: float

    def check(self, at: Rows, results: dict) -> dict[str, object] | None:
        dim = int(results["source"]["full_dim"] * self.dim_share) // 8 * 8
        rows = at[(at["kind"] == "funnel") & (at["precision"] == "binary") & (at["dim"] == dim)]
        if rows.empty:
            return None  # this run measured no such funnel
        good = rows[rows["recall_at_k"] >= self.min_recall]
        pick = good.loc[good["speedup"].idxmax()] if len(good) else rows.loc[rows["recall_at_k"].idxmax()]
        speedup, recall = float(pick["speedup"]), float(pick["recall_at_k"])
        return {"goal": f"binary {dim} → float32: ≥ {self.min_speedup:g}× faster, recall ≥ {self.min_recall:g}",
                "config": pick["label"], "reached": f"{speedup:.1f}× faster, recall {recall:.3f}",
                "met": speedup >= self.min_speedup and recall >= self.min_recall}


@dataclass(frozen=True)
class TruncatedBatchesGoal:
    """Batches at every truncated dimension reach at least `min_ratio` × the full dimension's throughput."""

    min_ratio: float

    def check(self, at: Rows, results: dict) -> dict[str, object] | None:
        full_dim = results["source"]["full_dim"]
        floats, full = _float_scans(at, full_dim)
        truncated = floats[floats["dim"] < full_dim]
        if truncated.empty:
            return None
        slowest = truncated.loc[truncated["qps"].idxmin()]
        return {"goal": f"batches at a truncated dimension never slower than at full ({1 - self.min_ratio:.0%} noise "
                        "allowed)", "config": slowest["label"],
                "reached": f"slowest truncated: {slowest['qps'] / full['qps']:.2f}× the full-dimension throughput",
                "met": bool((truncated["qps"] >= self.min_ratio * full["qps"]).all())}


@dataclass(frozen=True)
class BatchScalingGoal:
    """Batch throughput grows with 1/dimension, by at least `min_share` of the ideal, down to `down_to_dim`."""

    down_to_dim: int
    min_share: float

    def check(self, at: Rows, results: dict) -> dict[str, object] | None:
        full_dim = results["source"]["full_dim"]
        floats, full = _float_scans(at, full_dim)
        down_to = floats[floats["dim"] >= min(self.down_to_dim, full_dim)]
        gain = [(row["qps"] / full["qps"]) / (full_dim / row["dim"]) for _, row in down_to.iterrows()]
        return {"goal": f"batch throughput grows close to 1/dimension down to {self.down_to_dim} "
                        f"(≥ {self.min_share:.0%} of it)", "config": "float32 scans",
                "reached": ", ".join(f"{d}: {g:.0%}" for d, g in zip(down_to["dim"], gain)),
                "met": bool(min(gain) >= self.min_share)}


@dataclass(frozen=True)
class BandwidthGoal:
    """A single query's float32 scan at full dimension takes at most 100 / `min_pct_of_bound` × the ideal scan."""

    min_pct_of_bound: float

    def check(self, at: Rows, results: dict) -> dict[str, object] | None:
        full_dim = results["source"]["full_dim"]
        floats, full = _float_scans(at, full_dim)
        others = floats[floats["dim"] < full_dim]["pct_of_bound"]
        reached = f"{full['pct_of_bound']:.0f}% of {results['bandwidth']['read_gb_s']:.1f} GB/s"
        if len(others):
            reached += f" (other dimensions: {others.min():.0f}% to {others.max():.0f}%)"
        return {"goal": f"single-query float scan at ≥ {self.min_pct_of_bound:g}% of the memory bandwidth",
                "config": full["label"], "reached": reached, "met": bool(full["pct_of_bound"] >= self.min_pct_of_bound)}


Goal = FunnelGoal | TruncatedBatchesGoal | BatchScalingGoal | BandwidthGoal

GOALS: dict[str, Goal] = {
    "binary-full-funnel": FunnelGoal(dim_share=1, min_speedup=25, min_recall=0.99),
    "binary-quarter-funnel": FunnelGoal(dim_share=1 / 4, min_speedup=60, min_recall=0.98),
    "truncated-batches": TruncatedBatchesGoal(min_ratio=0.95),
    "batch-scaling": BatchScalingGoal(down_to_dim=128, min_share=0.75),
    "bandwidth": BandwidthGoal(min_pct_of_bound=75),
}


def goals(results: dict[str, object], n: int | None = None, targets: dict[str, Goal] = GOALS) -> pd.DataFrame:
    """The project's speed goals at N (default: the largest), with the figure reached for each, indexed by name.

    A goal this run has nothing to check with (a funnel it did not measure) is left out (notebook 08).
    """
    frame = results_frame(results)
    at = frame[frame["n"] == (int(frame["n"].max()) if n is None else n)]
    checked = {name: goal.check(at, results) for name, goal in targets.items()}
    reached = {name: row for name, row in checked.items() if row is not None}
    return pd.DataFrame(list(reached.values()), index=pd.Index(list(reached), name="name"),
                        columns=["goal", "config", "reached", "met"])
