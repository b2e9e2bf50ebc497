"""Run every notebook in a fresh kernel as a learner would, and report each one's run time and peak memory.

A plain script, not a test (pytest does not collect it):

    python tests/measure_notebooks.py                      # the offline models, cold cache then warm
    python tests/measure_notebooks.py --nomic              # nomic-embed-text-v1.5, as Binder or Colab load it
    python tests/measure_notebooks.py --nomic --hf-home D  # reuse (or build and keep) the nomic stand-in under D
    python tests/measure_notebooks.py 03 05                # only notebooks whose names start with these

With --nomic, `load_model("auto")` finds the full-size offline stand-in of nomic-embed-text-v1.5 in the
Hugging Face cache (tests/nomic_standin.py: nomic's files at the pinned revision, random weights, so the same
compute and memory as the real model), exactly as it finds a copy a learner downloaded. Each notebook runs
twice in a fresh kernel: "cold" with an empty lab cache of its own (nothing encoded yet: a first run, as if it
were the first notebook a learner opens), then "warm" (the cache from its cold run). With the stand-in's random
weights, cells that assert what a trained model knows fail; with --nomic the run goes on past them (their count
is shown), since what it measures is time and memory. Peak RSS and CPU seconds are the kernel's own, read by the
process that started it; other work on the machine stretches the wall time, not the CPU seconds. Each notebook's
three slowest cells are listed by cell id. The goals: every notebook within 5 minutes and 1.8 GB on 2 CPU cores
(Binder gives 2 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MARKER = "RESULT "


def worker(path: Path, timeout: int, allow_errors: bool) -> dict:
    """Execute one notebook in a new kernel; its wall time, and the kernel's peak RSS once it has exited."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    printed = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)
    model_line = next((line for line in printed.splitlines() if line.startswith("Model: ")), "")
    kernel = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel, which has exited
    failed = [out["ename"] for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.get("output_type") == "error"]
    return {"notebook": path.name, "seconds": seconds, "model_line": model_line, "failed_cells": failed,
            "slowest_cells": slowest_cells(nb),
            "cpu_s": kernel.ru_utime + kernel.ru_stime,  # on a busy machine, the wall time's honest partner
            "peak_rss_mb": kernel.ru_maxrss / 1024}  # KiB on Linux


def slowest_cells(nb, n: int = 3) -> list[list]:
    """The n code cells that took longest, as [cell id, seconds], from the timestamps nbclient records."""
    from datetime import datetime

    def seconds(cell) -> float:
        stamps = cell.metadata.get("execution", {})
        start, end = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() if start and end else 0.0

    timed = sorted(([c.get("id", "?"), round(seconds(c), 1)] for c in nb.cells if c.cell_type == "code"),
                   key=lambda pair: -pair[1])
    return timed[:n]


def run(path: Path, env: dict, timeout: int, allow_errors: bool) -> dict:
    cmd = [sys.executable, __file__, "--worker", str(path), "--timeout", str(timeout)] + ["--allow-errors"] * allow_errors
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    results = [line[len(MARKER):] for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode or not results:
        return {"notebook": path.name, "error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    return json.loads(results[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefixes", nargs="*", help="notebook name prefixes, e.g. 03 05 (default: all)")
    parser.add_argument("--nomic", action="store_true", help="load the full-size nomic stand-in (see above)")
    parser.add_argument("--hf-home", type=Path, help="with --nomic: where the stand-in is, or is built and kept")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell before a notebook counts as failed")
    parser.add_argument("--cold-only", action="store_true", help="skip the warm run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--allow-errors", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(MARKER + json.dumps(worker(args.worker, args.timeout, args.allow_errors)), flush=True)
        return 0

    notebooks = [p for p in sorted((REPO / "notebooks").glob("*.ipynb"))
                 if not args.prefixes or p.name.startswith(tuple(args.prefixes))]
    with tempfile.TemporaryDirectory(prefix="mrl-notebooks-") as temp:
        env = {k: v for k, v in os.environ.items() if k not in ("MRL_MODEL", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")}
        env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        if args.nomic:
            sys.path.insert(0, str(HERE))
            from measure_nomic_standin import build_standin

            hf_home = (args.hf_home or Path(temp) / "hf").resolve()
            build_standin(hf_home)
            env.update(HF_HOME=str(hf_home), HF_HUB_CACHE=str(hf_home / "hub"))
        rows = []
        for path in notebooks:
            notebook_env = {**env, "MRL_CACHE_DIR": str(Path(temp) / path.stem / "cache")}  # its own: as if opened first
            runs = {kind: run(path, notebook_env, args.timeout, allow_errors=args.nomic)
                    for kind in ("cold",) + ("warm",) * (not args.cold_only)}
            rows.append(runs)
            line = (f"{path.name:<36} " + "  ".join(
                f"{kind} {r['seconds']:6.0f} s ({r['cpu_s']:.0f} s CPU) {r['peak_rss_mb']:6.0f} MB"
                + (f" ({len(r['failed_cells'])} cells failed)" if r["failed_cells"] else "")
                + f" slowest {r['slowest_cells']}"
                if "error" not in r else f"{kind} FAILED {r['error']}"
                for kind, r in runs.items()))
            print(line, flush=True)
        print(f"\n{os.cpu_count()} CPUs; the model line of the first notebook: {rows[0]['cold'].get('model_line', '')}")
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
