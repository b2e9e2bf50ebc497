"""Make any embedding model Matryoshka: a PCA rotation, a trained adapter, or a fine-tune (notebook 07).

A model that was not trained with Matryoshka loss spreads what it knows over all its
coordinates, so cutting the vector short loses a lot. Three fixes, from cheapest to dearest:

- `fit_pca_rotation` (rotation.py): rotate the embeddings so that the first coordinates carry the most
  variance of the corpus. Closed form, seconds, and no change at full dimension.
- `train_matryoshka_adapter` (adapter.py, adapter_training.py): a small map (linear, or linear plus a residual
  MLP) trained on frozen embeddings with a contrastive loss summed over nested dimensions (the Matryoshka loss).
- `finetune_matryoshka` (finetune.py): train the model itself with sentence-transformers' `MatryoshkaLoss`
  around `MultipleNegativesRankingLoss`.

A rotation or an adapter maps full-dimension embeddings to full-dimension embeddings, which `truncate`,
`retrieve` and `evaluate` then use like any model's; the fine-tune gives a new `EmbeddingModel`. How the
last two train is an `AdapterSettings` / `FinetuneSettings` (settings.py); their supervised variants learn
from `relevant_pairs` (pairs.py). `prepare_method` (methods.py) names each fix for `evaluate` and the CLI.
"""

# From rotation.py
from .rotation import fit_pca_rotation, rotate

# From pairs.py
from .pairs import relevant_pairs

# From settings.py
from .settings import ADAPTER_KINDS, AdapterKind, AdapterSettings, FinetuneSettings

# From adapter.py
from .adapter import MatryoshkaAdapter, train_matryoshka_adapter

# From finetune.py
from .finetune import Finetuned, finetune_matryoshka

# From methods.py
from .methods import METHODS, Method, prepare_method

__all__ = [
    "fit_pca_rotation", "rotate",
    "relevant_pairs",
    "ADAPTER_KINDS", "AdapterKind", "AdapterSettings", "FinetuneSettings",
    "MatryoshkaAdapter", "train_matryoshka_adapter",
    "Finetuned", "finetune_matryoshka",
    "METHODS", "Method", "prepare_method",
]
