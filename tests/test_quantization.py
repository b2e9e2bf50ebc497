import numpy as np
import pytest
import sentence_transformers
from conftest import unit_rows
from packaging.version import Version
from sentence_transformers import quantize_embeddings  # the top-level name in every version >= 3

from mrl_helpers import binarize, calibrate_int8, dequantize_int8, quantize_int8, unpack_signs


def test_binarize_equals_sentence_transformers(rng):
    emb = unit_rows(rng, 50, 384)
    codes = binarize(emb)
    assert codes.shape == (50, 48) and codes.dtype == np.uint8  # d/8 bytes: 32x smaller than float32
    np.testing.assert_array_equal(codes, quantize_embeddings(emb, "ubinary"))


def test_int8_is_the_floor_of_the_bucket_index_clipped_to_its_256_buckets(rng):
    docs, queries = unit_rows(rng, 300, 64), unit_rows(rng, 20, 64)
    ranges = calibrate_int8(docs)
    np.testing.assert_array_equal(ranges, np.vstack([docs.min(0), docs.max(0)]))
    steps = (ranges[1].astype(np.float64) - ranges[0]) / 255
    for x in (docs, queries):  # queries fall partly outside the calibration range: clipped
        expected = np.clip(np.floor((x - ranges[0]) / steps), 0, 255) - 128  # in float64, bucket by bucket
        codes = quantize_int8(x, ranges).astype(int)
        assert (np.abs(codes - expected) <= 1).all() and (codes == expected).mean() > 0.99  # float32 rounding at edges


@pytest.mark.skipif(Version(sentence_transformers.__version__) < Version("5.7"),
                    reason="quantize_embeddings floors and clips int8 from sentence-transformers 5.7 on; before, it "
                           "truncated toward zero and wrapped out-of-range values around")
def test_int8_equals_sentence_transformers(rng):
    docs, queries = unit_rows(rng, 300, 64), unit_rows(rng, 20, 64)
    ranges = calibrate_int8(docs)
    for x in (docs, queries):  # queries fall partly outside the calibration range: clipped alike
        np.testing.assert_array_equal(quantize_int8(x, ranges), quantize_embeddings(x, "int8", ranges=ranges))


def test_int8_round_trip_error_is_below_one_bucket(rng):
    docs = unit_rows(rng, 300, 64)
    ranges = calibrate_int8(docs)
    step = (ranges[1] - ranges[0]) / 255
    err = docs - dequantize_int8(quantize_int8(docs, ranges), ranges)
    assert (err >= -1e-6).all() and (err <= step + 1e-6).all()


def test_hamming_distance_is_the_plus_minus_one_dot_product(rng):
    a, b = unit_rows(rng, 5, 128), unit_rows(rng, 7, 128)
    hamming = np.unpackbits(binarize(a)[:, None, :] ^ binarize(b)[None, :, :], axis=2).sum(axis=2, dtype=np.int64)
    dot = unpack_signs(binarize(a)) @ unpack_signs(binarize(b)).T
    np.testing.assert_array_equal(dot, 128 - 2 * hamming)
    np.testing.assert_array_equal(unpack_signs(binarize(a)), np.where(a > 0, 1, -1))


def test_int8_ranges_must_match_dimension(rng):
    with pytest.raises(ValueError, match=r"ranges has shape \(2, 32\); expected \(2, 64\)"):
        quantize_int8(unit_rows(rng, 3, 64), np.zeros((2, 32)))
