"""Bad input fails alike in both packages: same type, same message naming the value, no op run.

Each case is called on ``tf1_graph`` and ``tf2_eager`` inside a fresh graph (which must still
be empty afterwards: the check came before any op), and on ``tf2_eager`` eagerly too.
"""

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial import EmptyClusterError, LessonParams
from kmeans_tutorial.cli import main
from kmeans_tutorial.validation import InvalidParameterError

pytestmark = pytest.mark.parity  # compares the two packages

POINTS = np.arange(8, dtype=np.float32).reshape(4, 2)
CENTROIDS = POINTS[:2].copy()
LABELS = np.array([0, 1, 0, 1])
GOOD_SAMPLE_ARGS = {
    "n_clusters": 3,
    "n_samples_per_cluster": 5,
    "n_features": 2,
    "embiggen_factor": 70,
    "seed": 700,
}


def with_nan(array, row=1, column=0, value=np.nan):
    bad = array.copy()
    bad[row, column] = value
    return bad


def sample_args(**overrides):
    return tuple({**GOOD_SAMPLE_ARGS, **overrides}.values())


# (function, args, exception, words the message must contain)
CASES = {
    "n_clusters=0": ("create_samples", sample_args(n_clusters=0), ValueError, "n_clusters=0"),
    "n_clusters=2.0": ("create_samples", sample_args(n_clusters=2.0), TypeError, "got 2.0"),
    "n_clusters=True": ("create_samples", sample_args(n_clusters=True), TypeError, "got True"),
    "samples/cluster=0": (
        "create_samples",
        sample_args(n_samples_per_cluster=0),
        ValueError,
        "n_samples_per_cluster=0",
    ),
    "n_features=-1": ("create_samples", sample_args(n_features=-1), ValueError, "n_features=-1"),
    "seed=-1": ("create_samples", sample_args(seed=-1), ValueError, "seed=-1"),
    "seed=1.5": ("create_samples", sample_args(seed=1.5), TypeError, "got 1.5"),
    "seed=2**32": ("create_samples", sample_args(seed=2**32), ValueError, "seed=4294967296"),
    "embiggen=nan": ("create_samples", sample_args(embiggen_factor=np.nan), ValueError, "=nan"),
    "embiggen='70'": ("create_samples", sample_args(embiggen_factor="70"), TypeError, "'70'"),
    "k>n_samples": (
        "choose_random_centroids",
        (POINTS, 5),
        ValueError,
        "n_samples=4 should be >= n_clusters=5",
    ),
    "choose/k=-2": ("choose_random_centroids", (POINTS, -2), ValueError, "n_clusters=-2"),
    "choose/seed=-3": ("choose_random_centroids", (POINTS, 2, -3), ValueError, "seed=-3"),
    "samples-nan": (
        "choose_random_centroids",
        (with_nan(POINTS), 2),
        ValueError,
        "got nan at row 1, column 0",
    ),
    "samples-inf": (
        "assign_to_nearest",
        (with_nan(POINTS, 3, 1, np.inf), CENTROIDS),
        ValueError,
        "got inf at row 3, column 1",
    ),
    "samples-rank-1": ("choose_random_centroids", (POINTS[0], 1), ValueError, "shape (2,)"),
    "samples-rank-3": ("assign_to_nearest", (POINTS[None], CENTROIDS), ValueError, "(1, 4, 2)"),
    "samples-empty": (
        "choose_random_centroids",
        (np.zeros((0, 2), np.float32), 1),
        ValueError,
        "shape (0, 2)",
    ),
    "samples-strings": (
        "choose_random_centroids",
        (np.array([["a", "b"]]), 1),
        TypeError,
        "dtype <U1",
    ),
    "samples-int": ("assign_to_nearest", (LABELS[:, None], CENTROIDS), TypeError, "dtype int64"),
    "samples-ragged": ("assign_to_nearest", ([[1.0, 2.0], [3.0]], CENTROIDS), TypeError, "list"),
    "centroids-3-features": (
        "assign_to_nearest",
        (POINTS, np.zeros((2, 3), np.float32)),
        ValueError,
        "n_features=2 columns, got shape (2, 3)",
    ),
    "centroids-nan": (
        "assign_to_nearest",
        (POINTS, with_nan(CENTROIDS, 0, 1)),
        ValueError,
        "centroids must be finite, got nan at row 0, column 1",
    ),
    "centroids-float64": (
        "assign_to_nearest",
        (POINTS, CENTROIDS.astype(np.float64)),
        TypeError,
        "dtype float32, got dtype float64",
    ),
    "labels-out-of-range": (
        "update_centroids",
        (POINTS, np.array([0, 1, 2, 1]), 2),
        ValueError,
        "got 2 at position 2",
    ),
    "labels-negative": (
        "update_centroids",
        (POINTS, np.array([0, -1, 0, 1]), 2),
        ValueError,
        "got -1 at position 1",
    ),
    "labels-wrong-length": (
        "update_centroids",
        (POINTS, LABELS[:3], 2),
        ValueError,
        "n_samples=4), got shape (3,)",
    ),
    "labels-float": (
        "update_centroids",
        (POINTS, LABELS.astype(np.float32), 2),
        TypeError,
        "dtype float32",
    ),
    "update/k=0": ("update_centroids", (POINTS, LABELS, 0), ValueError, "n_clusters=0"),
    "run/params-dict": ("run_lesson", ({"seed": 1},), TypeError, "got {'seed': 1} of type dict"),
}


def outcome(call):
    """The exception ``call()`` raises, as (type, message); fails if it raises none."""
    with pytest.raises(Exception) as info:  # any type: the type is what gets compared
        call()
    return type(info.value), str(info.value)


def in_fresh_graph(function, args):
    graph = tf.Graph()
    with graph.as_default():
        raised = outcome(lambda: function(*args))
    assert graph.get_operations() == [], "an op was built before the input was checked"
    return raised


@pytest.mark.parametrize(("name", "args", "error", "words"), CASES.values(), ids=CASES.keys())
def test_both_packages_refuse_alike(tf1, tf2, name, args, error, words):
    tf1_outcome = in_fresh_graph(getattr(tf1, name), args)
    tf2_outcome = in_fresh_graph(getattr(tf2, name), args)
    tf2_eager_outcome = outcome(lambda: getattr(tf2, name)(*args))
    assert tf1_outcome == tf2_outcome == tf2_eager_outcome
    # One error class everywhere, still the TypeError or ValueError it always was.
    assert tf1_outcome[0] is InvalidParameterError and issubclass(InvalidParameterError, error)
    assert words in tf1_outcome[1]


def test_there_are_enough_cases():
    assert len(CASES) >= 15
    assert {case[0] for case in CASES.values()} == {
        "create_samples",
        "choose_random_centroids",
        "assign_to_nearest",
        "update_centroids",
        "run_lesson",
    }


def test_eager_tensors_are_checked_like_arrays(tf2):
    expected = outcome(lambda: tf2.assign_to_nearest(with_nan(POINTS), CENTROIDS))
    as_tensor = tf.constant(with_nan(POINTS))
    assert outcome(lambda: tf2.assign_to_nearest(as_tensor, CENTROIDS)) == expected


# The lesson's update gives nan for an empty cluster; the runners stop and say where.
EMPTY = LessonParams(n_clusters=3, n_samples_per_cluster=1, embiggen_factor=0, seed=0)


def test_an_empty_cluster_is_reported_alike(tf1, tf2):
    errors = []
    for package in (tf1, tf2):
        with pytest.raises(EmptyClusterError) as info:
            package.run_lesson(EMPTY)
        errors.append(info.value)
    first, second = errors
    assert str(first) == str(second)
    assert (first.iteration, first.cluster) == (second.iteration, second.cluster) == (1, 1)
    assert "iteration 1 left cluster 1 with no samples" in str(first)
    for (stage, a), (_, b) in zip(first.result.stages(), second.result.stages(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=stage)
    assert np.isnan(first.result.centroids[-1, 1]).all()  # the nan it would have carried


def test_cli_reports_an_empty_cluster_in_one_line(capsys):
    argv = ["compare", "--n-clusters", "3", "--n-samples-per-cluster", "1"]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--embiggen-factor", "0", "--seed", "0", "--no-plot"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "left cluster 1 with no samples" in err
