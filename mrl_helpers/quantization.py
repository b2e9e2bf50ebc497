"""Binary and int8 quantization (notebook 05); equal to sentence-transformers' `quantize_embeddings` (int8: from 5.7)."""

from __future__ import annotations

import numpy as np

from .checks import check_embeddings


def binarize(emb: np.ndarray) -> np.ndarray:
    """Keep the sign of each coordinate as one bit and pack 8 bits per byte: (n, d) -> (n, d/8) uint8.

    Equal to `quantize_embeddings(emb, "ubinary")`. `d` must be a multiple of 8.
    """
    emb = check_embeddings(emb)
    if emb.shape[1] % 8:
        raise ValueError(f"dim={emb.shape[1]} must be a multiple of 8 to pack bits into bytes for binary vectors")
    return np.packbits(emb > 0, axis=1)


def unpack_signs(codes: np.ndarray, dim: int | None = None) -> np.ndarray:
    """Unpack bits back to a ±1 float32 matrix (1 -> +1, 0 -> -1), the vectors that Hamming distance compares."""
    bits = np.unpackbits(np.asarray(codes, dtype=np.uint8), axis=1)
    return (2.0 * bits[:, :dim] - 1.0).astype(np.float32)


def calibrate_int8(emb: np.ndarray) -> np.ndarray:
    """Per-dimension (min, max) of calibration embeddings, shape (2, d): the ranges int8 buckets span."""
    emb = check_embeddings(emb)
    return np.vstack([emb.min(axis=0), emb.max(axis=0)])


def quantize_int8(emb: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Map each coordinate to one of 256 equal buckets between its calibrated min and max, as int8.

    Values outside the calibration range go to the first or last bucket (clipped). Equal to
    `quantize_embeddings(emb, "int8", ranges=ranges)` from sentence-transformers 5.7 on; earlier versions
    truncate toward zero instead of flooring and let out-of-range values wrap around, so about half the codes
    differ by one bucket and a few by the whole range.
    """
    emb = check_embeddings(emb)
    ranges = np.asarray(ranges, dtype=np.float32)
    if ranges.shape != (2, emb.shape[1]):
        raise ValueError(f"ranges has shape {ranges.shape}; expected (2, {emb.shape[1]}) from calibrate_int8")
    steps = (ranges[1] - ranges[0]) / 255
    steps = np.where(steps == 0, 1, steps)
    buckets = np.clip(np.floor((emb - ranges[0]) / steps), 0, 255)
    return (buckets - 128).astype(np.int8)


def dequantize_int8(codes: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Map int8 buckets back to float coordinates (the lower edge of each bucket)."""
    ranges = np.asarray(ranges, dtype=np.float32)
    steps = (ranges[1] - ranges[0]) / 255
    steps = np.where(steps == 0, 1, steps)
    return ((codes.astype(np.float32) + 128) * steps + ranges[0]).astype(np.float32)
