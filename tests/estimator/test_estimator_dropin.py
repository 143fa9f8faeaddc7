"""``tf1_graph.estimator.KMeans``, the drop-in for TensorFlow's KMeans estimator, on its own.

What the real estimator did is compared in ``test_estimator_reference.py`` (``nox -s
estimator``); here, what needs no reference: the forms of input it takes, the claims its
docstrings and ``docs/MIGRATION.md`` make, and its errors. It is TF1 code: these tests
run with the tf1 tests (``--impl tf1``, or both).
"""

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial.validation import InvalidParameterError

N_CLUSTERS = 4


@pytest.fixture(autouse=True)
def _tf1_only(request):
    if request.config.getoption("impl") == "tf2":
        pytest.skip("tf1_graph's drop-in runs with the tf1 tests")


@pytest.fixture(scope="module")
def points():
    rng = np.random.RandomState(4)
    centres = rng.uniform(-8, 8, size=(N_CLUSTERS, 3))
    return (centres[rng.randint(N_CLUSTERS, size=400)] + rng.normal(size=(400, 3))).astype(
        np.float32
    )


# Named as the estimator's class it makes (in a test's folder).
def KMeans(*args, **kwargs):
    from tf1_graph.estimator import KMeans as DropIn

    return DropIn(*args, **kwargs)


def whole(points):
    return lambda: tf.compat.v1.train.limit_epochs(tf.constant(points), num_epochs=1)


def repeated(points):
    return lambda: tf.data.Dataset.from_tensors(points).repeat()


def batches(points, size):
    return lambda: tf.data.Dataset.from_tensor_slices(points).batch(size).repeat()


def lloyd(points, centres, iterations):
    """Full-batch Lloyd in NumPy, float64, the estimator's way (counts + 1e-6)."""
    centres = centres.astype(np.float64)
    for _ in range(iterations):
        labels = ((points[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, points)
        centres = sums / (np.bincount(labels, minlength=len(centres))[:, None] + 1e-6)
    return centres


def test_full_batch_steps_are_lloyd_iterations(points, tmp_path):
    estimator = KMeans(N_CLUSTERS, model_dir=tmp_path, initial_clusters=points[:N_CLUSTERS],
                       use_mini_batch=False)  # fmt: skip
    estimator.train(repeated(points), steps=5)
    assert estimator.get_variable_value("global_step") == 5
    np.testing.assert_allclose(
        estimator.cluster_centers(), lloyd(points, points[:N_CLUSTERS], 5), rtol=1e-5
    )


def test_a_tensor_input_fn_and_a_dataset_train_alike(points, tmp_path):
    """limit_epochs (the estimator's own example, one train call at a time) and a
    repeated dataset trained for as many steps: the same centres."""
    init = points[:N_CLUSTERS]
    tensor = KMeans(N_CLUSTERS, model_dir=tmp_path / "tensor", initial_clusters=init,
                    use_mini_batch=False)  # fmt: skip
    for _ in range(4):
        tensor.train(whole(points))
    steps = int(tensor.get_variable_value("global_step"))
    dataset = KMeans(N_CLUSTERS, model_dir=tmp_path / "dataset", initial_clusters=init,
                     use_mini_batch=False)  # fmt: skip
    dataset.train(repeated(points), steps=steps)
    assert steps >= 4
    np.testing.assert_array_equal(tensor.cluster_centers(), dataset.cluster_centers())


def test_mini_batch_training_repeats(points, tmp_path):
    """The real estimator's mini-batch updates race (its reads and writes are unordered);
    the drop-in's do not: two runs give the same bits."""
    centres = []
    for run in range(2):
        estimator = KMeans(N_CLUSTERS, model_dir=tmp_path / str(run),
                           initial_clusters=points[:N_CLUSTERS])  # fmt: skip
        estimator.train(batches(points, 32), steps=40)
        centres.append(estimator.cluster_centers())
    np.testing.assert_array_equal(centres[0], centres[1])


@pytest.mark.parametrize("steps_per_iteration, start", [(1, 1), (3, 0)])
def test_mini_batch_counts_start_at_one_with_one_step_an_iteration(
    points, tmp_path, steps_per_iteration, start
):
    """With one step an iteration the initial centre weighs as a point (counts start at
    1); with more, the counts start at 0 (and restart at each iteration's end)."""
    init = points[:N_CLUSTERS]
    estimator = KMeans(N_CLUSTERS, model_dir=tmp_path, initial_clusters=init,
                       mini_batch_steps_per_iteration=steps_per_iteration)  # fmt: skip
    estimator.train(batches(points, 50), steps=1)
    batch = points[:50]  # given centres: the initialisation reads no batch
    labels = ((batch[:, None] - init[None]) ** 2).sum(-1).argmin(1)
    counts = np.bincount(labels, minlength=N_CLUSTERS)
    np.testing.assert_array_equal(estimator.get_variable_value("Variable"), start + counts)


def test_kmc2_chooses_every_centre_and_repeats_with_a_seed(points, tmp_path):
    chosen = []
    for run in range(2):
        estimator = KMeans(N_CLUSTERS, model_dir=tmp_path / str(run), seed=3,
                           initial_clusters=KMeans(1, model_dir=tmp_path).KMC2_INIT,
                           use_mini_batch=False)  # fmt: skip
        estimator.train(repeated(points), steps=1)
        chosen.append(estimator.get_variable_value("clusters"))
    np.testing.assert_array_equal(chosen[0], chosen[1])
    assert len(chosen[0]) == N_CLUSTERS


def test_cosine_centres_stay_unit_vectors(points, tmp_path):
    estimator = KMeans(N_CLUSTERS, model_dir=tmp_path, initial_clusters=points[:N_CLUSTERS],
                       distance_metric="cosine", use_mini_batch=False)  # fmt: skip
    estimator.train(repeated(points), steps=3)
    np.testing.assert_allclose(np.linalg.norm(estimator.cluster_centers(), axis=1), 1, rtol=1e-6)
    distances = next(estimator.transform(whole(points)))
    unit = points[0] / np.linalg.norm(points[0])
    np.testing.assert_allclose(distances, 1 - estimator.cluster_centers() @ unit, atol=1e-6)


def test_max_steps_already_reached_skips_training(points, tmp_path):
    estimator = KMeans(N_CLUSTERS, model_dir=tmp_path, initial_clusters=points[:N_CLUSTERS],
                       use_mini_batch=False)  # fmt: skip
    estimator.train(repeated(points), max_steps=3)
    before = estimator.cluster_centers()
    estimator.train(repeated(points), max_steps=3)
    assert estimator.get_variable_value("global_step") == 3
    np.testing.assert_array_equal(estimator.cluster_centers(), before)
    assert estimator.latest_checkpoint().endswith("model.ckpt-3")


def test_dict_features_are_the_columns_by_sorted_name(points, tmp_path):
    estimator = KMeans(N_CLUSTERS, model_dir=tmp_path, initial_clusters=points[:N_CLUSTERS],
                       use_mini_batch=False)  # fmt: skip
    estimator.train(repeated(points), steps=2)
    by_name = {"b": points[:, 1:], "a": points[:, :1]}
    as_dict = list(estimator.predict_cluster_index(
        lambda: tf.data.Dataset.from_tensors(by_name)))  # fmt: skip
    np.testing.assert_array_equal(as_dict, list(estimator.predict_cluster_index(whole(points))))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"initial_clusters": "kmeans++"}, "Unsupported initialization algorithm 'kmeans\\+\\+'"),
        ({"distance_metric": "manhattan"}, "Unsupported distance metric 'manhattan'"),
        ({"mini_batch_steps_per_iteration": 0}, "mini_batch_steps_per_iteration=0"),
        ({"initial_clusters": np.zeros(3)}, "2-D array of centres"),
    ],
)
def test_bad_arguments_are_named(kwargs, message, tmp_path):
    with pytest.raises(InvalidParameterError, match=message):
        KMeans(N_CLUSTERS, model_dir=tmp_path, **kwargs)


def test_float64_points_are_refused_with_the_fix(points, tmp_path):
    estimator = KMeans(N_CLUSTERS, model_dir=tmp_path)
    with pytest.raises(InvalidParameterError, match=r"float64.*tf\.cast"):
        estimator.train(repeated(points.astype(np.float64)), steps=1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps=0 should be >= 1"),
        ({"steps": 1, "max_steps": 2}, "both steps and max_steps"),
    ],
)
def test_bad_steps_are_named(points, tmp_path, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        KMeans(N_CLUSTERS, model_dir=tmp_path).train(repeated(points), **kwargs)


def test_using_an_untrained_model_says_so(points, tmp_path):
    with pytest.raises(InvalidParameterError, match="Could not find trained model"):
        KMeans(N_CLUSTERS, model_dir=tmp_path).cluster_centers()


def test_train_runs_the_callers_hooks(points, tmp_path):
    """A ``SessionRunHook`` passed to ``train`` sees every step, as the estimator's did."""

    class Counter(tf.compat.v1.train.SessionRunHook):
        runs = 0

        def after_run(self, run_context, run_values):
            Counter.runs += 1

    estimator = KMeans(N_CLUSTERS, model_dir=tmp_path, initial_clusters=points[:N_CLUSTERS])
    estimator.train(batches(points, 40), hooks=[Counter()], steps=4)
    assert Counter.runs == 4
    assert estimator.get_variable_value("global_step") == 4


def test_model_dir_holds_checkpoints_and_no_graph_dump(points, tmp_path):
    """The estimator's CheckpointSaverHook also wrote graph.pbtxt, which TF 2.20 with
    protobuf 7 cannot write; the drop-in saves the checkpoints alone."""
    estimator = KMeans(N_CLUSTERS, model_dir=tmp_path / "new", initial_clusters=points[:N_CLUSTERS])
    estimator.train(batches(points, 40), steps=2)
    names = sorted(path.name for path in (tmp_path / "new").iterdir())
    assert "graph.pbtxt" not in names and "checkpoint" in names
    assert {"model.ckpt-0.index", "model.ckpt-2.index"} <= set(names)


def test_feature_columns_choose_and_order_the_features(points, tmp_path):
    """``feature_columns`` go through ``tf.feature_column.input_layer``, as the estimator's."""
    columns = [
        tf.compat.v1.feature_column.numeric_column("b", shape=[2]),
        tf.compat.v1.feature_column.numeric_column("a"),
    ]
    estimator = KMeans(N_CLUSTERS, model_dir=tmp_path, initial_clusters=points[:N_CLUSTERS],
                       use_mini_batch=False, feature_columns=columns)  # fmt: skip
    by_name = {"b": points[:, 1:], "a": points[:, :1], "ignored": points[:, :1] * 0}
    estimator.train(lambda: tf.data.Dataset.from_tensors(by_name).repeat(), steps=2)
    plain = KMeans(N_CLUSTERS, model_dir=tmp_path / "plain",
                   initial_clusters=points[:N_CLUSTERS], use_mini_batch=False)  # fmt: skip
    plain.train(repeated(points), steps=2)
    np.testing.assert_allclose(estimator.cluster_centers(), plain.cluster_centers(), rtol=1e-6)


def test_transform_at_a_centre_is_zero_not_nan(points, tmp_path):
    """Squared distances computed as |x|² - 2x·c + |c|² round below 0 for points at a
    centre far from the origin; the estimator's square root then gave nan."""
    far = points + np.float32(1000)
    estimator = KMeans(N_CLUSTERS, model_dir=tmp_path, initial_clusters=far[:N_CLUSTERS],
                       use_mini_batch=False)  # fmt: skip
    estimator.train(repeated(far), steps=3)
    centres = estimator.cluster_centers()
    noise = np.random.RandomState(0).normal(scale=1e-3, size=(400, centres.shape[1]))
    near = (centres[np.arange(400) % N_CLUSTERS] + noise).astype(np.float32)
    rows = list(estimator.predict(lambda: tf.data.Dataset.from_tensors(near)))
    squared = np.array([row["all_distances"] for row in rows])
    assert (squared < 0).any()  # the case this test is about
    distances = np.array(list(estimator.transform(lambda: tf.data.Dataset.from_tensors(near))))
    assert np.isfinite(distances).all()
    np.testing.assert_array_equal(distances, np.sqrt(np.maximum(squared, 0)))
