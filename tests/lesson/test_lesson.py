"""What each package computes, checked on its own: goldens, shapes, the lesson's structure."""

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial import LESSON_DEFAULTS, LessonParams

import goldens

GOLDENS = goldens.load()


def test_lesson_defaults_reproduce_the_golden_centroids(run_lesson):
    golden = np.array(GOLDENS["final_centroids"], dtype=np.float32)
    np.testing.assert_array_equal(run_lesson().final_centroids, golden)


def test_every_stage_reproduces_the_goldens(run_lesson):
    """Bit for bit, stage by stage; a drifting release is named with its first drifted stage."""
    drifted = [
        stage
        for stage, array in run_lesson().stages()
        if goldens.digest(array) != GOLDENS["stages"][stage]
    ]
    assert not drifted, (
        f"TensorFlow {tf.__version__} does not reproduce the goldens recorded on "
        f"{GOLDENS['tensorflow']}: first drifted stage {drifted[0]!r} ({len(drifted)} in all)"
    )


def test_lesson_defaults_are_the_lessons():
    assert (LESSON_DEFAULTS.n_clusters, LESSON_DEFAULTS.n_samples_per_cluster) == (3, 500)
    assert (LESSON_DEFAULTS.n_features, LESSON_DEFAULTS.seed) == (2, 700)
    assert (LESSON_DEFAULTS.embiggen_factor, LESSON_DEFAULTS.n_iterations) == (70, 10)


@pytest.mark.parametrize(
    "params",
    [LESSON_DEFAULTS, LessonParams(n_clusters=4, n_samples_per_cluster=7, n_features=3)],
    ids=["defaults", "4x7x3"],
)
def test_result_shapes_and_dtypes(run_lesson, params):
    result = run_lesson(params)
    k, n, d, iters = params.n_clusters, params.n_samples, params.n_features, params.n_iterations
    assert result.samples.shape == (n, d) and result.samples.dtype == np.float32
    assert result.true_centroids.shape == (k, d) and result.true_centroids.dtype == np.float64
    assert result.initial_centroids.shape == (k, d)
    assert result.initial_centroids.dtype == np.float32
    assert result.labels.shape == (iters, n) and result.labels.dtype == np.int64
    assert result.centroids.shape == (iters, k, d) and result.centroids.dtype == np.float32


def test_zero_iterations_keeps_the_initial_centroids(run_lesson):
    result = run_lesson(LessonParams(n_iterations=0))
    assert result.labels.shape == (0, LESSON_DEFAULTS.n_samples)
    np.testing.assert_array_equal(result.final_centroids, result.initial_centroids)


def test_running_twice_gives_identical_results(run_lesson):
    first, second = run_lesson(), run_lesson()
    for (stage, a), (_, b) in zip(first.stages(), second.stages(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=stage)


def test_initial_centroids_are_distinct_samples(run_lesson):
    result = run_lesson(LessonParams(n_clusters=6, n_samples_per_cluster=2))
    rows = {tuple(row) for row in result.initial_centroids}
    assert len(rows) == 6
    assert rows <= {tuple(row) for row in result.samples}


def test_centroid_seed_moves_only_the_initial_centroids(run_lesson):
    base = run_lesson(LessonParams(n_iterations=1))
    other = run_lesson(LessonParams(n_iterations=1, centroid_seed=1))
    np.testing.assert_array_equal(base.samples, other.samples)
    assert not np.array_equal(base.initial_centroids, other.initial_centroids)


def test_every_cluster_gets_the_same_noise(run_lesson):
    """Each cluster's random_normal op has the same seed: TF1's graph restarts the stream."""
    params = LessonParams(n_clusters=3, n_samples_per_cluster=50, n_features=2, seed=5)
    result = run_lesson(params)
    blocks = result.samples.reshape(3, 50, 2).astype(np.float64)
    noise = blocks - result.true_centroids[:, None, :]
    # samples = float32(noise + float32(centre)): equal noise up to one rounding of the sum.
    np.testing.assert_allclose(noise[1], noise[0], atol=1e-5)
    np.testing.assert_allclose(noise[2], noise[0], atol=1e-5)
    assert np.abs(noise[0]).max() > 1  # it is noise, not zeros


def test_labels_are_the_nearest_centroid(run_lesson):
    result = run_lesson(LessonParams(n_iterations=3))
    previous = np.concatenate([result.initial_centroids[None], result.centroids[:-1]])
    for labels, centroids in zip(result.labels, previous, strict=True):
        distances = ((result.samples[None] - centroids[:, None]) ** 2).sum(axis=2)
        np.testing.assert_array_equal(labels, distances.argmin(axis=0))


def test_true_centroids_come_from_numpy_seeded_like_the_lesson(run_lesson):
    params = LessonParams(seed=123, embiggen_factor=10)
    expected = np.random.RandomState(123).random_sample((3, 2)) * 10 - 5
    np.testing.assert_array_equal(run_lesson(params).true_centroids, expected)


def test_tol_stops_where_scikit_learn_converges(run_lesson):
    fixed = run_lesson()
    early = run_lesson(LessonParams(tol=0.0))
    n_iter = GOLDENS["sklearn_lloyd_n_iter"]
    assert len(early.centroids) == n_iter
    np.testing.assert_array_equal(early.centroids, fixed.centroids[:n_iter])
    np.testing.assert_array_equal(early.labels, fixed.labels[:n_iter])
    np.testing.assert_array_equal(early.labels[-1], early.labels[-2])  # labels stopped moving


def test_a_loose_tol_stops_on_the_centroid_shift(run_lesson):
    result = run_lesson(LessonParams(tol=1e-3))
    assert result.center_shift[-1] <= result.absolute_tol < result.center_shift[-2]
    assert len(result.centroids) < LESSON_DEFAULTS.n_iterations


def test_inertia_and_shift_per_iteration(run_lesson):
    result = run_lesson(LessonParams(n_iterations=4))
    path = np.concatenate([result.initial_centroids[None], result.centroids]).astype(np.float64)
    x = result.samples.astype(np.float64)
    for i in range(4):
        expected = ((x - path[i][result.labels[i]]) ** 2).sum()
        np.testing.assert_allclose(result.inertia[i], expected, rtol=1e-12)
        np.testing.assert_allclose(result.center_shift[i], ((path[i + 1] - path[i]) ** 2).sum())
    assert (np.diff(result.inertia) <= 0).all()  # Lloyd never increases its objective
