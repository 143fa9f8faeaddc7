"""Property-based checks over random lesson parameters (bounded example counts).

- TF1 equals TF2 bit for bit at every stage, or both stop at the same empty cluster.
- Each package agrees with a float64 NumPy Lloyd, step by step: labels agree except where
  two centroids are within float32 rounding of a tie; centroids agree to 1e-4 relative.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmeans_tutorial import EmptyClusterError, LessonParams

import oracle

SEEDS = st.one_of(
    st.sampled_from([0, 1, 700, 2**31 - 2, 2**31 - 1, 2**31, 2**32 - 1]),
    st.integers(0, 2**32 - 1),
)
LESSON_PARAMS = st.builds(
    LessonParams,
    n_clusters=st.integers(1, 6),
    n_samples_per_cluster=st.integers(1, 40),
    n_features=st.integers(1, 4),
    embiggen_factor=st.floats(0, 200, allow_nan=False),
    seed=SEEDS,
    centroid_seed=st.one_of(st.none(), SEEDS),
    n_iterations=st.integers(0, 8),
    tol=st.one_of(st.none(), st.floats(0, 1e-2)),
)
# TF1 builds a graph per example: these counts keep the properties quick to check.
BOUNDED = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def outcome(run_lesson, params):
    """The result, or the EmptyClusterError's partial result and message."""
    try:
        return run_lesson(params), None
    except EmptyClusterError as error:
        return error.result, str(error)


@pytest.mark.parity
@BOUNDED
@given(params=LESSON_PARAMS)
def test_tf1_equals_tf2_at_every_stage(tf1, tf2, params):
    (first, first_error), (second, second_error) = (
        outcome(tf1.run_lesson, params),
        outcome(tf2.run_lesson, params),
    )
    assert first_error == second_error
    for (stage, a), (_, b) in zip(first.stages(), second.stages(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=stage, strict=True)


# float32 keeps ~7 digits; distances computed in it may misorder two candidates this close.
TIE_TOLERANCE = 1e-5


def assert_labels_match_up_to_near_ties(samples, centroids, labels):
    distances = oracle.squared_distances(samples, centroids)
    expected = distances.argmin(axis=1)
    differ = np.flatnonzero(labels != expected)
    rows = np.arange(len(samples))
    chosen, best = distances[rows, labels][differ], distances[rows, expected][differ]
    scale = np.maximum(distances[differ].max(axis=1), 1e-30)
    near_tie = (chosen - best) <= TIE_TOLERANCE * scale
    assert near_tie.all(), f"labels differ beyond a float32 tie at samples {differ[~near_tie]}"


@BOUNDED
@given(params=LESSON_PARAMS)
def test_each_step_agrees_with_a_float64_lloyd(run_lesson, params):
    result, _ = outcome(run_lesson, params)
    scale = max(float(np.abs(result.samples).max()), 1.0)
    previous = result.initial_centroids
    for labels, centroids in zip(result.labels, result.centroids, strict=True):
        assert_labels_match_up_to_near_ties(result.samples, previous, labels)
        expected = oracle.update(result.samples, labels, params.n_clusters)
        np.testing.assert_allclose(centroids, expected, rtol=1e-4, atol=1e-4 * scale)
        previous = centroids


@pytest.mark.parametrize(
    "centroids",
    [[[-1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [-1.0, 0.0]], [[0.0, 3.0], [0.0, 3.0]]],
    ids=["left-first", "right-first", "same-centroid-twice"],
)
def test_ties_go_to_the_smaller_index(evaluate, centroids):
    samples = np.array([[0.0, 0.0], [0.0, 5.0]], dtype=np.float32)
    labels = evaluate("assign_to_nearest", samples, np.array(centroids, dtype=np.float32))
    np.testing.assert_array_equal(labels, [0, 0])
    np.testing.assert_array_equal(labels, oracle.assign(samples, centroids))
