"""What the lab computes once and reuses: where it lives, how it is keyed, how it is written.

Embeddings (`encode`), trained adapters and fine-tunes (`adapters`), downloaded datasets (`load_beir`) and
benchmark results all go through here, so that each follows the same three rules: files live under
`cache_dir()`; a key names everything that decides the contents, library versions included; a file is
written beside its final name and renamed into place, so an interrupted run never leaves half a file
that a later run would read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import BinaryIO


def cache_dir() -> Path:
    """Where the lab keeps what it computes: `MRL_CACHE_DIR`, else ~/.cache/matryoshka-lab."""
    return Path(os.environ.get("MRL_CACHE_DIR", Path.home() / ".cache" / "matryoshka-lab"))


def library_versions() -> str:
    """The versions that decide what a cached embedding or trained weight holds; part of every `cache_key`.

    A file written with one version of sentence-transformers, transformers or torch is never read by another.
    """
    return ", ".join(f"{name} {version(name)}" for name in ("sentence-transformers", "transformers", "torch"))


def cache_key(*parts: str) -> str:
    """A short hash of `library_versions()` and `parts`: the name of a cache entry made from them.

    >>> len(cache_key("a model", "a text")), cache_key("a") == cache_key("a"), cache_key("a") == cache_key("b")
    (24, True, False)
    """
    return hashlib.sha256("\x1f".join([library_versions(), *parts]).encode()).hexdigest()[:24]


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Open a temporary file beside `path` for writing; it replaces `path` only when the block ends without error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(tmp, "wb") as file:
            yield file
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
