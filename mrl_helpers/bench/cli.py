"""`python -m mrl_helpers bench`: options, the run, the printed report and the JSON it writes."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pandas as pd

from ..display import formatted
from ..speed import format_bytes
from .goals import goals
from .machine import load_average
from .report import results_frame, results_table, table_formats
from .results import save_results
from .run import run_bench
from .settings import PADDINGS, PEERS, SCAN_PRECISIONS, BenchSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `python -m mrl_helpers bench` (lists are comma-separated)."""
    d = BenchSettings()
    parser.add_argument("--quick", action="store_true", help="a small run that finishes in under a minute")
    parser.add_argument("--n", help=f"corpus sizes (default {','.join(map(str, d.n))})")
    parser.add_argument("--dims", help="Matryoshka dimensions (default: the model's ladder)")
    parser.add_argument("--precisions", help=f"scans among {','.join(SCAN_PRECISIONS)} (default: all); sq8 is FAISS's "
                        "8-bit scalar quantizer, float queries against the bytes' bucket centres")
    parser.add_argument("--funnels",
                        help="first stages rescored with full float32, e.g. binary@384,binary@96,float32@96")
    parser.add_argument("--shortlists", help=f"candidates rescored (default {','.join(map(str, d.shortlists))})")
    parser.add_argument("--batch-sizes",
                        help=f"batches timed for throughput (default {','.join(map(str, d.batch_sizes))})")
    parser.add_argument("--threads", type=int,
                        help=f"threads for batches (default {d.threads}); one query always uses 1")
    parser.add_argument("--repeats", type=int, help=f"single queries timed per configuration (default {d.repeats})")
    parser.add_argument("--queries", type=int, help=f"queries for recall and batches (default {d.queries})")
    parser.add_argument("--k", type=int, help=f"neighbours per query (default {d.k})")
    parser.add_argument("--binary-padding", help=f"{' | '.join(PADDINGS)}: pad binary codes to a size with a fast "
                        "FAISS kernel (distances unchanged), or not, or measure both (default both)")
    parser.add_argument("--peers", help=f"{','.join(PEERS)} or none (default: both)")
    parser.add_argument("--bandwidth-mb", type=int,
                        help=f"array size for the bandwidth test (default {d.bandwidth_mb})")
    parser.add_argument("--seed", type=int, help=f"random seed (default {d.seed})")
    parser.add_argument("--output", help="JSON file to write (default: results-<machine>.json in this folder)")


def settings_from_args(args: argparse.Namespace) -> BenchSettings:
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
    frame = results_frame(results)
    machine, bandwidth = results["machine"], results["bandwidth"]
    latency = 1000 * frame.pivot_table(index="key", columns="n", values="latency_median_s", sort=False)
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_rows", 500,
                           "display.max_colwidth", 60):
        print(f"\nAt N = {int(frame['n'].max()):,} vectors of {results['source']['full_dim']} dimensions, "
              f"k = {results['settings']['k']}; ratios to float32 flat at full dimension (single query, one thread):")
        table = results_table(results)
        print(formatted(table, table_formats(table)).to_string())
        print("\nSingle-query median latency (ms) against N:")
        print(latency.rename(index=dict(zip(frame["key"], frame["label"]))).round(3).to_string())
        print("\nGoals:")
        print(goals(results).to_string(index=False))
    print(f"\nMachine: {machine['cpu']}, {machine['cores']} cores, {format_bytes(machine['ram_bytes'] or 0)} RAM, "
          f"faiss {machine['versions']['faiss']} ({machine['faiss_simd'].strip()}); memory bandwidth (one core): "
          f"read {bandwidth['read_gb_s']:.1f} GB/s, copy {bandwidth['copy_gb_s']:.1f} GB/s; load average "
          f"{results['load_average']['before']} before, {results['load_average']['after']} after; "
          f"run took {results['runtime_s']:.0f} s.")


def command(args: argparse.Namespace, error: Callable[[str], object]) -> int:
    """`python -m mrl_helpers bench`: run, print the report, write the JSON."""
    from ..data import scifact_or_mini
    from ..embedding import encode
    from ..models import load_model

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
