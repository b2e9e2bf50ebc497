"""The machine a run is measured on: its memory bandwidth, CPU, RAM, library versions and load (notebook 08)."""

from __future__ import annotations

import os
import platform
import re
import time

import faiss
import numpy as np

from ..checks import check_k
from ..threads import limited_threads


def memory_bandwidth(nbytes: float = 1e9, repeats: int = 3, block: float = 128e6) -> dict[str, float]:
    """Single-core memory bandwidth in GB/s, read from an array far larger than any cache (notebook 08).

    "read" sums the rows of one `block` of the array at a time (every byte read once, nothing
    written: the access pattern of a flat scan); "copy" copies a block of the first half onto the
    second half (bytes read + bytes written). Each is the best over every block and `repeats` passes:
    other work on the machine can only make a measurement slower, and short blocks are less often
    interrupted than one long pass. Blocks of 128 MB are four times the largest cache here (32 MB).
    """
    repeats = check_k(repeats, "repeats")
    width = 4096
    rows = max(2, int(nbytes) // (4 * width))
    data = np.ones((rows, width), dtype=np.float32)  # written once, so every page is really in RAM
    step = max(1, min(rows // 2, int(block) // (4 * width)))
    half = rows // 2
    read, copy = [], []
    with limited_threads(1):
        for _ in range(repeats):
            for start in range(0, rows - step + 1, step):
                begin = time.perf_counter()
                data[start:start + step].sum(axis=0)
                read.append(time.perf_counter() - begin)
            for start in range(0, half - step + 1, step):
                begin = time.perf_counter()
                np.copyto(data[half + start:half + start + step], data[start:start + step])
                copy.append(time.perf_counter() - begin)
    block_bytes = step * width * 4
    return {"read_gb_s": block_bytes / min(read) / 1e9, "copy_gb_s": 2 * block_bytes / min(copy) / 1e9,
            "array_bytes": int(data.nbytes), "block_bytes": int(block_bytes)}


def cpu_name() -> str:
    """The CPU's model name ('AMD EPYC'), from /proc/cpuinfo where there is one."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        return cpu


def machine_info() -> dict[str, object]:
    """What the figures were measured on: CPU, cores, RAM, library versions, load average."""
    cpu = cpu_name()
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        ram = None
    versions = {"python": platform.python_version(), "numpy": np.__version__, "faiss": faiss.__version__}
    try:
        import sentence_transformers

        versions["sentence_transformers"] = sentence_transformers.__version__
    except ImportError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_bytes": ram, "platform": platform.platform(),
            "faiss_simd": faiss.get_compile_options(), "versions": versions,
            "name": machine_name(cpu, os.cpu_count())}


def machine_name(cpu: str | None = None, cores: int | None = None) -> str:
    """A short file-name-safe name for this machine: 'amd-epyc-2-cores'."""
    if cpu is None:
        return str(machine_info()["name"])
    slug = re.sub(r"\(r\)|\(tm\)|cpu|processor|@.*", "", cpu.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", slug).strip("-") or "cpu"
    return f"{slug}-{cores}-cores"


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None
