"""How a Matryoshka adapter learns: its map, the Matryoshka loss, and the training loop in torch (notebook 07).

`train_matryoshka_adapter` (in `adapter`) checks the inputs and handles the cache; this module does the
arithmetic. The map is y = x W (plus a small residual MLP of x for kind="residual"); W starts as the PCA
rotation. The loss, at every nested dimension, is a cross-entropy between a target and the softmax of the
prefixes' cosine similarities; the terms are summed over the dimensions.
"""

from __future__ import annotations

import time

import numpy as np

from .settings import AdapterSettings


def initial_params(rotation: np.ndarray, kind: str, hidden: int) -> dict:
    """W starts as the PCA rotation; the residual MLP's output layer starts at zero, so step 0 is the rotation."""
    import torch

    dim = rotation.shape[0]
    params = {"weight": torch.from_numpy(rotation.copy())}
    if kind == "residual":
        bound = 1 / dim ** 0.5  # nn.Linear's default initialisation
        params["down"] = torch.empty(dim, hidden).uniform_(-bound, bound)
        params["down_bias"] = torch.empty(hidden).uniform_(-bound, bound)
        params["up"] = torch.zeros(hidden, dim)
        params["up_bias"] = torch.zeros(dim)
    return params


def forward(params: dict, x):
    """The adapter's map of a batch of embeddings `x` (a torch tensor), before re-normalisation."""
    import torch.nn.functional as F

    y = x @ params["weight"]
    if "up" in params:
        y = y + F.gelu(x @ params["down"] + params["down_bias"]) @ params["up"] + params["up_bias"]
    return y


def matryoshka_soft_ce(student_a, student_pool, target, dims, temperature, mask=None):
    """Σ over nested dims of the cross-entropy between `target` and the softmax of prefix cosine similarities."""
    import torch.nn.functional as F

    loss = 0.0
    for dim in dims:
        logits = F.normalize(student_a[:, :dim], dim=1) @ F.normalize(student_pool[:, :dim], dim=1).T / temperature
        if mask is not None:
            logits = logits.masked_fill(mask, -1e4)
        loss = loss + -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    return loss


def corpus_term(docs_t, pool_t, student_pool, n_anchor: int, settings: AdapterSettings):
    """Self-supervised: the first `n_anchor` pool documents against the pool, their full-dimension neighbours as targets."""
    import torch
    import torch.nn.functional as F

    anchors = pool_t[:n_anchor]
    self_mask = torch.zeros(n_anchor, len(pool_t), dtype=torch.bool)
    self_mask[torch.arange(n_anchor), torch.arange(n_anchor)] = True
    with torch.no_grad():
        teacher = docs_t[anchors] @ docs_t[pool_t].T / settings.teacher_temperature
        target = F.softmax(teacher.masked_fill(self_mask, -1e4), dim=1)
    return matryoshka_soft_ce(student_pool[:n_anchor], student_pool, target, settings.dims, settings.temperature,
                              self_mask)


def pairs_term(params: dict, queries_t, batch: np.ndarray, pool: np.ndarray, student_pool,
               relevant_to: dict[int, set[int]], settings: AdapterSettings):
    """Supervised: each query of `batch` against the pool, its relevant document the positive, other relevant ones out."""
    import torch
    import torch.nn.functional as F

    column = {int(j): c for c, j in enumerate(pool)}
    positives = torch.tensor([column[int(j)] for j in batch[:, 1]])
    target = F.one_hot(positives, len(pool)).float()
    other_relevant = torch.zeros(len(batch), len(pool), dtype=torch.bool)  # not negatives: mask them out
    for row, (i, j) in enumerate(batch):
        for other in relevant_to[int(i)] - {int(j)}:
            if other in column:
                other_relevant[row, column[other]] = True
    return matryoshka_soft_ce(forward(params, queries_t[torch.from_numpy(batch[:, 0])]), student_pool, target,
                              settings.dims, settings.temperature, other_relevant)


def train_adapter(docs: np.ndarray, queries: np.ndarray | None, pairs: np.ndarray | None, settings: AdapterSettings,
                  rotation: np.ndarray) -> tuple[dict, float, list[float]]:
    """Adam on the Matryoshka loss, from `rotation` (the PCA rotation): (params, seconds, the loss every 10 steps)."""
    import torch

    start = time.perf_counter()
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    params = initial_params(rotation, settings.kind, settings.hidden)
    for tensor in params.values():
        tensor.requires_grad_(True)
    optimiser = torch.optim.Adam(list(params.values()), lr=settings.learning_rate)
    docs_t = torch.from_numpy(docs)
    queries_t = torch.from_numpy(queries) if queries is not None else None
    n_pool = min(settings.pool_size, len(docs))
    n_anchor = min(settings.batch_size, n_pool)
    relevant_to: dict[int, set[int]] = {}
    for i, j in (pairs if pairs is not None else []):
        relevant_to.setdefault(int(i), set()).add(int(j))
    losses = []
    for step in range(settings.steps):
        pool = rng.choice(len(docs), n_pool, replace=False)  # the first n_anchor also serve as anchors
        loss = 0.0
        if settings.pairs_weight > 0:
            batch = pairs[rng.choice(len(pairs), min(settings.batch_size, len(pairs)), replace=False)]
            pool = np.concatenate([pool, np.setdiff1d(batch[:, 1], pool)])  # every positive is a candidate
        pool_t = torch.from_numpy(pool)
        student_pool = forward(params, docs_t[pool_t])
        if settings.corpus_weight > 0:
            loss = loss + settings.corpus_weight * corpus_term(docs_t, pool_t, student_pool, n_anchor, settings)
        if settings.pairs_weight > 0:
            loss = loss + settings.pairs_weight * pairs_term(params, queries_t, batch, pool, student_pool, relevant_to,
                                                             settings)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 10 == 0 or step == settings.steps - 1:
            losses.append(float(loss.detach()))
    seconds = time.perf_counter() - start
    return {name: tensor.detach().clone() for name, tensor in params.items()}, seconds, losses
