"""Matryoshka Lab helpers: the small functions every notebook imports.

Each public name's docstring says which notebook introduces it.
"""

from .adapters import (METHODS, MatryoshkaAdapter, Method, finetune_matryoshka, fit_pca_rotation, prepare_method,
                       relevant_pairs, rotate, train_matryoshka_adapter)
from .bench import BenchSettings, blas_effect, memory_bandwidth, run_bench
from .bench_report import format_table, goals, load_results, project, results_frame, results_table, save_results
from .checks import check_dim, check_embeddings, check_k, check_texts
from .data import (SEED_ANSWER, SEED_PASSAGES, SEED_QUESTION, Dataset, load_beir, load_dataset, load_mini, sample_corpus,
                   scifact_or_mini, subset_corpus, subset_queries)
from .embedding import cache_dir, encode, layer_norm, normalize, truncate
from .evaluation import PRECISIONS, Precision, bytes_per_vector, evaluate, make_searcher, ndcg_of, retrieve
from .explorer import PROJECTIONS, Exploration, ExplorerState, Projection, explore, prepare_explorer
from .metrics import Qrels, Run, mrr, ndcg, recall, to_run
from .models import MINILM, MINILM_MRL, NOMIC, EmbeddingModel, dimension_ladder, load_model
from .pooling import POOLING_MODES, PoolingMode, pool
from .quantization import binarize, calibrate_int8, dequantize_int8, quantize_int8, unpack_signs
from .search import BLAS_MIN_QUERIES, binary_index, float_index, funnel_search, rescore, search
from .speed import format_bytes, gaussian_like, median_seconds, synthetic_corpus

__all__ = [
    "METHODS", "MatryoshkaAdapter", "Method", "finetune_matryoshka", "fit_pca_rotation", "prepare_method",
    "relevant_pairs", "rotate", "train_matryoshka_adapter",
    "BenchSettings", "blas_effect", "memory_bandwidth", "run_bench",
    "format_table", "goals", "load_results", "project", "results_frame", "results_table", "save_results",
    "check_dim", "check_embeddings", "check_k", "check_texts",
    "SEED_ANSWER", "SEED_PASSAGES", "SEED_QUESTION", "Dataset", "load_beir", "load_dataset", "load_mini",
    "sample_corpus", "scifact_or_mini", "subset_corpus", "subset_queries",
    "cache_dir", "encode", "layer_norm", "normalize", "truncate",
    "PRECISIONS", "Precision", "bytes_per_vector", "evaluate", "make_searcher", "ndcg_of", "retrieve",
    "PROJECTIONS", "Exploration", "ExplorerState", "Projection", "explore", "prepare_explorer",
    "Qrels", "Run", "mrr", "ndcg", "recall", "to_run",
    "MINILM", "MINILM_MRL", "NOMIC", "EmbeddingModel", "dimension_ladder", "load_model",
    "POOLING_MODES", "PoolingMode", "pool",
    "binarize", "calibrate_int8", "dequantize_int8", "quantize_int8", "unpack_signs",
    "BLAS_MIN_QUERIES", "binary_index", "float_index", "funnel_search", "rescore", "search",
    "format_bytes", "gaussian_like", "median_seconds", "synthetic_corpus",
]
