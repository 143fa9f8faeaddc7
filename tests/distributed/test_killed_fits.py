"""Fits killed with SIGKILL and started again with the same arguments: they resume from
their last checkpoint and end bit-identical to a fit never stopped (``checkpoint_dir``).

Each killed fit is a process of its own (``killed_fit.py``), on one machine, with no
network; run by the nox session ``distributed``.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kmeans_tutorial.engine.checkpoints import latest_path

HERE = Path(__file__).parent
TIMEOUT = 120  # seconds a fit may take, start-up included; it takes about 8
sys.path.insert(0, str(HERE))
from killed_fit import PARAMS  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    values = np.random.RandomState(4).rand(6000, 3).astype(np.float32)
    path = tmp_path_factory.mktemp("data") / "X.npy"
    np.save(path, values)
    return path


def run(package, kind, data, checkpoints, out, *flags) -> subprocess.CompletedProcess:
    import tf1_graph

    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(Path(tf1_graph.__file__).parents[1])}
    command = [sys.executable, str(HERE / "killed_fit.py"), package, kind, str(data)]
    return subprocess.run(
        [*command, str(checkpoints), str(out), *flags],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def killed(package, kind, data, checkpoints, *flags) -> None:
    done = run(package, kind, data, checkpoints, checkpoints.parent / "never.npz", *flags)
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]


def resumed(package, kind, data, checkpoints) -> dict:
    out = checkpoints.parent / f"{package}.npz"
    done = run(package, kind, data, checkpoints, out)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(np.load(out))


@pytest.fixture(scope="module")
def uninterrupted(data):
    """Each kind's fit never stopped and never checkpointed, in this process (tf2_eager)."""
    import tf2_eager

    fits = {}
    for kind, cls in (("kmeans", tf2_eager.KMeans), ("minibatch", tf2_eager.MiniBatchKMeans)):
        estimator, passes = cls(**PARAMS[kind]), []
        estimator._progress = lambda number, *_, passes=passes: passes.append(number)
        estimator.fit(np.load(data, mmap_mode="r"))
        fits[kind] = {
            "centers": estimator.cluster_centers_,
            "labels": estimator.labels_,
            "inertia": estimator.inertia_,
            "n_iter": estimator.n_iter_,
            "passes": np.array(passes),
            "steps": getattr(estimator, "n_steps_", 0),
        }
    return fits


def assert_same_fit(fit, reference):
    np.testing.assert_array_equal(fit["centers"], reference["centers"])
    np.testing.assert_array_equal(fit["labels"], reference["labels"])
    assert fit["inertia"] == reference["inertia"]
    assert fit["n_iter"] == reference["n_iter"]


@pytest.mark.parametrize("first, then", [("tf1", "tf2")])
def test_a_fit_killed_mid_pass_resumes_where_it_stopped(first, then, data, uninterrupted, tmp_path):
    """Killed on the first batch of pass 4, in one package; resumed in the other (both
    write TensorFlow's checkpoint format): the resumed fit reads from pass 4 on, and is
    the fit never stopped."""
    checkpoints = tmp_path / "checkpoints"
    killed(first, "kmeans", data, checkpoints, "--kill-at-pass=4")
    assert latest_path(checkpoints) == str(checkpoints / "ckpt-3")
    fit = resumed(then, "kmeans", data, checkpoints)
    assert_same_fit(fit, uninterrupted["kmeans"])
    passes = uninterrupted["kmeans"]["passes"]
    np.testing.assert_array_equal(fit["passes"], passes[passes.tolist().index(4) :])


@pytest.mark.parametrize("first, then", [("tf2", "tf1")])
def test_a_fit_killed_during_a_save_resumes_from_the_save_before(
    first, then, data, uninterrupted, tmp_path
):
    """Killed in its third save, once that checkpoint's files are written and before the
    index names it: the index still names the second, which the fit resumes from."""
    checkpoints = tmp_path / "checkpoints"
    killed(first, "kmeans", data, checkpoints, "--kill-in-save=3")
    assert (checkpoints / "ckpt-3.index").exists()  # written whole, never named
    assert latest_path(checkpoints) == str(checkpoints / "ckpt-2")
    fit = resumed(then, "kmeans", data, checkpoints)
    assert_same_fit(fit, uninterrupted["kmeans"])
    passes = uninterrupted["kmeans"]["passes"]
    np.testing.assert_array_equal(fit["passes"], passes[passes.tolist().index(3) :])


def test_a_mini_batch_fit_killed_mid_fit_resumes(data, uninterrupted, tmp_path):
    """Killed before step 80, checkpoints every 25 steps: resumed after step 75."""
    checkpoints = tmp_path / "checkpoints"
    killed("tf1", "minibatch", data, checkpoints, "--kill-at-step=80")
    fit = resumed("tf2", "minibatch", data, checkpoints)
    assert_same_fit(fit, uninterrupted["minibatch"])
    assert fit["steps"] == uninterrupted["minibatch"]["steps"] - 75
