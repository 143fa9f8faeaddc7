"""How each package is told to distribute a fit, checked in one process (no servers).

TF1 reads the cluster from ``TF_CONFIG`` whenever it names more than one task, as TF1's
estimators did, and takes an ``input_fn``; TF2 distributes only under a strategy's
``scope()``, and takes a dataset. The clusters themselves run in ``test_distributed.py``.
"""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial.validation import InvalidParameterError
from tf1_graph.engine import distributed as tf1_distributed

TWO_WORKERS = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}}


def tf_config(task_type="worker", index=0, cluster=TWO_WORKERS) -> dict:
    return {"TF_CONFIG": json.dumps({**cluster, "task": {"type": task_type, "index": index}})}


@pytest.fixture(scope="module")
def blobs():
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=3000, n_features=3, centers=4, random_state=1)
    return X.astype(np.float32)


def test_tf_config_names_the_cluster_and_the_task():
    cluster = tf1_distributed.Cluster.from_tf_config(tf_config(index=1))
    assert cluster.devices == ["/job:worker/task:0", "/job:worker/task:1"]
    assert cluster.device == "/job:worker/task:1" and not cluster.is_chief
    with_chief = {"cluster": {"chief": ["127.0.0.1:3"], **TWO_WORKERS["cluster"]}}
    chief = tf1_distributed.Cluster.from_tf_config(tf_config("chief", 0, with_chief))
    assert chief.is_chief and chief.devices[0] == "/job:chief/task:0"


@pytest.mark.parametrize(
    "environ",
    [{}, {"TF_CONFIG": ""}, tf_config(cluster={"cluster": {"worker": ["127.0.0.1:1"]}})],
    ids=["unset", "empty", "one-task"],
)
def test_no_cluster_is_one_process(environ):
    assert tf1_distributed.Cluster.from_tf_config(environ) is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TF_CONFIG": "{not json"}, "TF_CONFIG is not a cluster and task"),
        (tf_config(index=5), "task 'worker':5 is not in its cluster"),
        (tf_config("ps", 0, {"cluster": {"ps": ["a:1"], "worker": ["b:2"]}}), "chief' and 'worker"),
    ],
    ids=["not-json", "no-such-task", "ps-job"],
)
def test_a_bad_tf_config_gets_a_clear_error(environ, message):
    with pytest.raises(InvalidParameterError, match=message):
        tf1_distributed.Cluster.from_tf_config(environ)


def test_tf1_on_a_cluster_takes_an_input_fn(tf1, blobs, monkeypatch):
    """A dataset made outside a graph cannot be placed on another task: TF1 asks for the
    function that makes it, as its estimators did. Refused before any server starts."""
    monkeypatch.setenv("TF_CONFIG", tf_config()["TF_CONFIG"])
    dataset = tf.data.Dataset.from_tensor_slices(blobs).batch(100)
    with pytest.raises(InvalidParameterError, match="fit takes an input_fn"):
        tf1.KMeans(4).fit(dataset)
    with pytest.raises(InvalidParameterError, match="MiniBatchKMeans does not fit on a TF1"):
        tf1.MiniBatchKMeans(4).fit(lambda: dataset)


def test_tf2_distributes_only_under_a_strategy(tf2, blobs, monkeypatch):
    """TF_CONFIG alone changes nothing in TF2: the fit is local, bit for bit."""
    dataset = tf.data.Dataset.from_tensor_slices(blobs).batch(500)
    alone = tf2.KMeans(4, random_state=0).fit(dataset)
    monkeypatch.setenv("TF_CONFIG", tf_config()["TF_CONFIG"])
    np.testing.assert_array_equal(tf2.KMeans(4, random_state=0).fit(dataset).labels_, alone.labels_)


def test_under_a_strategy_fit_takes_a_dataset_and_all_reduces(tf2, blobs):
    """One replica, through every all-reduce and all-gather: the local fit's centres."""
    dataset = tf.data.Dataset.from_tensor_slices(blobs).batch(500)
    init = blobs[:4].copy()
    alone = tf2.KMeans(4, init=init, n_init=1).fit(dataset)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        with pytest.raises(InvalidParameterError, match=r"takes a tf\.data\.Dataset of batches"):
            tf2.KMeans(4).fit(blobs)
        spread = tf2.KMeans(4, init=init, n_init=1).fit(dataset)
    scale = np.abs(alone.cluster_centers_).max()
    np.testing.assert_allclose(spread.cluster_centers_, alone.cluster_centers_, atol=1e-5 * scale)
    np.testing.assert_array_equal(spread.labels_, alone.labels_)


MWMS_MESSAGE = (
    "{{function_node __wrapped__CollectiveReduceV2_Nordering_token_1_device_/job:worker/"
    "replica:0/task:0/device:CPU:0}} Collective ops is aborted by: Error reported from "
    "/job:worker/task:1: The following tasks are unhealthy (stopped sending heartbeats):\n"
    "/job:worker/replica:0/task:1\nThe tasks have crashed."
)
TF1_MESSAGE = (
    "Graph execution error:\nUNAVAILABLE: From /job:worker/replica:0/task:1:\n"
    "recvmsg:Connection reset by peer"
)


@pytest.mark.parametrize("message", [MWMS_MESSAGE, TF1_MESSAGE])
def test_a_lost_task_is_named_with_its_address(message, tmp_path):
    from kmeans_tutorial.engine.errors import LostTaskError, lost_task

    addresses = {"/job:worker/task:0": "127.0.0.1:1000", "/job:worker/task:1": "127.0.0.1:1001"}
    error = lost_task(ConnectionError(message), "/job:worker/task:0", addresses)
    assert isinstance(error, LostTaskError)
    assert str(error).startswith(
        "the fit lost task /job:worker/task:1 (127.0.0.1:1001): it stopped answering "
        "(ConnectionError). This task (/job:worker/task:0) stops too; restart every process"
    )
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "ckpt-4"\n')
    (tmp_path / "ckpt-4.index").write_text("")
    resumable = lost_task(ConnectionError(message), "/job:worker/task:0", addresses, tmp_path)
    assert str(resumable).endswith(f"it resumes from '{tmp_path / 'ckpt-4'}'.")
    assert "\n" not in str(resumable)


# What a worker waiting on a peer (not on the lost task) gets once the first task to find
# the loss reported it to the cluster: the reporter is named first, the lost task after.
RELAYED_MESSAGE = (
    "{{function_node __wrapped__CollectiveReduceV2_Nordering_token_1_device_/job:worker/"
    "replica:0/task:1/device:CPU:0}} Collective ops is aborted by: Error reported from "
    "/job:worker/task:3: the fit lost task /job:worker/task:2 (127.0.0.1:1002): it stopped "
    "answering (UnavailableError). This task (/job:worker/task:3) stops too."
)
# What a worker cut off the network gets: its heartbeats to the coordination service's
# leader time out, and no task is named.
UNNAMED_MESSAGE = (
    "Collective ops is aborted by: Deadline Exceeded\n\nRPC: "
    "/tensorflow.CoordinationService/Heartbeat"
)


def test_a_loss_another_task_reported_names_the_task_it_lost():
    from kmeans_tutorial.engine.errors import lost_task

    addresses = {f"/job:worker/task:{i}": f"127.0.0.1:100{i}" for i in range(4)}
    error = lost_task(ConnectionError(RELAYED_MESSAGE), "/job:worker/task:1", addresses)
    assert error.task == "/job:worker/task:2"
    assert str(error).startswith("the fit lost task /job:worker/task:2 (127.0.0.1:1002): ")
    assert "This task (/job:worker/task:1) stops too" in str(error)


def test_an_error_naming_no_task_names_the_one_it_came_from():
    from kmeans_tutorial.engine.errors import lost_task

    addresses = {"/job:worker/task:0": "127.0.0.1:1000", "/job:worker/task:1": "127.0.0.1:1001"}
    own = "/job:worker/task:1"
    error = lost_task(
        ConnectionError(UNNAMED_MESSAGE), own, addresses, unnamed="/job:worker/task:0"
    )
    assert error.task == "/job:worker/task:0"
    assert str(error).startswith("the fit lost task /job:worker/task:0 (127.0.0.1:1000): ")
    unknown = lost_task(ConnectionError(UNNAMED_MESSAGE), own, addresses)
    assert unknown.task == "another task"


# What a cluster whose task 1 never started gives (TensorFlow 2.21, join timeout 5 s): to
# the coordination service's leader and every task at its registration barrier, the
# barrier's timeout; to a task that never reached the leader (the leader absent), the
# leader's silence.
BARRIER_MESSAGE = (
    "Barrier timed out. Id: [Init]Wait_for_all_tasks_to_register::0. This usually happens "
    "because a task triggered the barrier too early or too slowly. Please look at the task "
    "logs (both timed out and first task) to debug further.\n# of tasks that reached the "
    "barrier: 2/3.\nThe first task at the barrier: /job:worker/replica:0/task:0. Some timed "
    "out task names:\n/job:worker/replica:0/task:1\n\nAdditional GRPC error information "
    "from remote target /job:worker/replica:0/task:0 while calling "
    "/tensorflow.CoordinationService/RegisterTask"
)
NO_LEADER_MESSAGE = (
    "Deadline Exceeded\nAdditional GRPC error information from remote target "
    "/job:worker/replica:0/task:0 while calling /tensorflow.CoordinationService/RegisterTask"
)


@pytest.mark.parametrize(
    ("message", "own", "absent"),
    [
        (BARRIER_MESSAGE, "/job:worker/task:0", "/job:worker/task:1"),
        (BARRIER_MESSAGE, "/job:worker/task:2", "/job:worker/task:1"),
        (NO_LEADER_MESSAGE, "/job:worker/task:1", "/job:worker/task:0"),
        ("Deadline Exceeded", "/job:worker/task:1", "/job:worker/task:0"),
    ],
)
def test_a_cluster_that_did_not_form_names_the_task_that_did_not_join(message, own, absent):
    from kmeans_tutorial.engine.errors import LostTaskError, missing_tasks
    from tf2_eager.engine.multi_worker import _not_joined

    missing = _not_joined(message, own, "/job:worker/task:0")
    assert missing == [absent]
    addresses = {f"/job:worker/task:{i}": f"127.0.0.1:100{i}" for i in range(3)}
    error = missing_tasks(missing, own, addresses, 5)
    assert isinstance(error, LostTaskError) and error.task == absent
    assert str(error) == (
        f"the cluster did not form: 1 of its tasks did not join in 5 s: task {absent} "
        f"({addresses[absent]}). This task ({own}) stops too; start every process of the fit "
        f"again."
    )


@pytest.mark.parametrize("join_timeout", [0, -1.0, float("inf"), float("nan"), True, "60", None])
def test_multi_worker_strategy_checks_its_join_timeout(join_timeout):
    from tf2_eager.engine.multi_worker import multi_worker_strategy

    with pytest.raises(InvalidParameterError, match=f"join_timeout .* got {join_timeout!r}"):
        multi_worker_strategy(join_timeout)


# Run in a process of its own: the configuration is the process's TensorFlow context's.
CONFIGURE = """
import json, warnings
from tensorflow.python.eager import context
from tf2_eager.engine.multi_worker import _configure_coordination
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    _configure_coordination({"chief": ["a:1"], "worker": ["b:2", "c:3"]}, ["chief", "worker"], 7.5)
config = context.context().coordination_service
print(json.dumps({
    "leader": config.service_leader,
    "timeout": config.cluster_register_timeout_in_ms,
    "jobs": [[job.name, job.num_tasks] for job in config.coordinated_job_list],
    "barrier": getattr(config, "cluster_register_with_barrier", None),
    "warnings": [str(w.message) for w in caught if w.category is RuntimeWarning],
}))
"""


def test_multi_worker_strategy_makes_registration_a_barrier_of_the_join_timeout():
    """The coordination service the strategy would configure (its leader, every chief and
    worker), with registration a barrier of the join timeout: on releases that have the
    barrier (2.19 on); before them, a warning that the leader's wait is not bounded."""
    import subprocess
    import sys

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", CONFIGURE], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    config = json.loads(done.stdout.strip().splitlines()[-1])
    assert config["leader"] == "/job:chief/replica:0/task:0"
    assert config["timeout"] == 7500
    assert config["jobs"] == [["chief", 1], ["worker", 2]]
    if config["barrier"] is None:  # TensorFlow before 2.19
        assert len(config["warnings"]) == 1
        assert "cannot make the cluster's registration a barrier" in config["warnings"][0]
    else:
        assert config["barrier"] is True and config["warnings"] == []


def test_a_tf1_task_gets_its_rows_of_the_fitted_labels():
    """The chief hands each task its part of the kept run's labels (not of whichever
    assignment pass ran last): each global batch's parts follow one another in task order."""
    from tf1_graph.engine.distributed import _task_part

    labels = np.arange(10)  # batch 0: task 0 rows 0-2, task 1 rows 3-4; batch 1: 5-7, 8-9
    sizes = [[3, 2], [3, 2]]
    np.testing.assert_array_equal(_task_part(labels, sizes, 0), [0, 1, 2, 5, 6, 7])
    np.testing.assert_array_equal(_task_part(labels, sizes, 1), [3, 4, 8, 9])
    np.testing.assert_array_equal(_task_part(labels[:7], [[3, 2], [2, 0]], 1), [3, 4])
