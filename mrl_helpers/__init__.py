"""Matryoshka Lab helpers: the small functions every notebook imports, listed here in the order the notebooks meet them.

Each public name's docstring says which notebook introduces it. Plumbing (argument checks, cache keys, the
benchmark's parts, the explorer's widgets, the vector database) stays importable from its own module.
"""

# 01 · Tokenisation: the model, and the seed example
from .models import MINILM, MINILM_MRL, NOMIC, EmbeddingModel, load_model
from .data import SEED_ANSWER, SEED_PASSAGES, SEED_QUESTION
from .exercises import solution
# 02 · Pooling: token vectors → one sentence vector
from .pooling import POOLING_MODES, pool
from .embedding import encode, layer_norm, normalize
# 03 · Matryoshka truncation: quality and memory against dimension
from .embedding import truncate
from .models import dimension_ladder
from .data import Dataset, load_beir, load_mini, scifact_or_mini
from .metrics import mrr, ndcg, recall, to_run
from .evaluation import bytes_per_vector, evaluate, ndcg_of, retrieve
from .display import lab_figure, table
# 04 · FAISS search: exact search, latency and memory against dimension
from .search import BLAS_MIN_QUERIES, float_index, search
from .speed import format_bytes, gaussian_like, median_seconds, synthetic_corpus
from .threads import limited_threads
# 05 · Binary quantization: bits, Hamming distance, rescoring, int8
from .quantization import binarize, calibrate_int8, dequantize_int8, quantize_int8, unpack_signs
from .search import binary_index, funnel_search, rescore
from .metrics import overlap_at_k
from .evaluation import PRECISIONS, make_searcher
# 06 · The interactive explorer
from .explorer import explore, prepare_explorer
# 07 · Make any model Matryoshka
from .adapters import finetune_matryoshka, fit_pca_rotation, relevant_pairs, rotate, train_matryoshka_adapter
from .data import sample_corpus, subset_corpus, subset_queries
# 08 · Speed and memory at scale (the rest of the benchmark: mrl_helpers.bench)
from .bench import BenchSettings, load_results, run_bench

__all__ = [
    # 01
    "MINILM", "MINILM_MRL", "NOMIC", "EmbeddingModel", "load_model", "SEED_ANSWER", "SEED_PASSAGES", "SEED_QUESTION",
    "solution",
    # 02
    "POOLING_MODES", "pool", "encode", "layer_norm", "normalize",
    # 03
    "truncate", "dimension_ladder", "Dataset", "load_beir", "load_mini", "scifact_or_mini", "mrr", "ndcg", "recall",
    "to_run", "bytes_per_vector", "evaluate", "ndcg_of", "retrieve", "lab_figure", "table",
    # 04
    "BLAS_MIN_QUERIES", "float_index", "search", "format_bytes",
    "gaussian_like", "median_seconds", "synthetic_corpus", "limited_threads",
    # 05
    "binarize", "calibrate_int8", "dequantize_int8", "quantize_int8", "unpack_signs", "binary_index", "funnel_search",
    "rescore", "overlap_at_k", "PRECISIONS", "make_searcher",
    # 06
    "explore", "prepare_explorer",
    # 07
    "finetune_matryoshka", "fit_pca_rotation", "relevant_pairs", "rotate", "train_matryoshka_adapter",
    "sample_corpus", "subset_corpus", "subset_queries",
    # 08
    "BenchSettings", "load_results", "run_bench",
]
