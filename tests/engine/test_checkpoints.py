"""``checkpoint_dir``: a fit stopped by an error or an interrupt resumes from its last
checkpoint, in either package, and ends bit-identical to a fit never stopped; a checkpoint
of another fit is refused. (Processes killed with SIGKILL, and clusters that lose a
worker: ``tests/distributed``.)"""

import contextlib
import io
import json

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial.engine import checkpoints
from kmeans_tutorial.validation import InvalidParameterError

KMEANS = {"n_clusters": 8, "n_init": 2, "max_iter": 10, "random_state": 2}
MINIBATCH = {
    "n_clusters": 8,
    "batch_size": 100,
    "max_iter": 3,
    "checkpoint_steps": 7,
    "max_no_improvement": None,
    "random_state": 2,
}


class StopError(Exception):
    """Stands for whatever ends a fit: an error, Ctrl-C."""


@pytest.fixture(scope="module")
def values():
    return np.random.RandomState(0).rand(4000, 3).astype(np.float32)


def dataset(values, rows=500):
    return tf.data.Dataset.from_tensor_slices(values).batch(rows)


def memmap(values, folder):
    np.save(folder / "X.npy", values)
    return np.load(folder / "X.npy", mmap_mode="r")


def recorded(estimator, stop_at: int | None = None) -> list:
    """The pass number of each batch the fit reads; a ``StopError`` on batch ``stop_at``."""
    passes = []

    def progress(number, *_):
        if len(passes) == stop_at:
            raise StopError
        passes.append(number)

    estimator._progress = progress
    return passes


def count_steps(estimator, stop_at: int | None = None) -> list:
    """A list that grows by one a mini-batch step; a ``StopError`` before step ``stop_at``."""
    steps, step = [], estimator._step

    def counted(*args, **kwargs):
        if len(steps) == stop_at:
            raise StopError
        steps.append(1)
        return step(*args, **kwargs)

    estimator._step = counted
    return steps


def assert_same_fit(fit, reference):
    np.testing.assert_array_equal(fit.cluster_centers_, reference.cluster_centers_)
    np.testing.assert_array_equal(fit.labels_, reference.labels_)
    assert fit.inertia_ == reference.inertia_
    assert fit.n_iter_ == reference.n_iter_


def test_a_stopped_streamed_fit_resumes_where_it_stopped(impl, values, tmp_path):
    """Stopped in its first run and in its second (8 batches a pass, 2 runs): the fit
    started again reads from the start of the pass it stopped in, never before it."""
    reference = impl.KMeans(**KMEANS)
    passes = recorded(reference)
    reference.fit(dataset(values))
    second_run = int(np.flatnonzero(np.diff(passes) < 0)[0]) + 1
    for stop_at in (8 * 3 + 5, second_run + 8 * 2 + 1):
        folder = tmp_path / str(stop_at)
        stopped = impl.KMeans(checkpoint_dir=folder, **KMEANS)
        recorded(stopped, stop_at)
        with pytest.raises(StopError):
            stopped.fit(dataset(values))
        assert not hasattr(stopped, "cluster_centers_")
        resumed = impl.KMeans(checkpoint_dir=folder, **KMEANS)
        read = recorded(resumed)
        resumed.fit(dataset(values))
        assert_same_fit(resumed, reference)
        start = stop_at - stop_at % 8  # the first batch of the pass it stopped in
        assert read == passes[start:]


@pytest.mark.parametrize("kind", ["array", "dataset"])
def test_a_stopped_mini_batch_fit_resumes(impl, kind, values, tmp_path):
    """Stopped before step 30, checkpoints every 7 steps: it resumes after step 28."""
    data = (lambda: values) if kind == "array" else (lambda: dataset(values, 100))
    reference = impl.MiniBatchKMeans(**MINIBATCH).fit(data())
    stopped = impl.MiniBatchKMeans(checkpoint_dir=tmp_path, **MINIBATCH)
    count_steps(stopped, stop_at=29)
    with pytest.raises(StopError):
        stopped.fit(data())
    resumed = impl.MiniBatchKMeans(checkpoint_dir=tmp_path, **MINIBATCH)
    steps = count_steps(resumed)
    resumed.fit(data())
    assert_same_fit(resumed, reference)
    assert resumed.n_steps_ == reference.n_steps_
    assert len(steps) == reference.n_steps_ - 28


def test_a_finished_fit_is_read_from_its_checkpoint(impl, values, tmp_path):
    """The directory keeps a finished fit: fitting again reads no pass but the labelling."""
    first = impl.KMeans(checkpoint_dir=tmp_path, **KMEANS).fit(memmap(values, tmp_path))
    again = impl.KMeans(checkpoint_dir=tmp_path, **KMEANS)
    read = recorded(again)
    again.fit(memmap(values, tmp_path))
    assert_same_fit(again, first)
    assert read == []


def test_either_package_resumes_the_others_checkpoints(values, tmp_path):
    import tf1_graph
    import tf2_eager

    reference = tf2_eager.KMeans(**KMEANS).fit(dataset(values))
    for first, then in ((tf1_graph, tf2_eager), (tf2_eager, tf1_graph)):
        folder = tmp_path / first.__name__
        stopped = first.KMeans(checkpoint_dir=folder, **KMEANS)
        recorded(stopped, 8 * 4 + 2)
        with pytest.raises(StopError):
            stopped.fit(dataset(values))
        resumed = then.KMeans(checkpoint_dir=folder, **KMEANS).fit(dataset(values))
        assert_same_fit(resumed, reference)


@pytest.mark.parametrize(
    "change, named",
    [
        ({"n_clusters": 7}, "n_clusters=8 there, 7 here"),
        ({"random_state": 3}, "random_state=2 there, 3 here"),
        ({"tol": 0.5}, "tol=0.0001 there, 0.5 here"),
        ({"data": "other"}, "the data differ: init sample="),
        ({"data": "shorter"}, "the data differ: n_samples=4000 there, 3999 here"),
    ],
)
def test_a_checkpoint_of_another_fit_is_refused(impl, values, tmp_path, change, named):
    impl.KMeans(checkpoint_dir=tmp_path, **KMEANS).fit(memmap(values, tmp_path))
    change = dict(change)
    data = {"other": values[::-1].copy(), "shorter": values[:-1]}.get(change.pop("data", None))
    (tmp_path / "other").mkdir()
    other = memmap(values if data is None else data, tmp_path / "other")
    with pytest.raises(InvalidParameterError, match="holds a checkpoint of another fit") as error:
        impl.KMeans(checkpoint_dir=tmp_path, **{**KMEANS, **change}).fit(other)
    assert named in str(error.value)
    assert str(tmp_path) in str(error.value)


def test_a_checkpoint_of_another_estimator_is_refused(impl, values, tmp_path):
    impl.MiniBatchKMeans(checkpoint_dir=tmp_path, **MINIBATCH).fit(values)
    with pytest.raises(InvalidParameterError, match="a MiniBatchKMeans fit, not a KMeans fit"):
        impl.KMeans(checkpoint_dir=tmp_path, **KMEANS).fit(memmap(values, tmp_path))


def test_checkpoint_parameters_are_checked(impl, values, tmp_path):
    with pytest.raises(InvalidParameterError, match="checkpoint_dir is for fits that read X"):
        impl.KMeans(checkpoint_dir=tmp_path, **KMEANS).fit(values)
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidParameterError, match="is a file, not a folder"):
        impl.KMeans(checkpoint_dir=tmp_path / "file", **KMEANS).fit(dataset(values))
    with pytest.raises(InvalidParameterError, match="checkpoint_steps=0 should be >= 1"):
        impl.MiniBatchKMeans(checkpoint_dir=tmp_path, checkpoint_steps=0).fit(values)
    with pytest.raises(InvalidParameterError, match="checkpoint_dir=3 should be a folder's path"):
        impl.KMeans(checkpoint_dir=3).fit(dataset(values))


def test_a_checkpoint_holds_no_labels(impl, values, tmp_path):
    """What is saved grows with n_clusters x n_features, never with the data's rows; the
    fingerprint holds the parameters."""
    impl.KMeans(checkpoint_dir=tmp_path, **KMEANS).fit(dataset(values))
    reader = tf.train.load_checkpoint(checkpoints.latest_path(tmp_path))
    sizes = {
        name: int(np.prod(shape)) for name, shape in reader.get_variable_to_shape_map().items()
    }
    assert max(sizes.values()) == 626  # the random generator's state
    fit = json.loads(reader.get_tensor(next(name for name in sizes if name.startswith("fit"))))
    assert fit["params"]["n_clusters"] == 8 and fit["data"]["n_features"] == 3


def logged(folder) -> dict:
    """The scalars of the event files in ``folder``: {tag: [(step, value), ...]}."""
    from tensorflow.core.util import event_pb2

    scalars: dict = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                number = (
                    value.simple_value
                    if value.HasField("simple_value")
                    else float(tf.make_ndarray(value.tensor))
                )
                scalars.setdefault(value.tag, []).append((event.step, number))
    return scalars


def test_a_streamed_fit_logs_each_pass_inertia_for_tensorboard(impl, values, tmp_path):
    """One curve a run, a point a pass: the inertia of the pass's rows to the centres they
    were given, which the verbose fit prints too."""
    fit = impl.KMeans(log_dir=tmp_path, verbose=1, **KMEANS)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fit.fit(dataset(values))
    lines = [line.split("inertia ")[1] for line in out.getvalue().splitlines() if "pass " in line]
    printed = [float(line.split(",")[0]) for line in lines]
    scalars = logged(tmp_path)
    assert sorted(scalars) == ["inertia/run 1", "inertia/run 2"]
    first, second = scalars["inertia/run 1"], scalars["inertia/run 2"]
    assert [step for step, _ in first] == list(range(1, len(first) + 1))
    np.testing.assert_allclose([value for _, value in first + second], printed, rtol=1e-5)


def test_a_mini_batch_fit_logs_each_pass(impl, values, tmp_path):
    impl.MiniBatchKMeans(log_dir=tmp_path, **MINIBATCH).fit(values)
    assert [step for step, _ in logged(tmp_path)["inertia"]] == [1, 2, 3]


# A fit far from converged at 3 passes (tol=0: it stops only when no label changes).
ONE_RUN = {"n_clusters": 8, "n_init": 1, "tol": 0.0, "random_state": 2}


@pytest.mark.parametrize("kind", ["memmap", "dataset"])
def test_a_finished_fit_continues_to_a_larger_max_iter(impl, kind, values, tmp_path):
    """As the estimator's ``model_dir`` trained on to more steps: a finished fit of
    max_iter=3, fitted again with max_iter=9 and the same checkpoint_dir, goes on from its
    third pass and ends bit-identical to a fit of max_iter=9 from the start; fitted again
    with max_iter=9, it reads the result; with a max_iter past its convergence, the same."""
    X = memmap(values, tmp_path) if kind == "memmap" else dataset(values)
    folder = tmp_path / "checkpoints"
    short = impl.KMeans(checkpoint_dir=folder, max_iter=3, **ONE_RUN).fit(X)
    assert short.n_iter_ == 3  # stopped by max_iter, not converged
    passes = recorded(continued := impl.KMeans(checkpoint_dir=folder, max_iter=9, **ONE_RUN))
    continued.fit(X)
    reference = impl.KMeans(max_iter=9, **ONE_RUN).fit(X)
    assert_same_fit(continued, reference)
    assert reference.n_iter_ > 3
    # Passes 4 to 9 and the assignment (pass 3's labels are made again unreported): never
    # passes 1-3 again.
    assert sorted(set(passes)) == list(range(4, reference.n_iter_ + 2)), passes
    again = impl.KMeans(checkpoint_dir=folder, max_iter=9, **ONE_RUN).fit(X)
    assert_same_fit(again, reference)


def test_a_converged_fit_continued_is_unchanged(impl, values, tmp_path):
    """A fit that converged before its max_iter ends the same with a larger one."""
    X = memmap(values, tmp_path)
    folder = tmp_path / "checkpoints"
    params = {**ONE_RUN, "tol": 1e-2}
    converged = impl.KMeans(checkpoint_dir=folder, max_iter=50, **params).fit(X)
    assert converged.n_iter_ < 50
    continued = impl.KMeans(checkpoint_dir=folder, max_iter=80, **params).fit(X)
    assert_same_fit(continued, converged)


def test_a_fit_continues_only_to_more_iterations_of_one_run(impl, values, tmp_path):
    """A smaller max_iter is refused, and a larger one for several runs (only the best run
    is kept, so the others cannot go on), each naming the values; another change to
    max_iter's companions stays refused as another fit."""
    X = memmap(values, tmp_path)
    folder = tmp_path / "checkpoints"
    impl.KMeans(checkpoint_dir=folder, max_iter=5, **ONE_RUN).fit(X)
    with pytest.raises(InvalidParameterError, match=r"max_iter=5 .*max_iter=4 here") as error:
        impl.KMeans(checkpoint_dir=folder, max_iter=4, **ONE_RUN).fit(X)
    assert "continues to more iterations only" in str(error.value)
    with pytest.raises(InvalidParameterError, match="n_clusters=8 there, 7 here"):
        impl.KMeans(checkpoint_dir=folder, max_iter=9, **{**ONE_RUN, "n_clusters": 7}).fit(X)
    several = tmp_path / "several"
    impl.KMeans(checkpoint_dir=several, **{**KMEANS, "max_iter": 3}).fit(X)
    with pytest.raises(InvalidParameterError, match="only its best run is kept") as error:
        impl.KMeans(checkpoint_dir=several, **{**KMEANS, "max_iter": 6}).fit(X)
    assert "max_iter=3" in str(error.value) and "max_iter=6" in str(error.value)


@pytest.mark.parametrize("kind", ["array", "dataset"])
def test_a_finished_mini_batch_fit_continues_to_a_larger_max_iter(impl, kind, values, tmp_path):
    """MiniBatchKMeans alike: max_iter=3 then 5 equals max_iter=5 from the start."""
    X = values if kind == "array" else dataset(values, 250)
    impl.MiniBatchKMeans(checkpoint_dir=tmp_path, **MINIBATCH).fit(X)
    longer = {**MINIBATCH, "max_iter": 5}
    steps = count_steps(continued := impl.MiniBatchKMeans(checkpoint_dir=tmp_path, **longer))
    continued.fit(X)
    reference = impl.MiniBatchKMeans(**longer).fit(X)
    assert_same_fit(continued, reference)
    assert len(steps) == reference.n_steps_ * 2 // 5  # the last 2 of 5 passes' steps
