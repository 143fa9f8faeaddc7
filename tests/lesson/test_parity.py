"""The central promise: tf1_graph and tf2_eager agree bit for bit, stage by stage.

Every stage (samples, true centroids, initial centroids, then labels and centroids of every
iteration) is compared with ``assert_array_equal``, over several seeds and sizes, with either
package first, and after seeded random calls and ``tf.random.set_seed`` in the process.
"""

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial import LESSON_DEFAULTS, LessonParams
from kmeans_tutorial.results import compare_results

pytestmark = pytest.mark.parity

CASES = {
    "defaults": LESSON_DEFAULTS,
    "seed0": LessonParams(seed=0),
    "seed1-centroid-seed9": LessonParams(seed=1, centroid_seed=9),
    # TF reduces op seeds modulo 2**31 - 1; numpy does not: both must follow.
    "seed-2**31-1": LessonParams(seed=2**31 - 1),
    "seed-2**31+5": LessonParams(seed=2**31 + 5),
    "seed-2**32-1": LessonParams(seed=2**32 - 1),
    "1x1x1": LessonParams(n_clusters=1, n_samples_per_cluster=1, n_features=1, seed=3),
    "5x37x3": LessonParams(n_clusters=5, n_samples_per_cluster=37, n_features=3, seed=11),
    "2x1000x8-15it": LessonParams(
        n_clusters=2, n_samples_per_cluster=1000, n_features=8, seed=42, n_iterations=15
    ),
    "8x20x2-embiggen5": LessonParams(n_clusters=8, n_samples_per_cluster=20, embiggen_factor=5),
    "tol0": LessonParams(tol=0.0),
    "tol1e-2-5x30x3-30it": LessonParams(
        n_clusters=5, n_samples_per_cluster=30, n_features=3, seed=9, n_iterations=30, tol=1e-2
    ),
}


def assert_bit_identical(a, b):
    for (stage, x), (_, y) in zip(a.stages(), b.stages(), strict=True):
        assert x.dtype == y.dtype, stage
        np.testing.assert_array_equal(x, y, err_msg=stage, strict=True)


@pytest.mark.parametrize("params", CASES.values(), ids=CASES.keys())
def test_every_stage_is_bit_identical(tf1, tf2, params):
    assert_bit_identical(tf1.run_lesson(params), tf2.run_lesson(params))


@pytest.mark.parametrize("first", ["tf1", "tf2"])
def test_either_order(tf1, tf2, first):
    params = LessonParams(seed=77, n_samples_per_cluster=40)
    runs = {"tf1": tf1.run_lesson, "tf2": tf2.run_lesson}
    order = [first, *(name for name in runs if name != first)]
    results = {name: runs[name](params) for name in order}
    assert_bit_identical(results["tf1"], results["tf2"])


def _seeded_normal_same_seed_other_shape():
    tf.random.normal((7, 3), seed=LESSON_DEFAULTS.seed)


def _seeded_shuffle_same_seed():
    tf.random.shuffle(tf.range(10), seed=LESSON_DEFAULTS.seed)


def _global_seed():
    tf.random.set_seed(1234)
    tf.random.normal((2,))


def _global_seed_then_same_op_seed():
    tf.random.set_seed(LESSON_DEFAULTS.seed)
    tf.random.normal((500, 2), seed=LESSON_DEFAULTS.seed)


BEFORE = {
    "normal-same-seed": _seeded_normal_same_seed_other_shape,
    "shuffle-same-seed": _seeded_shuffle_same_seed,
    "set_seed": _global_seed,
    "set_seed-then-normal": _global_seed_then_same_op_seed,
}


@pytest.mark.parametrize("before", BEFORE.values(), ids=BEFORE.keys())
def test_parity_whatever_ran_before(tf1, tf2, before):
    reference = tf1.run_lesson()
    before()
    assert_bit_identical(tf2.run_lesson(), reference)
    assert_bit_identical(tf1.run_lesson(), reference)
    tf.random.set_seed(None)


def test_compare_results_reports_every_stage_identical(tf1, tf2):
    params = LessonParams(n_iterations=4)
    rows = compare_results(tf1.run_lesson(params), tf2.run_lesson(params))
    assert len(rows) == 3 + 2 * 4
    assert all(row.bit_identical and row.max_abs_difference == 0 for row in rows)


def test_compare_results_sees_a_one_ulp_difference(tf2):
    result = tf2.run_lesson(LessonParams(n_iterations=1))
    nudged = result.centroids.copy()
    nudged[0, 0, 0] = np.nextafter(nudged[0, 0, 0], np.float32(np.inf))
    other = type(result)(**{**result.__dict__, "centroids": nudged})
    flagged = [row.stage for row in compare_results(result, other) if not row.bit_identical]
    assert flagged == ["centroids, iteration 1"]
