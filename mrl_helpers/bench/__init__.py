"""Speed and memory at scale: every dimension, precision and funnel against float32 flat search (notebook 08).

`run_bench` measures, in one run on this machine, each configuration against the baseline, an exact
float32 `IndexFlatIP` at the full dimension: single-query latency (median and p95, one thread), batch
throughput, index bytes, recall@10 against exact search (`overlap_at_k`), and the time an ideal scan
would take at the memory bandwidth measured in the same run. The results are JSON; the tables, projections
and goals read them; `python -m mrl_helpers bench` is the command line. One idea per module:
"""

# From settings.py: what a run measures
from .settings import PADDINGS, PEERS, SCAN_PRECISIONS, BenchSettings, parse_funnel
# From machine.py: what it is measured on
from .machine import load_average, machine_info, machine_name, memory_bandwidth
# From configurations.py: the ways to search, each with a stable key and a label
from .configurations import FAST_CODE_BYTES, Config, baseline, configurations, fast_code_bytes, funnel_fits
# From peers.py and indexes.py: each configuration built over a corpus
from .peers import numpy_search
from .indexes import Prepared, pad_codes, prepare, sq8_index
# From blas.py: faiss's BLAS rule (mrl_helpers.search) against the package's
from .blas import blas_effect
# From measure.py and run.py: timing, and the whole run
from .measure import measure_all
from .run import run_bench
# From results.py: the JSON
from .results import SCHEMA_VERSION, check_results, load_results, results_dir, save_results
# From report.py and goals.py: tables, projections, and the project's goals as data
from .report import format_table, project, results_frame, results_table, summary_table, table_formats
from .goals import GOALS, goals

__all__ = [
    "PADDINGS", "PEERS", "SCAN_PRECISIONS", "BenchSettings", "parse_funnel",
    "load_average", "machine_info", "machine_name", "memory_bandwidth",
    "FAST_CODE_BYTES", "Config", "baseline", "configurations", "fast_code_bytes", "funnel_fits",
    "numpy_search", "Prepared", "pad_codes", "prepare", "sq8_index",
    "blas_effect",
    "measure_all", "run_bench",
    "SCHEMA_VERSION", "check_results", "load_results", "results_dir", "save_results",
    "format_table", "project", "results_frame", "results_table", "summary_table", "table_formats",
    "GOALS", "goals",
]
