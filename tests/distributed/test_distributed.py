"""Distributed fits in real processes: ``MirroredStrategy`` over two logical CPUs,
``MultiWorkerMirroredStrategy`` over two worker processes, TF1's ``train.Server`` cluster.

Run by the nox session ``distributed`` (``pytest tests/distributed``). Every cluster runs in
a network namespace whose only interface is loopback (``distributed_cluster.py``), on free
ports of 127.0.0.1; every process ends by itself, and one that hangs is killed after a
bounded time (``TIMEOUT``), failing the test.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent
TIMEOUT = 240  # seconds a cluster may take, start-up included; it takes about 20
BATCH, N_WORKERS = 700, 2


def _netns_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rn", "ip", "link", "set", "lo", "up"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def netns():
    """A loopback-only network namespace can be made here (else these tests cannot keep
    TensorFlow's servers off the machine's other interfaces)."""
    if not _netns_available():
        message = "cannot make a loopback-only network namespace (unshare -rn)"
        if os.environ.get("KMEANS_DISTRIBUTED_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=5003, n_features=4, centers=6, random_state=3)
    path = tmp_path_factory.mktemp("data") / "X.npy"
    np.save(path, X.astype(np.float32))
    return path


@pytest.fixture(scope="module")
def sorted_data(tmp_path_factory):
    """6 well-separated blobs stored blob after blob, the last past the first 65,536 rows
    (the rows a dataset's init was once drawn from), and each row's blob."""
    from sklearn.datasets import make_blobs

    sizes = [13_500] * 5 + [1_500]
    X, y = make_blobs(n_samples=sizes, n_features=4, cluster_std=0.5, random_state=3)
    order = np.argsort(y, kind="stable")
    path = tmp_path_factory.mktemp("sorted") / "X.npy"
    np.save(path, X[order].astype(np.float32))
    return path, y[order]


def _env():
    import tf1_graph

    packages = str(Path(tf1_graph.__file__).parents[1])
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": packages}


def run_single(mode: str, data: Path, out: Path, *flags: str) -> dict:
    """One process (no cluster): its fit, or a failed test with its output."""
    done = subprocess.run(
        [sys.executable, str(HERE / "distributed_worker.py"), mode, str(data), str(out), *flags],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return dict(np.load(out))


def run_cluster(
    mode: str, data: Path, folder: Path, *flags: str, n_workers: int = N_WORKERS
) -> list[dict]:
    """``n_workers`` processes of a cluster on loopback; each one's fit."""
    done = start_cluster(mode, data, folder, *flags, n_workers=n_workers)
    logs = "".join(path.read_text()[-3000:] for path in sorted(folder.glob("*.log")))
    assert done.returncode == 0, done.stderr[-2000:] + logs
    return [dict(np.load(folder / f"worker{index}.npz")) for index in range(n_workers)]


def start_cluster(mode: str, data: Path, folder: Path, *flags: str, n_workers: int = N_WORKERS):
    """Run a cluster to its end (``TIMEOUT`` at most); the launcher's completed process."""
    folder.mkdir(exist_ok=True)
    command = [
        "unshare", "-rn", sys.executable, str(HERE / "distributed_cluster.py"),
        str(n_workers), str(TIMEOUT), mode, str(data), str(folder), *flags,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, env=_env(), capture_output=True, text=True,
                              timeout=TIMEOUT + 30)  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"the {mode} cluster did not end in {TIMEOUT + 30} s")
    return done


@pytest.fixture(scope="module")
def single(data, tmp_path_factory):
    return run_single("single", data, tmp_path_factory.mktemp("single") / "fit.npz")


def assert_close_centres(actual, desired):
    """Within 1e-5 relative to the centres' scale."""
    np.testing.assert_allclose(actual, desired, rtol=1e-5, atol=1e-5 * np.abs(desired).max())


def shard_labels(labels: np.ndarray, index: int, n_workers: int = N_WORKERS) -> np.ndarray:
    """The labels of the rows worker ``index`` reads: its part of every global batch
    (``experimental_distribute_dataset`` splits each batch over the workers, in order)."""
    batches = np.split(labels, np.arange(BATCH, len(labels), BATCH))
    return np.concatenate([np.array_split(batch, n_workers)[index] for batch in batches])


def test_mirrored_over_two_logical_cpus_equals_one_process(data, single, tmp_path):
    mirrored = run_single("mirrored", data, tmp_path / "fit.npz")
    assert_close_centres(mirrored["centers"], single["centers"])
    np.testing.assert_array_equal(mirrored["labels"], single["labels"])
    assert mirrored["n_iter"] == single["n_iter"] > 2


def test_data_stored_in_order_is_seeded_from_all_of_it_everywhere(netns, sorted_data, tmp_path):
    """A dataset sorted by blob, the estimator's own init (k-means||, every process reading
    the whole dataset for its passes): one process puts each blob in a cluster of its own,
    and MirroredStrategy, MultiWorkerMirroredStrategy and a TF1 cluster fit as it does."""
    path, blobs = sorted_data
    flags = ("--default-init", "--batch=3000")  # 23 batches a pass
    alone = run_single("single", path, tmp_path / "alone.npz", *flags)
    pairs = set(zip(blobs.tolist(), alone["labels"].tolist(), strict=True))
    assert len(pairs) == 6 and len({label for _, label in pairs}) == 6
    mirrored = run_single("mirrored", path, tmp_path / "mirrored.npz", *flags)
    workers = run_cluster("multi-worker", path, tmp_path / "mwms", *flags)
    tasks = run_cluster("tf1-cluster", path, tmp_path / "tf1", *flags)
    for fit in (mirrored, *workers, *tasks):
        assert_close_centres(fit["centers"], alone["centers"])
        np.testing.assert_allclose(fit["inertia"], alone["inertia"], rtol=1e-5)


@pytest.fixture(scope="module")
def multi_worker(netns, data, tmp_path_factory):
    """Each worker's fit under MultiWorkerMirroredStrategy."""
    return run_cluster("multi-worker", data, tmp_path_factory.mktemp("multi-worker"))


def test_multi_worker_over_two_processes_equals_one_process(multi_worker, single):
    workers = multi_worker
    for worker in workers[1:]:  # every worker ends with the same model
        np.testing.assert_array_equal(worker["centers"], workers[0]["centers"])
        assert worker["inertia"] == workers[0]["inertia"]
    assert_close_centres(workers[0]["centers"], single["centers"])
    np.testing.assert_allclose(workers[0]["inertia"], single["inertia"], rtol=1e-5)
    for index, worker in enumerate(workers):  # each labels the batches it read
        np.testing.assert_array_equal(worker["labels"], shard_labels(single["labels"], index))


def test_mini_batch_over_two_processes(netns, data, tmp_path):
    """The global batches split over the workers: the same model on both, as good a fit."""
    alone = run_single("single", data, tmp_path / "alone.npz", "--mini-batch")
    workers = run_cluster("multi-worker", data, tmp_path / "cluster", "--mini-batch")
    np.testing.assert_array_equal(workers[0]["centers"], workers[1]["centers"])
    assert workers[0]["inertia"] <= 1.02 * alone["inertia"]


@pytest.fixture(scope="module")
def tf1_cluster(netns, data, tmp_path_factory):
    """Each task's fit on a TF1 cluster whose tasks start together."""
    return run_cluster("tf1-cluster", data, tmp_path_factory.mktemp("tf1"))


def test_tf1_cluster_equals_tf2_multi_worker(tf1_cluster, multi_worker):
    """TF1's train.Server cluster (in-graph replication, tf.device per task) and TF2's
    MultiWorkerMirroredStrategy: the same model, the same labels on each task."""
    tf1, tf2 = tf1_cluster, multi_worker
    for tf1_worker, tf2_worker in zip(tf1, tf2, strict=True):
        np.testing.assert_array_equal(tf1_worker["centers"], tf2_worker["centers"])
        np.testing.assert_array_equal(tf1_worker["labels"], tf2_worker["labels"])
        assert tf1_worker["inertia"] == tf2_worker["inertia"]
        assert tf1_worker["n_iter"] == tf2_worker["n_iter"]


@pytest.mark.parametrize("late_task", [0, 1])
def test_tf1_cluster_whichever_task_starts_late(tf1_cluster, data, tmp_path, late_task):
    """The chief waits for a late worker; a worker whose session starts before the chief's
    server is up must not leave a failed channel behind that breaks the chief's first pass
    (CI met this: ``UNAVAILABLE ... Connection refused`` on ``RecvTensor``)."""
    on_time = tf1_cluster
    late = run_cluster("tf1-cluster", data, tmp_path / "late", f"--late_task={late_task}")
    for on_time_worker, late_worker in zip(on_time, late, strict=True):
        np.testing.assert_array_equal(late_worker["centers"], on_time_worker["centers"])
        np.testing.assert_array_equal(late_worker["labels"], on_time_worker["labels"])


# A surviving task ends this long after another is killed, at most: MultiWorkerMirrored-
# Strategy's workers tell a dead peer by its missing heartbeats (about 10 s here), a TF1
# chief by its connection reset (1 s), a TF1 task by asking the chief (every 2 s, 5 s).
LOST_SECONDS = 60
KILLED_AT_PASS = 2


def kill_a_task(
    mode: str, data: Path, folder: Path, victim: int, *flags: str, n_workers: int = N_WORKERS
) -> list[dict]:
    """A cluster whose first task kills task ``victim`` (SIGKILL) on the first batch of pass
    ``KILLED_AT_PASS`` (or as ``flags`` say): each task's exit status, end time and error,
    checked: every other task ends with one error naming ``victim``."""
    when = [f"--kill_at_pass={KILLED_AT_PASS}"] if not any("_at_" in f for f in flags) else []
    done = start_cluster(
        mode, data, folder, f"--kill_task={victim}", *when, *flags, n_workers=n_workers
    )
    report = json.loads((folder / "report.json").read_text())
    logs = "".join(path.read_text()[-3000:] for path in sorted(folder.glob("*.log")))
    assert done.returncode == 1, logs
    assert report[victim]["returncode"] == -signal.SIGKILL, report
    for index, task in enumerate(report):
        if index == victim:
            continue
        assert task["returncode"] == 1, (report, logs)  # ended by itself, failing
        assert task["seconds"] - report[victim]["seconds"] < LOST_SECONDS, report
        error = (folder / f"worker{index}.error").read_text()
        assert error.startswith(f"LostTaskError: the fit lost task /job:worker/task:{victim} ")
        assert error.count("\n") == 0, error  # one line
        task["error"] = error
    return report


def assert_fits_equal(resumed: list[dict], uninterrupted: list[dict]) -> None:
    for resumed_task, task in zip(resumed, uninterrupted, strict=True):
        np.testing.assert_array_equal(resumed_task["centers"], task["centers"])
        np.testing.assert_array_equal(resumed_task["labels"], task["labels"])
        assert resumed_task["inertia"] == task["inertia"]
        assert resumed_task["n_iter"] == task["n_iter"] > KILLED_AT_PASS


@pytest.mark.parametrize("mode", ["multi-worker", "tf1-cluster"])
def test_a_killed_worker_ends_the_fit_and_a_restart_resumes(
    mode, multi_worker, tf1_cluster, data, tmp_path
):
    """Kill worker 1 mid-pass: the other ends with one error naming it, within
    ``LOST_SECONDS``; the cluster started again resumes from the checkpoint of the last
    whole pass and ends bit-identical to a fit never stopped."""
    checkpoints = f"--checkpoint_dir={tmp_path / 'checkpoints'}"
    report = kill_a_task(mode, data, tmp_path / "killed", 1, checkpoints)
    assert f"resumes from '{tmp_path / 'checkpoints' / 'ckpt-1'}'" in report[0]["error"]
    resumed = run_cluster(mode, data, tmp_path / "resumed", checkpoints)
    assert resumed[0]["first_pass"] == KILLED_AT_PASS  # pass 1 was not read again
    assert_fits_equal(resumed, multi_worker if mode == "multi-worker" else tf1_cluster)


def test_a_killed_tf1_chief_ends_the_fit_in_its_tasks(netns, data, tmp_path):
    """The other side: the chief dies, and a task waiting for its model stops waiting."""
    report = kill_a_task("tf1-cluster", data, tmp_path, 0)
    assert "it stopped answering" in report[1]["error"]
