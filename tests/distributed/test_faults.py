"""Faults at scale: four workers, a task cut off the network, a mini-batch fit losing a
worker mid-step, a task that never joins.

Clusters of four processes under ``MultiWorkerMirroredStrategy`` and on a TF1 cluster, on
loopback in network namespaces of their own (``distributed_cluster.py``). A killed task or a
cut link ends every process with one ``LostTaskError`` within a stated bound, and the
cluster started again resumes from the last checkpoint, bit-identical to a fit never
stopped. Run by the nox session ``distributed``.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
# Fixtures and helpers shared with that module.
from test_distributed import (
    KILLED_AT_PASS,
    assert_close_centres,
    assert_fits_equal,
    data,
    kill_a_task,
    netns,
    run_cluster,
    shard_labels,
    single,
    start_cluster,
)

__all__ = ["data", "netns", "single"]  # fixtures, used by name
FOUR = 4
MODES = ["multi-worker", "tf1-cluster"]
VICTIM = 2  # neither the chief nor the coordination service's leader (task 0)
# Every process ends this long after a link is cut, at most: MultiWorkerMirroredStrategy's
# coordination service misses the cut task's heartbeats (about 10 s here); a TF1 chief's
# watch asks each task every 2 s and gives up after 5 s without an answer, as a TF1 task
# asks its chief. Each took under 10 s on this machine; the bound leaves room for a slow one.
CUT_SECONDS = 45
# Every cluster here forms in this many seconds or fails (``multi_worker_strategy``'s
# ``join_timeout``, TF1's ``WAIT_SECONDS``): the faults meet the strategy users are told to
# make. Four processes start in about 15 s here.
JOINED = "--join_timeout=120"


@pytest.fixture(scope="module")
def four(netns, data, tmp_path_factory):
    """Each mode's fit over four processes, never stopped."""
    return {
        mode: run_cluster(mode, data, tmp_path_factory.mktemp(mode), JOINED, n_workers=FOUR)
        for mode in MODES
    }


def test_four_workers_equal_one_process_and_each_other(four, single):
    """Four processes in each mode: the one-process model within 1e-5, the same model on
    every task bit for bit, each task labelling the rows it read. TF1 and TF2 agree to
    rounding, not bit for bit as with two tasks: a TF1 chief adds the four tasks' sums with
    one ``add_n``, MWMS's ring all-reduce in an order of its own for each chunk (with two
    parts both orders are the one sum)."""
    for workers in four.values():
        for worker in workers[1:]:
            np.testing.assert_array_equal(worker["centers"], workers[0]["centers"])
            assert worker["inertia"] == workers[0]["inertia"]
        assert_close_centres(workers[0]["centers"], single["centers"])
        np.testing.assert_allclose(workers[0]["inertia"], single["inertia"], rtol=1e-5)
        assert workers[0]["n_iter"] == single["n_iter"]
        for index, worker in enumerate(workers):
            labels = shard_labels(single["labels"], index, FOUR)
            np.testing.assert_array_equal(worker["labels"], labels)
    for tf1_worker, tf2_worker in zip(four["tf1-cluster"], four["multi-worker"], strict=True):
        np.testing.assert_allclose(tf1_worker["centers"], tf2_worker["centers"], rtol=1e-6)
        np.testing.assert_array_equal(tf1_worker["labels"], tf2_worker["labels"])
        assert tf1_worker["n_iter"] == tf2_worker["n_iter"]


@pytest.mark.parametrize("mode", MODES)
def test_one_of_four_killed_every_survivor_names_it_and_a_restart_resumes(
    mode, four, data, tmp_path
):
    """Task 2 of 4 killed mid-pass: each of the three others ends with one error naming it
    (the first to find the loss tells the rest), within ``LOST_SECONDS``; the cluster
    started again resumes and ends bit-identical to the fit never stopped."""
    checkpoints = f"--checkpoint_dir={tmp_path / 'checkpoints'}"
    report = kill_a_task(
        mode, data, tmp_path / "killed", VICTIM, checkpoints, JOINED, n_workers=FOUR
    )
    assert f"resumes from '{tmp_path / 'checkpoints' / 'ckpt-1'}'" in report[0]["error"]
    resumed = run_cluster(mode, data, tmp_path / "resumed", checkpoints, JOINED, n_workers=FOUR)
    assert resumed[0]["first_pass"] == KILLED_AT_PASS
    assert_fits_equal(resumed, four[mode])


def cut_a_task(mode: str, data: Path, folder: Path, victim: int, *flags: str) -> list[dict]:
    """Four tasks; task ``victim``'s link cut on the first batch of pass ``KILLED_AT_PASS``:
    every task, the cut one too, ends by itself with one error within ``CUT_SECONDS`` of the
    cut; the others name the cut task, the cut one the task it lost (task 0: the TF1 chief,
    or the leader of the coordination service). Each task's report, with its error."""
    when = f"--cut_at_pass={KILLED_AT_PASS}"
    done = start_cluster(
        mode, data, folder, f"--cut_task={victim}", when, JOINED, *flags, n_workers=FOUR
    )
    report = json.loads((folder / "report.json").read_text())
    logs = "".join(path.read_text()[-3000:] for path in sorted(folder.glob("*.log")))
    assert done.returncode == 1, logs
    cut = json.loads((folder / "cut.json").read_text())["seconds"]
    for index, task in enumerate(report):
        assert task["returncode"] == 1, (report, logs)  # ended by itself, failing: no hang
        assert 0 < task["seconds"] - cut < CUT_SECONDS, (cut, report)
        task["error"] = (folder / f"worker{index}.error").read_text()
        named = 0 if index == victim else victim
        expected = f"LostTaskError: the fit lost task /job:worker/task:{named} "
        assert task["error"].startswith(expected), task["error"]
        assert task["error"].count("\n") == 0, task["error"]  # one line
    return report


@pytest.mark.parametrize("mode", MODES)
def test_a_task_cut_off_the_network_ends_every_process_and_a_restart_resumes(
    mode, four, data, tmp_path
):
    """The cut task lives on, its packets dropped both ways: no process hangs, and the
    cluster started again resumes, bit-identical to the fit never stopped."""
    checkpoints = f"--checkpoint_dir={tmp_path / 'checkpoints'}"
    report = cut_a_task(mode, data, tmp_path / "cut", VICTIM, checkpoints)
    assert f"resumes from '{tmp_path / 'checkpoints' / 'ckpt-1'}'" in report[0]["error"]
    resumed = run_cluster(mode, data, tmp_path / "resumed", checkpoints, JOINED, n_workers=FOUR)
    assert resumed[0]["first_pass"] == KILLED_AT_PASS
    assert_fits_equal(resumed, four[mode])


MINI_BATCH = ("--mini-batch", "--checkpoint_steps=3")
KILLED_AT_STEP = 7  # after the checkpoint of step 6, before that of step 9


def test_a_mini_batch_fit_losing_a_worker_mid_step_resumes(netns, data, tmp_path):
    """MiniBatchKMeans over four workers, task 2 killed before step 7: the three others end
    with one error naming it; the restart resumes after step 6 and ends bit-identical to
    the fit never stopped."""
    whole = run_cluster(
        "multi-worker", data, tmp_path / "whole", JOINED, *MINI_BATCH, n_workers=FOUR
    )
    checkpoints = tmp_path / "checkpoints"
    report = kill_a_task(
        "multi-worker", data, tmp_path / "killed", VICTIM, f"--kill_at_step={KILLED_AT_STEP}",
        f"--checkpoint_dir={checkpoints}", JOINED, *MINI_BATCH, n_workers=FOUR,
    )  # fmt: skip
    assert f"resumes from '{checkpoints / 'ckpt-2'}'" in report[0]["error"]
    resumed = run_cluster(
        "multi-worker", data, tmp_path / "resumed", f"--checkpoint_dir={checkpoints}", JOINED,
        *MINI_BATCH, n_workers=FOUR,
    )  # fmt: skip
    for resumed_task, task in zip(resumed, whole, strict=True):
        np.testing.assert_array_equal(resumed_task["centers"], task["centers"])
        np.testing.assert_array_equal(resumed_task["labels"], task["labels"])
        assert resumed_task["inertia"] == task["inertia"]
        assert resumed_task["steps"] == task["steps"] - 6 > 0


# The join timeout of a cluster one of whose tasks never starts: longer than the others
# take to start their servers (three processes importing TensorFlow on two cores).
JOIN_SECONDS = 25
# Every task that started ends this long after the cluster's start, at most, when one never
# joins: start-up, the join timeout (a TF1 task then waits ``TOLD_SECONDS``, 20 s, for the
# chief's word) and a task's retries.
ABSENT_SECONDS = 100


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("absent", [0, 1], ids=["the-first-task", "another-task"])
def test_a_task_that_never_joins_ends_every_other_naming_it(mode, absent, netns, data, tmp_path):
    """Three tasks, task ``absent`` ending before it joins (task 0: the TF1 chief, the
    coordination service's leader): each of the two others ends by itself within
    ``ABSENT_SECONDS``, with one ``LostTaskError`` naming the absent task. Without the
    bound, TensorFlow waits for it an hour (MultiWorkerMirroredStrategy's registration)
    or for ever (a TF1 session's first run)."""
    folder = tmp_path / "absent"
    flags = f"--absent_task={absent}", f"--join_timeout={JOIN_SECONDS}"
    done = start_cluster(mode, data, folder, *flags, n_workers=3)
    report = json.loads((folder / "report.json").read_text())
    logs = "".join(path.read_text()[-3000:] for path in sorted(folder.glob("*.log")))
    assert done.returncode == 1, logs
    assert report[absent]["returncode"] == 0, report  # it ended at once
    for index, task in enumerate(report):
        if index == absent:
            continue
        assert task["returncode"] == 1, (report, logs)  # ended by itself, failing: no hang
        assert task["seconds"] < ABSENT_SECONDS, report
        error = (folder / f"worker{index}.error").read_text()
        expected = (
            f"LostTaskError: the cluster did not form: 1 of its tasks did not join in "
            f"{JOIN_SECONDS} s: task /job:worker/task:{absent} (127.0.0.1:"
        )
        assert error.startswith(expected), error
        assert error.count("\n") == 0, error  # one line
