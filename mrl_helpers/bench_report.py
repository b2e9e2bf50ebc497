"""Benchmark results: JSON, tables of ratios, projections to 100 M and 1 B vectors, goals (notebook 08).

`bench.run_bench` measures; this module reads what it wrote and turns it into the tables and figures
notebook 08 shows. `command` is `python -m mrl_helpers bench`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .bench import PADDINGS, PEERS, SCAN_PRECISIONS, SCHEMA_VERSION, BenchSettings, load_average, machine_name, run_bench
from .data import packaged_data
from .speed import format_bytes

_ROW_KEYS = {
    "n": int, "config": str, "kind": str, "precision": str, "dim": int, "code_bytes": int, "index_bytes": int,
    "rescore_bytes": int, "scan_bytes": int, "latency_median_s": float, "latency_p95_s": float,
    "throughput_qps": dict, "recall_at_k": float, "bound_s": float, "pct_of_bound": float,
}
_TOP_KEYS = {"schema_version": int, "created": str, "machine": dict, "load_average": dict, "settings": dict,
             "source": dict, "bandwidth": dict, "rows": list, "real": list, "blas": list, "runtime_s": float}


def check_results(results: object) -> dict[str, object]:
    """Return `results` if it has the shape `run_bench` produces, else raise a ValueError saying what is wrong."""
    if not isinstance(results, dict):
        raise ValueError(f"results must be a dict from run_bench, got {type(results).__name__}")
    for key, kind in _TOP_KEYS.items():
        if key not in results:
            raise ValueError(f"results has no {key!r}: not a benchmark result (expected keys {sorted(_TOP_KEYS)})")
        if not isinstance(results[key], kind) and not (kind is float and isinstance(results[key], int)):
            raise ValueError(f"results[{key!r}] must be a {kind.__name__}, got {type(results[key]).__name__}")
    if results["schema_version"] != SCHEMA_VERSION:
        raise ValueError(f"schema_version={results['schema_version']} is not {SCHEMA_VERSION}: re-run the benchmark")
    if not results["rows"]:
        raise ValueError("results['rows'] is empty: the benchmark measured nothing")
    for i, row in enumerate(results["rows"]):
        for key, kind in _ROW_KEYS.items():
            value = row.get(key)
            if not isinstance(value, kind) and not (kind is float and isinstance(value, int)):
                raise ValueError(f"results['rows'][{i}][{key!r}]={value!r} must be a {kind.__name__}")
    return results


def save_results(results: dict[str, object], path: str | Path) -> Path:
    """Write `run_bench` results as indented JSON, through a temporary file (notebook 08)."""
    path = Path(path)
    check_results(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1, default=_json_default) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def results_dir() -> Path:
    """Where the committed full-run results live, `data/bench`."""
    return packaged_data("bench")


def load_results(path: str | Path | None = None) -> dict[str, object]:
    """Read benchmark results: `path`, else the committed full run (this machine's if there is one) (notebook 08)."""
    if path is None:
        found = sorted(results_dir().glob("results-*.json"))
        if not found:
            raise FileNotFoundError(f"no results-*.json in {results_dir()}: run `python -m mrl_helpers bench --output ...`")
        mine = [p for p in found if p.stem == f"results-{machine_name()}"]
        path = (mine or found)[0]
    return check_results(json.loads(Path(path).read_text(encoding="utf-8")))


def results_frame(results: dict[str, object]) -> pd.DataFrame:
    """Every measured row with its ratios to the baseline at the same N: one row per config × N (notebook 08).

    speedup = baseline median latency / this one's; batch_speedup = this throughput / the baseline's at
    the largest batch; smaller_by = baseline index bytes / this index's bytes (RAM).
    """
    check_results(results)
    frame = pd.DataFrame(results["rows"])
    batch = str(max(results["settings"]["batch_sizes"]))
    frame["qps"] = [row.get(batch, np.nan) for row in frame["throughput_qps"]]
    full_dim = results["source"]["full_dim"]
    base = frame[(frame["config"] == f"float32 {full_dim}")].set_index("n")
    frame["speedup"] = frame["n"].map(base["latency_median_s"]) / frame["latency_median_s"]
    frame["batch_speedup"] = frame["qps"] / frame["n"].map(base["qps"])
    frame["smaller_by"] = frame["n"].map(base["index_bytes"]) / frame["index_bytes"]
    frame["bytes_per_vector"] = frame["index_bytes"] / frame["n"]
    real = {row["config"]: row["recall_at_k"] for row in results["real"]}
    frame["recall_real"] = frame["config"].map(real)
    return frame


def results_table(results: dict[str, object], n: int | None = None) -> pd.DataFrame:
    """The table at one N (default: the largest): ratios to the baseline first, absolute numbers after (notebook 08)."""
    frame = results_frame(results)
    n = int(frame["n"].max()) if n is None else n
    if n not in set(frame["n"]):
        raise ValueError(f"n={n} was not measured; measured: {sorted(set(frame['n']))}")
    k = results["settings"]["k"]
    batch = max(results["settings"]["batch_sizes"])
    at = frame[frame["n"] == n]
    return pd.DataFrame({
        "config": at["config"],
        "speedup": at["speedup"],
        "batch speedup": at["batch_speedup"],
        "smaller by": at["smaller_by"],
        f"recall@{k}": at["recall_at_k"],
        f"recall@{k} real": at["recall_real"],
        "% of bound": at["pct_of_bound"],
        "median ms": 1000 * at["latency_median_s"],
        "p95 ms": 1000 * at["latency_p95_s"],
        f"qps (batch {batch})": at["qps"],
        "bytes/vector": at["bytes_per_vector"],
        "index": [format_bytes(b) for b in at["index_bytes"]],
    }).reset_index(drop=True)


def project(results: dict[str, object], targets: Sequence[int] = (10**8, 10**9), fit_from: int = 100_000) -> pd.DataFrame:
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
    for config, group in frame[frame["n"] >= fit_from].groupby("config", sort=False):
        if len(group) < 2:
            continue
        slope, intercept = np.polyfit(np.log(group["n"]), np.log(group["latency_median_s"]), 1)
        largest = group.loc[group["n"].idxmax()]
        per_vector = float(largest["bytes_per_vector"])
        for target in targets:
            need = per_vector * target
            out.append({"config": config, "slope": float(slope), "n": target,
                        "latency_s": float(np.exp(intercept + slope * math.log(target))),
                        "latency_linear_s": float(largest["latency_median_s"] * target / largest["n"]),
                        "ram_bytes": need, "ram_gb": need / 1e9, "fits_this_machine": bool(ram and need < ram)})
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------
# Goals, checked on the results


def goals(results: dict[str, object], n: int | None = None) -> pd.DataFrame:
    """The project's speed goals at N (default: the largest), with the figure reached for each (notebook 08)."""
    frame = results_frame(results)
    n = int(frame["n"].max()) if n is None else n
    at = frame[frame["n"] == n]
    full = results["source"]["full_dim"]
    quarter = full // 4 // 8 * 8

    def best_funnel(first: str, min_recall: float) -> tuple[str, float, float]:
        rows = at[(at["kind"] == "funnel") & (at["config"].str.startswith(first + " "))]
        good = rows[rows["recall_at_k"] >= min_recall]
        pick = good.loc[good["speedup"].idxmax()] if len(good) else rows.loc[rows["recall_at_k"].idxmax()]
        return pick["config"], float(pick["speedup"]), float(pick["recall_at_k"])

    out = []
    for label, first, speed, recall in ((f"binary {full} → float32", f"binary {full}", 25, 0.99),
                                        (f"binary {quarter} → float32", f"binary {quarter}", 60, 0.98)):
        try:
            config, speedup, got = best_funnel(first, recall)
        except ValueError:
            continue
        out.append({"goal": f"{label}: ≥ {speed}× faster, recall ≥ {recall}", "config": config,
                    "reached": f"{speedup:.1f}× faster, recall {got:.3f}", "met": speedup >= speed and got >= recall})
    floats = at[(at["kind"] == "scan") & (at["precision"] == "float32") & ~at["blas_for_one_query"]].sort_values("dim")
    full_row = floats[floats["dim"] == full].iloc[0]
    truncated = floats[floats["dim"] < full]
    if len(truncated):
        slowest = truncated.loc[truncated["qps"].idxmin()]
        out.append({"goal": "batches at a truncated dimension never slower than at full (5% noise allowed)",
                    "config": slowest["config"],
                    "reached": f"slowest truncated: {slowest['qps'] / full_row['qps']:.2f}× the full-dimension throughput",
                    "met": bool((truncated["qps"] >= 0.95 * full_row["qps"]).all())})
    down_to = floats[floats["dim"] >= min(128, full)]
    gain = [(row["qps"] / full_row["qps"]) / (full / row["dim"]) for _, row in down_to.iterrows()]
    out.append({"goal": "batch throughput grows close to 1/dimension down to 128 (≥ 75% of it)", "config": "float32 scans",
                "reached": ", ".join(f"{d}: {g:.0%}" for d, g in zip(down_to["dim"], gain)),
                "met": bool(min(gain) >= 0.75)})
    others = floats[floats["dim"] < full]["pct_of_bound"]
    reached = f"{full_row['pct_of_bound']:.0f}% of {results['bandwidth']['read_gb_s']:.1f} GB/s"
    if len(others):
        reached += f" (other dimensions: {others.min():.0f}% to {others.max():.0f}%)"
    out.append({"goal": "single-query float scan at ≥ 75% of the memory bandwidth", "config": full_row["config"],
                "reached": reached, "met": bool(full_row["pct_of_bound"] >= 75)})
    return pd.DataFrame(out)


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """`results_table` with readable numbers: '31.2×', '0.993', '82%', '1.25' ms (notebook 08)."""
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if column in ("speedup", "batch speedup", "smaller by"):
            out[column] = [f"{v:,.1f}×" if pd.notna(v) else "" for v in values]
        elif column.startswith("recall"):
            out[column] = [f"{v:.3f}" if pd.notna(v) else "" for v in values]
        elif column == "% of bound":
            out[column] = [f"{v:.0f}%" for v in values]
        elif column.endswith(" ms"):
            out[column] = [f"{v:,.3g}" for v in values]
        elif column.startswith("qps") or column == "bytes/vector":
            out[column] = [f"{v:,.0f}" if pd.notna(v) else "" for v in values]
    return out


def add_arguments(parser: object) -> None:
    """The options of `python -m mrl_helpers bench` (lists are comma-separated)."""
    d = BenchSettings()
    parser.add_argument("--quick", action="store_true", help="a small run that finishes in under a minute")
    parser.add_argument("--n", help=f"corpus sizes (default {','.join(map(str, d.n))})")
    parser.add_argument("--dims", help="Matryoshka dimensions (default: the model's ladder)")
    parser.add_argument("--precisions", help=f"scans among {','.join(SCAN_PRECISIONS)} (default: all)")
    parser.add_argument("--funnels", help="first stages rescored with full float32, e.g. binary@384,binary@96,float32@96")
    parser.add_argument("--shortlists", help=f"candidates rescored (default {','.join(map(str, d.shortlists))})")
    parser.add_argument("--batch-sizes", help=f"batches timed for throughput (default {','.join(map(str, d.batch_sizes))})")
    parser.add_argument("--threads", type=int, help=f"threads for batches (default {d.threads}); one query always uses 1")
    parser.add_argument("--repeats", type=int, help=f"single queries timed per configuration (default {d.repeats})")
    parser.add_argument("--queries", type=int, help=f"queries for recall and batches (default {d.queries})")
    parser.add_argument("--k", type=int, help=f"neighbours per query (default {d.k})")
    parser.add_argument("--binary-padding", help=f"{' | '.join(PADDINGS)}: pad binary codes to a size with a fast "
                        "FAISS kernel (distances unchanged), or not, or measure both (default both)")
    parser.add_argument("--peers", help=f"{','.join(PEERS)} or none (default: both)")
    parser.add_argument("--bandwidth-mb", type=int, help=f"array size for the bandwidth test (default {d.bandwidth_mb})")
    parser.add_argument("--seed", type=int, help=f"random seed (default {d.seed})")
    parser.add_argument("--output", help="JSON file to write (default: results-<machine>.json in this folder)")


def settings_from_args(args: object) -> BenchSettings:
    """BenchSettings from parsed options (comma-separated lists; None = the default); errors name the option."""

    def ints(option: str) -> tuple[int, ...] | None:
        text = getattr(args, option.replace("-", "_"))
        if text is None:
            return None
        try:
            return tuple(int(x) for x in str(text).split(","))
        except ValueError:
            raise ValueError(f"--{option}={text!r} must be comma-separated integers, e.g. 10000,100000") from None

    def strs(option: str) -> tuple[str, ...] | None:
        text = getattr(args, option.replace("-", "_"))
        return None if text is None else tuple(x.strip() for x in str(text).split(",") if x.strip())

    given = {
        "n": ints("n"), "dims": ints("dims"), "precisions": strs("precisions"), "funnels": strs("funnels"),
        "shortlists": ints("shortlists"), "batch_sizes": ints("batch-sizes"), "peers": strs("peers"),
        "threads": args.threads, "repeats": args.repeats, "queries": args.queries, "k": args.k,
        "binary_padding": args.binary_padding, "bandwidth_mb": args.bandwidth_mb, "seed": args.seed,
    }
    if given["peers"] == ("none",):
        given["peers"] = ()
    changes = {key: value for key, value in given.items() if value is not None}
    settings = BenchSettings.quick(**changes) if args.quick else BenchSettings(**changes)
    return settings.checked(None)  # what does not depend on the model: fail before loading it


def print_report(results: dict[str, object]) -> None:
    """The table at the largest N, latency against N, the goals, and the conditions of the run."""
    table = results_table(results)
    n = int(results_frame(results)["n"].max())
    machine, bandwidth = results["machine"], results["bandwidth"]
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_rows", 500,
                           "display.max_colwidth", 60):
        print(f"\nAt N = {n:,} vectors of {results['source']['full_dim']} dimensions, k = {results['settings']['k']}; "
              "ratios to float32 flat at full dimension (single query, one thread):")
        print(format_table(table).to_string(index=False))
        frame = results_frame(results)
        print("\nSingle-query median latency (ms) against N:")
        print((1000 * frame.pivot_table(index="config", columns="n", values="latency_median_s", sort=False)).round(3).to_string())
        print("\nGoals:")
        print(goals(results).to_string(index=False))
    print(f"\nMachine: {machine['cpu']}, {machine['cores']} cores, {format_bytes(machine['ram_bytes'] or 0)} RAM, "
          f"faiss {machine['versions']['faiss']} ({machine['faiss_simd'].strip()}); memory bandwidth (one core): "
          f"read {bandwidth['read_gb_s']:.1f} GB/s, copy {bandwidth['copy_gb_s']:.1f} GB/s; load average "
          f"{results['load_average']['before']} before, {results['load_average']['after']} after; "
          f"run took {results['runtime_s']:.0f} s.")


def command(args: object, error: Callable[[str], object]) -> int:
    """`python -m mrl_helpers bench`: run, print the report, write the JSON."""
    from .data import scifact_or_mini
    from .embedding import encode
    from .models import load_model

    try:
        settings = settings_from_args(args)
    except (ValueError, TypeError) as err:
        error(str(err))
    model = load_model(args.model)
    try:
        settings.checked(model.full_dim, model.matryoshka_dims)
    except (ValueError, TypeError) as err:
        error(str(err))
    dataset = scifact_or_mini()
    docs, queries = encode(model, dataset.docs, "document"), encode(model, dataset.queries, "query")
    print(f"Corpus drawn from a Gaussian fitted on {dataset}; load average now {load_average()}.")
    results = run_bench(docs, queries, settings, ladder=model.matryoshka_dims, source=dataset.name, model=model.name)
    path = save_results(results, args.output or f"results-{results['machine']['name']}.json")
    print_report(results)
    print(f"Wrote {path}")
    return 0




__all__ = [
    "check_results", "command", "format_table", "goals", "load_results", "project", "results_frame",
    "results_table", "save_results",
]
