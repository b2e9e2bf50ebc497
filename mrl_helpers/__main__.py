"""Command line: `python -m mrl_helpers tour`, `warm`, `eval ...`, `bench ...`, `build-head` and `ship-embeddings`."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from .adapters import METHODS, FinetuneSettings, prepare_method
from .bench import cli as bench_cli
from .data import SEED_ANSWER, SEED_PASSAGES, SEED_QUESTION, load_dataset, load_mini, scifact_or_mini
from .embedding import encode, ship_embeddings
from .evaluation import PRECISIONS, bytes_per_vector, evaluate, retrieve
from .head import build_head
from .models import MINILM, load_model


def tour(model_name: str) -> None:
    """The seed article in one command: the six passages and the question at every dimension."""
    model = load_model(model_name)
    docs = encode(model, SEED_PASSAGES, "document", cache=False)
    query = encode(model, [SEED_QUESTION], "query", cache=False)
    print(f"\nQuestion: {SEED_QUESTION}")
    for i, passage in enumerate(SEED_PASSAGES):
        print(f"  [{i}] {passage[:70]}{'...' if len(passage) > 70 else ''}")
    for precision, label in (("float32", "float32, IndexFlatIP, score = cosine"),
                             ("binary", "binary, IndexBinaryFlat, score = -Hamming distance")):
        print(f"\n{label}")
        for dim in model.matryoshka_dims:
            scores, ids = retrieve(docs, query, dim, precision, k=len(SEED_PASSAGES))
            ranked = "  ".join(f"[{j}] {s:+.3f}" if precision == "float32" else f"[{j}] {s:+.0f}"
                               for j, s in zip(ids[0], scores[0]))
            mark = "ok" if ids[0][0] == SEED_ANSWER else "--"
            print(f"  dim {dim:4d} ({bytes_per_vector(dim, precision):5d} bytes/vector) {mark}  {ranked}")
    print(f"\n'ok': the Einstein-birth passage [{SEED_ANSWER}] ranks first.")


def warm(model_name: str) -> None:
    """Fetch and compute once what the notebooks need (Binder's postBuild, a workshop's eve), then say what is here."""
    import os

    import umap  # noqa: F401  (numba compiles UMAP's kernels once, into its on-disk cache)

    from .speed import format_bytes

    model = load_model(model_name)
    plain = model if model.name == MINILM else load_model("minilm")  # notebooks 03, 05 and 06 compare with it
    datasets = (load_mini(), scifact_or_mini(max_docs=model.max_docs))
    for m in (model, plain):
        for dataset in datasets:
            encode(m, dataset.docs, "document")
            encode(m, dataset.queries, "query")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(f"Ready: {model.name} on {model.st.device.type}; {', '.join(map(repr, datasets))} encoded; "
          f"{os.cpu_count()} CPUs and {format_bytes(memory)} of RAM here. To run offline from now on: HF_HUB_OFFLINE=1.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mrl_helpers", description=__doc__)
    parser.add_argument("--model", default="auto", help="auto (default), nomic, minilm-mrl, minilm or a model name")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("tour", help="the seed example at every Matryoshka dimension, float and binary")
    commands.add_parser("warm", help="download and encode once what the notebooks need; say what this machine has")
    ev = commands.add_parser("eval", help="nDCG@10, recall@10/100 and bytes per vector per setting")
    ev.add_argument("--dataset", default="mini", help="mini (default) or a BEIR name such as scifact")
    ev.add_argument("--split", default="test")
    ev.add_argument("--dims", help="comma-separated, e.g. 384,256,128,64,32 (default: the model's ladder)")
    ev.add_argument("--precision", default=",".join(PRECISIONS), help=f"comma-separated from {', '.join(PRECISIONS)}")
    ev.add_argument("--oversample", type=int, default=4, help="binary+rescore shortlist = 100 × this")
    ev.add_argument("--method", default="truncate", choices=METHODS,
                    help="how the model is made Matryoshka first (notebook 07): plain truncation (default), a PCA "
                         "rotation, an adapter (self-supervised, or +train with the train split's judgements), "
                         "or a fine-tune (encodes the whole corpus again)")
    ev.add_argument("--train-split", default="train", help="split whose judgements adapter+train and finetune learn from")
    ev.add_argument("--finetune-steps", type=int, default=FinetuneSettings.steps,
                    help="training steps for --method finetune")
    bench_cli.add_arguments(commands.add_parser("bench", help="speed, memory and recall at scale, against float32 flat"))
    commands.add_parser("build-head", help="rebuild the offline Matryoshka model's head from SciFact's corpus texts, "
                                           "then print its figures (data/README.md)")
    commands.add_parser("ship-embeddings", help="re-encode the SciFact embeddings the package ships (data/embeddings) "
                                                "with all-MiniLM-L6-v2 and these library versions")
    args = parser.parse_args(argv)
    if args.command == "ship-embeddings":
        ship_embeddings()
        return 0
    if args.command == "build-head":
        build_head()
        return 0
    if args.command == "tour":
        tour(args.model)
        return 0
    if args.command == "warm":
        warm(args.model)
        return 0
    if args.command == "bench":
        return bench_cli.command(args, parser.error)
    try:
        dims = [int(d) for d in args.dims.split(",")] if args.dims else None
    except ValueError:
        parser.error(f"--dims={args.dims!r} must be comma-separated integers, e.g. 384,128,64")
    try:
        dataset = load_dataset(args.dataset, args.split)
        model = load_model(args.model)
        train = load_dataset(args.dataset, args.train_split) if args.method in ("adapter+train", "finetune") else None
        print(f"{dataset}, split {args.split}, method {args.method}")
        method_model, transform = prepare_method(args.method, model, dataset, train=train,
                                                   finetune_steps=args.finetune_steps)
        table = evaluate(method_model, dataset, dims, args.precision.split(","), oversample=args.oversample,
                         transform=transform, baseline=model)
    except (ValueError, TypeError, OSError) as err:
        parser.error(str(err))
    with pd.option_context("display.width", 120, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
