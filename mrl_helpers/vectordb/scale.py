"""Scale by measurement: pgvector's HNSW funnels against FAISS at 100 k+ synthetic vectors, here (notebook 09).

    python -m mrl_helpers.vectordb.scale                      # 100 k and 300 k vectors: about 12 minutes on 2 cores
    python -m mrl_helpers.vectordb.scale --sizes 20000 --output /tmp/scale.json   # a minute

For each size it bulk-loads the first N vectors of one synthetic corpus (`synthetic_corpus`: shaped like real
embeddings) with COPY, builds a binary and a Matryoshka-prefix HNSW index, and times one query at a time, as a
client sees it, against FAISS's flat float32 index and binary funnel (one thread). recall@k is against FAISS's
exact search. The results are JSON (`save_scale`, `load_scale`); `scale_table` shows them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..bench.machine import load_average, machine_info, machine_name
from ..bench.results import results_dir, stored_run
from ..cache import atomic_file
from ..metrics import overlap_at_k
from ..quantization import binarize
from ..search import binary_index, float_index, funnel_search, search
from ..speed import gaussian_like, synthetic_corpus
from ..threads import limited_threads
from .queries import check_shortlist, exact_sql, explain, funnel_sql, indexes_scanned, per_query_seconds, sql_seconds
from .queries import funnel_search as sql_funnel_search
from .server import Connection, connect, server_versions
from .tables import Stage, create_index, load_embeddings
from .tables import sizes as table_sizes

TABLE = "mrl_scale"
MAINTENANCE_WORK_MEM = "1GB"  # an HNSW build far slower once its graph outgrows this (default 64MB)
Step = Callable[[str], None]


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def measure_faiss(docs: np.ndarray, queries: np.ndarray, exact: np.ndarray, k: int,
                  shortlists: Sequence[int]) -> list[dict[str, object]]:
    """FAISS's flat float32 index and its binary funnel at each shortlist: build time, latency, recall, bytes."""
    flat, flat_s = _timed(lambda: float_index(docs))
    codes, binary_s = _timed(lambda: binary_index(binarize(docs)))
    with limited_threads(1):  # one query, one thread, as in notebook 08 (a PostgreSQL query runs on one core)
        rows = [{"system": "faiss", "config": "flat float32", "build_s": flat_s, "shortlist": None,
                 "latency_median_s": per_query_seconds(lambda q: search(flat, q, k), queries), "recall_at_k": 1.0,
                 "index_bytes": int(docs.nbytes)}]
        for n in shortlists:
            def funnel(q: np.ndarray, n: int = n) -> np.ndarray:
                return funnel_search(codes, binarize(q), q, docs, k, oversample=n // k)[1]
            ids = funnel(queries)
            rows.append({"system": "faiss", "config": "binary funnel", "build_s": binary_s, "shortlist": n,
                         "latency_median_s": per_query_seconds(funnel, queries),
                         "recall_at_k": overlap_at_k(ids, exact, k), "index_bytes": int(codes.ntotal * codes.d // 8),
                         "table_bytes": int(docs.nbytes)})  # the float vectors it rescores with
    return rows


def measure_pgvector(conn: Connection, docs: np.ndarray, queries: np.ndarray, exact: np.ndarray, k: int,
                     shortlists: Sequence[int], prefix_dim: int, exact_queries: int,
                     step: Step) -> list[dict[str, object]]:
    """COPY the corpus, then exact SQL and each stage's HNSW funnel: build time, latency, recall, bytes."""
    _, copy_s = _timed(lambda: load_embeddings(conn, TABLE, docs, replace=True))
    step(f"N={len(docs):,}: COPY {copy_s:.1f} s")
    statement = exact_sql(TABLE)
    ids = np.array([[row[0] for row in conn.execute(statement, {"query": q, "k": k}).fetchall()]
                    for q in queries[:exact_queries]])
    table_bytes = table_sizes(conn, TABLE)["table"]
    rows = [{"system": "pgvector", "config": "exact SQL", "build_s": copy_s, "copy_s": copy_s, "shortlist": None,
             "latency_median_s": sql_seconds(conn, TABLE, statement, queries[:exact_queries], k=k),
             "recall_at_k": overlap_at_k(ids, exact[:exact_queries], k), "table_bytes": table_bytes,
             "index_bytes": 0, "index_used": False}]
    stages: list[tuple[Stage, int | None, str]] = [("binary", None, "binary HNSW + rescoring"),
                                                   ("prefix", prefix_dim, f"prefix {prefix_dim} HNSW + rescoring")]
    for stage, dim, label in stages:
        name, index_s = _timed(lambda: create_index(conn, TABLE, stage, dim))
        step(f"N={len(docs):,}: {label}: index built in {index_s:.0f} s")
        for n in shortlists:
            found = sql_funnel_search(conn, TABLE, queries, k, stage, dim, shortlist=n)[1]
            plan = explain(conn, TABLE, queries[0], k, stage, dim, shortlist=n)
            rows.append({"system": "pgvector", "config": label, "build_s": copy_s + index_s, "copy_s": copy_s,
                         "index_s": index_s, "shortlist": n, "recall_at_k": overlap_at_k(found, exact, k),
                         "latency_median_s": sql_seconds(conn, TABLE, funnel_sql(conn, TABLE, stage, dim), queries,
                                                         dim, check_shortlist(n, k), shortlist=n, k=k),
                         "table_bytes": table_bytes, "index_bytes": table_sizes(conn, TABLE)[name],
                         "index_used": name in indexes_scanned(plan)})
    return rows


def run_scale(real: np.ndarray, sizes: Sequence[int] = (100_000, 300_000), n_queries: int = 100, k: int = 10,
              shortlists: Sequence[int] = (100, 400, 1000), prefix_dim: int = 64, exact_queries: int = 20,
              source: dict[str, object] | None = None, step: Step = print) -> dict[str, object]:
    """Every size: FAISS and pgvector on the first N vectors of one synthetic corpus shaped like `real`."""
    start, load = time.perf_counter(), load_average()
    corpus = synthetic_corpus(real, max(sizes))
    queries = gaussian_like(real, n_queries, seed=0)  # seed 0 is kept for queries (synthetic_corpus)
    rows: list[dict[str, object]] = []
    with connect() as conn:
        conn.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in  # type: ignore[index]
                    ("maintenance_work_mem", "max_parallel_maintenance_workers", "shared_buffers")}
        versions = server_versions(conn)
        try:
            for n in sorted(sizes):
                docs = corpus[:n]
                exact = search(float_index(docs), queries, k)[1]
                rows += [{"n": n, **row} for row in measure_faiss(docs, queries, exact, k, shortlists)]
                step(f"N={n:,}: FAISS measured")
                rows += [{"n": n, **row} for row in
                         measure_pgvector(conn, docs, queries, exact, k, shortlists, prefix_dim, exact_queries, step)]
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    machine = machine_info()
    machine["versions"] = {**machine["versions"], **versions}  # type: ignore[dict-item]
    return {"kind": "pgvector-scale", "created": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": machine, "server_settings": settings, "source": source or {"full_dim": int(real.shape[1])},
            "settings": {"sizes": sorted(sizes), "n_queries": n_queries, "exact_queries": exact_queries, "k": k,
                         "shortlists": list(shortlists), "prefix_dim": prefix_dim},
            "load_average": {"before": load, "after": load_average()}, "runtime_s": time.perf_counter() - start,
            "rows": rows}


def scale_path(name: str | None = None) -> Path:
    """Where a machine's run is kept: data/bench/pgvector-scale-<machine>.json."""
    return results_dir() / f"pgvector-scale-{name or machine_name()}.json"


def save_scale(results: dict[str, object], path: str | Path) -> Path:
    """Write `run_scale` results as indented JSON, replacing `path` only once the whole file is written."""
    path = Path(path)
    with atomic_file(path) as file:
        file.write((json.dumps(results, indent=1, default=float) + "\n").encode("utf-8"))
    return path


def load_scale(path: str | Path | None = None) -> dict[str, object]:
    """Read a `run_scale` run: `path`, else the one stored with the project (this machine's if there is one)."""
    path = path or stored_run("pgvector-scale", "python -m mrl_helpers.vectordb.scale")
    return json.loads(Path(path).read_text(encoding="utf-8"))


def scale_table(results: dict[str, object]) -> pd.DataFrame:
    """One row per system × configuration × shortlist, one column group per N: build s, median ms, recall@k, and
    the MB it keeps (index + full vectors: FAISS's flat index is the vectors; SQL's table holds them)."""
    frame = pd.DataFrame(results["rows"])
    frame["shortlist"] = frame["shortlist"].fillna(0).astype(int)
    frame["median ms"] = 1000 * frame["latency_median_s"]
    frame["stored MB"] = (frame["index_bytes"] + frame["table_bytes"].fillna(0)) / 1e6  # index + the full vectors
    k = results["settings"]["k"]  # type: ignore[index]
    frame = frame.rename(columns={"build_s": "build s", "recall_at_k": f"recall@{k}"})
    table = frame.pivot_table(index=["system", "config", "shortlist"], columns="n", sort=False,
                              values=["build s", "median ms", f"recall@{k}", "stored MB"])
    return table.reorder_levels([1, 0], axis=1).sort_index(axis=1, level=0, sort_remaining=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mrl_helpers.vectordb.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,300000", help="comma-separated corpus sizes")
    parser.add_argument("--queries", type=int, default=100, help="synthetic queries timed one at a time")
    parser.add_argument("--dataset", default="scifact", help="the real embeddings the corpus imitates: scifact or mini")
    parser.add_argument("--model", default="auto", help="auto (default), nomic, minilm-mrl or minilm")
    parser.add_argument("--output", help=f"JSON file (default: {scale_path()})")
    args = parser.parse_args(argv)
    from ..data import load_mini, scifact_or_mini
    from ..embedding import encode
    from ..models import load_model

    model = load_model(args.model)
    dataset = load_mini() if args.dataset == "mini" else scifact_or_mini(max_docs=model.max_docs)
    real = encode(model, dataset.docs, "document")
    source = {"name": dataset.name, "model": model.name, "full_dim": model.full_dim}
    results = run_scale(real, [int(n) for n in args.sizes.split(",")], args.queries, source=source,
                        step=lambda line: print(line, flush=True))
    path = save_scale(results, args.output or scale_path())
    print(scale_table(results).round(3).to_string())
    print(f"{results['runtime_s'] / 60:.1f} minutes; saved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
