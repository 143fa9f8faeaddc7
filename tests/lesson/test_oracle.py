"""Independent oracles: a float64 NumPy Lloyd and scikit-learn, from the same start.

Both packages compute in float32; the oracles in float64. They must agree to 1e-5.
"""

import numpy as np
import pytest

from kmeans_tutorial import LESSON_DEFAULTS, LessonParams

import goldens
import oracle

GOLDENS = goldens.load()
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}

CASES = {
    "defaults": LESSON_DEFAULTS,
    "seed1-4x200x3": LessonParams(n_clusters=4, n_samples_per_cluster=200, n_features=3, seed=1),
    "seed42-2x1000x8": LessonParams(
        n_clusters=2, n_samples_per_cluster=1000, n_features=8, seed=42
    ),
}


@pytest.mark.parametrize("params", CASES.values(), ids=CASES.keys())
def test_numpy_lloyd_agrees_at_every_iteration(run_lesson, params):
    result = run_lesson(params)
    labels, centroids = oracle.lloyd(result.samples, result.initial_centroids, params.n_iterations)
    np.testing.assert_array_equal(result.labels, labels)
    np.testing.assert_allclose(result.centroids, centroids, **TOLERANCE)


@pytest.mark.parametrize("params", CASES.values(), ids=CASES.keys())
def test_scikit_learn_lloyd_agrees(run_lesson, params):
    cluster = pytest.importorskip("sklearn.cluster")
    result = run_lesson(params)
    reference = cluster.KMeans(
        n_clusters=params.n_clusters,
        init=result.initial_centroids.astype(np.float64),
        n_init=1,
        max_iter=params.n_iterations,
        tol=0.0,  # strict convergence: stop only when the labels stop changing
        algorithm="lloyd",
    ).fit(result.samples.astype(np.float64))
    # Lloyd from the same start converges to the same fixed point; once there, more
    # iterations change nothing, so the 10th iteration's values are the converged ones.
    assert reference.n_iter_ <= params.n_iterations
    np.testing.assert_allclose(result.final_centroids, reference.cluster_centers_, **TOLERANCE)
    np.testing.assert_array_equal(result.labels[-1], reference.labels_)


def test_scikit_learn_converges_on_the_lesson_in_the_documented_iterations(run_lesson):
    cluster = pytest.importorskip("sklearn.cluster")
    result = run_lesson()
    reference = cluster.KMeans(
        n_clusters=3,
        init=result.initial_centroids.astype(np.float64),
        n_init=1,
        max_iter=100,
        tol=0.0,
        algorithm="lloyd",
    ).fit(result.samples.astype(np.float64))
    assert reference.n_iter_ == GOLDENS["sklearn_lloyd_n_iter"]
    # ...and from that iteration on, the lesson's centroids no longer move.
    converged = result.centroids[reference.n_iter_ - 1 :]
    np.testing.assert_array_equal(converged, np.broadcast_to(converged[-1], converged.shape))
