"""Measure encoding speed and memory of nomic-embed-text-v1.5 on this machine, with the offline full-size stand-in.

A plain script, not a test (pytest does not collect it):

    python tests/measure_nomic_standin.py                 # builds the stand-in in a temp dir, then deletes it
    python tests/measure_nomic_standin.py --hf-home DIR   # reuse (or build and keep) a stand-in under DIR

The stand-in (tests/nomic_standin.py, --size full) has nomic's hub files at the pinned revision and random
weights: the same architecture, so the same compute and memory as the real model. Each configuration runs in a
fresh Python process (HF_HOME pointing at the stand-in, HF_HUB_OFFLINE=1), so its peak RSS is its own:
load_model("auto") (through the lab's real code path; the line it prints must say nomic and the Hugging Face cache), set
model.st.max_seq_length, one warm-up batch, then encode(model, docs, "document", cache=False) on the first
--docs SciFact abstracts (title + " " + text). MiniLM ("minilm", and the offline Matryoshka model "minilm-mrl")
run the same way at their own max_seq_length for comparison. One more process measures how many abstracts are
longer than 128/256/512 tokens with nomic's tokenizer and the encode time of the 300 SciFact test queries.
Then it prints one table and what the numbers mean for a notebook's workload.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = Path(os.environ.get("MRL_DATA_DIR", REPO.parent / "shared" / "data")) / "scifact"
LENGTHS = (128, 256, 512)
BATCHES = (8, 32)
MARKER = "RESULT "
LABELS = {"auto": "nomic", "minilm": "minilm", "minilm-mrl": "minilm-mrl"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def read_docs(folder: Path, n: int | None = None) -> list[str]:
    """SciFact's abstracts as the lab embeds them (title + " " + text), the first `n` (all if None)."""
    docs = []
    with gzip.open(folder / "corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                docs.append(f"{d.get('title', '')} {d['text']}".strip())
                if n is not None and len(docs) >= n:
                    break
    return docs


def load(name: str):
    """Import and load_model(name), timed; returns the model, import and load seconds, and the line it printed."""
    import contextlib
    import io

    t0 = time.perf_counter()
    import torch  # noqa: F401
    import sentence_transformers  # noqa: F401

    from mrl_helpers import load_model
    t1 = time.perf_counter()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model = load_model(name)
    t2 = time.perf_counter()
    return model, t1 - t0, t2 - t1, out.getvalue().strip()


def worker_encode(args) -> dict:
    import torch

    from mrl_helpers import encode

    model, import_s, load_s, line = load(args.model)
    rss_loaded = peak_rss_mb()
    if args.seq_len:
        model.st.max_seq_length = args.seq_len
    docs = read_docs(args.data, args.docs + args.batch)
    warm, docs = docs[args.docs:], docs[:args.docs]  # warm-up on other abstracts than the timed ones
    t0 = time.perf_counter()  # the first batch also reads the weights in (safetensors are memory-mapped)
    encode(model, warm, "document", cache=False, batch_size=args.batch, show_progress_bar=False)
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb = encode(model, docs, "document", cache=False, batch_size=args.batch, show_progress_bar=False)
    seconds = time.perf_counter() - t0
    tok = model.st.tokenizer
    prompt = model.prompt("document")
    ids = tok([prompt + d for d in docs], verbose=False)["input_ids"]
    lengths = [min(len(row), model.st.max_seq_length) for row in ids]
    return {"label": LABELS.get(args.model, args.model), "model": model.name, "line": line, "warmup_s": warm_s,
            "seq_len": model.st.max_seq_length, "batch": args.batch,
            "n_docs": len(docs), "dim": int(emb.shape[1]), "encode_s": seconds, "docs_per_s": len(docs) / seconds,
            "mean_tokens": sum(lengths) / len(lengths), "import_s": import_s, "load_s": load_s,
            "rss_after_load_mb": rss_loaded, "peak_rss_mb": peak_rss_mb(), "threads": torch.get_num_threads()}


def worker_tokens(args) -> dict:
    """Token lengths of the whole corpus (nomic's tokenizer, with and without the document prompt), and query time."""
    import numpy as np

    from mrl_helpers import encode
    from mrl_helpers.data import read_beir_folder

    model, import_s, load_s, line = load(args.model)
    dataset = read_beir_folder(args.data, "scifact", "test")
    tok = model.st.tokenizer
    prompt = model.prompt("document")
    bare = np.array([len(ids) for ids in tok(dataset.docs, verbose=False)["input_ids"]])
    prompted = np.array([len(ids) for ids in tok([prompt + d for d in dataset.docs], verbose=False)["input_ids"]])
    relevant = {d for rels in dataset.qrels.values() for d, r in rels.items() if r > 0}
    rel_rows = np.array([i for i, d in enumerate(dataset.doc_ids) if d in relevant])
    first = np.arange(args.docs)
    shares, means = {}, {}
    for n in LENGTHS:
        shares[n] = {"bare": float((bare > n).mean()), "prompted": float((prompted > n).mean())}
        clipped = np.minimum(prompted, n)  # what the model reads at max_seq_length n
        means[n] = {"first": float(clipped[first].mean()), "relevant": float(clipped[rel_rows].mean()),
                    "all": float(clipped.mean())}
    model.st.max_seq_length = args.seq_len or model.st.max_seq_length
    queries = dataset.queries
    encode(model, queries[:32], "query", cache=False, batch_size=32, show_progress_bar=False)  # warm-up
    t0 = time.perf_counter()
    encode(model, queries, "query", cache=False, batch_size=32, show_progress_bar=False)
    query_s = time.perf_counter() - t0
    q_tokens = [len(ids) for ids in tok([model.prompt("query") + q for q in queries], verbose=False)["input_ids"]]
    return {"model": model.name, "line": line, "n_corpus": len(dataset.docs), "n_queries": len(queries),
            "n_relevant": len(rel_rows), "shares": shares, "mean_tokens": means,
            "median_tokens": float(np.median(prompted)), "max_tokens": int(prompted.max()),
            "query_s": query_s, "query_seq_len": model.st.max_seq_length, "query_mean_tokens": float(np.mean(q_tokens)),
            "import_s": import_s, "load_s": load_s, "peak_rss_mb": peak_rss_mb()}


def run_worker(kind: str, model: str, seq_len: int, batch: int, args, env: dict) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--model", model, "--seq-len", str(seq_len),
           "--batch", str(batch), "--docs", str(args.docs), "--data", str(args.data)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    results = [line[len(MARKER):] for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode or not results:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"{kind} {model} seq_len={seq_len} batch={batch} failed (exit {proc.returncode})")
    return json.loads(results[-1])


def build_standin(hf_home: Path) -> None:
    from huggingface_hub.constants import HF_HUB_CACHE  # noqa: F401  (only to fail early without huggingface_hub)

    snapshot = hf_home / "hub" / "models--nomic-ai--nomic-embed-text-v1.5" / "snapshots"
    config = next(snapshot.glob("*/config.json"), None)
    if config and json.loads(config.read_text()).get("n_layer") == 12:
        print(f"Using the full-size stand-in already in {hf_home}")
        return
    print(f"Building the full-size stand-in in {hf_home} (about 550 MB) ...", flush=True)
    subprocess.run([sys.executable, str(HERE / "nomic_standin.py"), "--size", "full", "--hf-home", str(hf_home)],
                   check=True, cwd=REPO, stdout=subprocess.DEVNULL)


def fmt_s(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def report(rows: list[dict], tokens: dict, args) -> None:
    load_avg = os.getloadavg()
    print(f"\nEncoding {args.docs} SciFact abstracts (title + text), document prompt, cache off; "
          f"{rows[0]['threads']} torch threads, {os.cpu_count()} CPUs.")
    print("load s = imports + load_model (weights memory-mapped); warm-up s = the first batch, which reads them in.")
    print(f"{'model':<11} {'seq len':>7} {'batch':>5} {'mean tok':>8} {'docs/s':>7} {'encode':>7} "
          f"{'peak RSS MB':>11} {'load s':>6} {'warm-up s':>9} {'docs in 3 min':>13}")
    for r in rows:
        print(f"{r['label']:<11} {r['seq_len']:>7} {r['batch']:>5} {r['mean_tokens']:>8.0f} {r['docs_per_s']:>7.2f} "
              f"{r['encode_s']:>6.1f}s {r['peak_rss_mb']:>11.0f} {r['import_s'] + r['load_s']:>6.1f} "
              f"{r['warmup_s']:>9.1f} {r['docs_per_s'] * 180:>13.0f}")
    t = tokens
    print(f"\nnomic tokenizer over all {t['n_corpus']} abstracts (with [CLS]/[SEP]; 'prompted' adds 'search_document: '"
          f"): median {t['median_tokens']:.0f}, max {t['max_tokens']} tokens")
    for n in LENGTHS:
        s, m = t["shares"][str(n)], t["mean_tokens"][str(n)]
        print(f"  longer than {n:>3} tokens: {100 * s['bare']:5.1f}% bare, {100 * s['prompted']:5.1f}% prompted; "
              f"tokens read at {n}: mean {m['first']:.0f} (first {args.docs}), {m['relevant']:.0f} "
              f"({t['n_relevant']} relevant), {m['all']:.0f} (all)")
    print(f"{t['n_queries']} test queries (mean {t['query_mean_tokens']:.0f} tokens with prompt), batch 32, "
          f"seq len {t['query_seq_len']}: {t['query_s']:.1f} s")
    sizes = sorted({t["n_relevant"], *args.workload})
    print(f"\nWorkload times (documents + the {t['n_queries']} queries + load and reading the weights in), nomic. "
          f"sample_corpus keeps at least the {t['n_relevant']} documents relevant to a test query. Rates are the "
          f"first-{args.docs} ones scaled by mean tokens read (relevant documents for the smallest size, the corpus "
          "average otherwise).")
    print(f"{'seq len':>7} {'batch':>5} " + " ".join(f"{f'{n} docs':>10}" for n in sizes) + f" {'whole corpus':>12}")
    for r in rows:
        if r["label"] != "nomic":
            continue
        m = t["mean_tokens"][str(r["seq_len"])]
        page_in = max(0.0, r["warmup_s"] - r["batch"] / r["docs_per_s"])  # the warm-up's excess over its batch's work
        fixed = t["query_s"] + r["load_s"] + r["import_s"] + page_in
        cells = []
        for n in sizes:
            tokens = m["relevant"] if n == t["n_relevant"] else m["all"]
            cells.append(fmt_s(n / r["docs_per_s"] * tokens / m["first"] + fixed))
        whole = t["n_corpus"] / r["docs_per_s"] * m["all"] / m["first"] + fixed
        print(f"{r['seq_len']:>7} {r['batch']:>5} " + " ".join(f"{c:>10}" for c in cells) + f" {fmt_s(whole):>12}")
    print(f"\nLoad average at the end: {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hf-home", type=Path, help="where the stand-in is (or is built and kept); default: temp dir")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SciFact in BEIR format (corpus.jsonl.gz)")
    parser.add_argument("--docs", type=int, default=200, help="abstracts to encode per configuration")
    parser.add_argument("--lengths", type=int, nargs="+", default=list(LENGTHS))
    parser.add_argument("--batches", type=int, nargs="+", default=list(BATCHES))
    parser.add_argument("--workload", type=int, nargs="+", default=[339, 400, 500, 1000],
                        help="corpus sizes to estimate encoding times for")
    parser.add_argument("--no-minilm", action="store_true", help="skip the MiniLM comparison rows")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--worker", choices=("encode", "tokens"), help=argparse.SUPPRESS)
    parser.add_argument("--model", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--seq-len", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=32, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        sys.path.insert(0, str(REPO))
        result = (worker_encode if args.worker == "encode" else worker_tokens)(args)
        print(MARKER + json.dumps(result), flush=True)
        return 0

    if not (args.data / "corpus.jsonl.gz").exists():
        parser.error(f"no SciFact corpus at {args.data / 'corpus.jsonl.gz'} (set --data or MRL_DATA_DIR)")
    temp = None
    hf_home = args.hf_home
    if hf_home is None:
        temp = Path(tempfile.mkdtemp(prefix="nomic-standin-"))
        hf_home = temp
    hf_home = hf_home.resolve()
    env = {k: v for k, v in os.environ.items() if k not in ("MRL_MODEL", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")}
    env.update(HF_HOME=str(hf_home), HF_HUB_CACHE=str(hf_home / "hub"), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    try:
        build_standin(hf_home)
        start = time.perf_counter()
        print(f"Load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        rows = []
        for seq_len in args.lengths:
            for batch in args.batches:
                r = run_worker("encode", "auto", seq_len, batch, args, env)
                if "nomic" not in r["line"] or "cache" not in r["line"]:
                    raise RuntimeError(f"load_model('auto') did not load the cached nomic stand-in: {r['line']}")
                rows.append(r)
                print(f"  nomic seq len {seq_len}, batch {batch}: {r['docs_per_s']:.2f} docs/s, "
                      f"peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
        if not args.no_minilm:
            for name in ("minilm", "minilm-mrl"):
                r = run_worker("encode", name, 0, 32, args, env)
                rows.append(r)
                print(f"  {name} seq len {r['seq_len']}, batch 32: {r['docs_per_s']:.2f} docs/s, "
                      f"peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
        tokens = run_worker("tokens", "auto", 512, 32, args, env)
        print(f"  token lengths and queries done ({time.perf_counter() - start:.0f} s in all)", flush=True)
        report(rows, tokens, args)
        if args.json:
            args.json.write_text(json.dumps({"rows": rows, "tokens": tokens}, indent=2))
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
