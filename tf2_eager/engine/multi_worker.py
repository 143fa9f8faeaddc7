"""``MultiWorkerMirroredStrategy`` whose cluster forms in a bounded time (TF2 only).

TF1 has no strategy: a TF1 cluster's chief waits for its tasks, and a task for its chief,
``tf1_graph.engine.distributed.WAIT_SECONDS`` at most, then raises the error this raises.
"""

from __future__ import annotations

import re
import warnings

import tensorflow as tf
from tensorflow.python.eager import context

from kmeans_tutorial.common_checks import InvalidParameterError
from kmeans_tutorial.engine.errors import DEVICE, JOIN_SECONDS, missing_tasks, task_name
from tf2_eager.engine.distributed import LOST


def multi_worker_strategy(
    join_timeout: float = JOIN_SECONDS, *, communication_options=None, cluster_resolver=None
) -> tf.distribute.MultiWorkerMirroredStrategy:
    """``tf.distribute.MultiWorkerMirroredStrategy(...)`` whose cluster forms within
    ``join_timeout`` seconds, or raises ``LostTaskError`` naming the tasks that did not join.

    The strategy as made by TensorFlow waits for every task of ``TF_CONFIG`` to join its
    coordination service, an hour at most: a task that crashed before it joined leaves
    the others waiting in the constructor. Here the coordination service is configured
    first (as the strategy would, on the chief or worker 0), its registration made a
    barrier with this timeout; everything else is the strategy's own. Call it where the
    strategy would be made: at the program's start, before any TensorFlow op.

    TensorFlow 2.16 to 2.18 have no such barrier: there the timeout bounds a task's wait
    for the leader (task 0) only, not the leader's for the others, and a ``RuntimeWarning``
    says so.
    """
    if (
        isinstance(join_timeout, bool)
        or not isinstance(join_timeout, (int, float))
        or not 0 < join_timeout < float("inf")
    ):
        raise InvalidParameterError(
            f"join_timeout must be a positive number of seconds, got {join_timeout!r}."
        )
    resolver = cluster_resolver or tf.distribute.cluster_resolver.TFConfigClusterResolver()
    jobs = resolver.cluster_spec().as_dict()
    own = f"/job:{resolver.task_type}/task:{resolver.task_id}"
    coordinated = [job for job in ("chief", "worker") if job in jobs]
    if coordinated and resolver.task_type in coordinated:
        _configure_coordination(jobs, coordinated, join_timeout)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy(
            cluster_resolver=resolver, communication_options=communication_options
        )
    except LOST as error:
        addresses = {
            f"/job:{job}/task:{index}": address
            for job, tasks in jobs.items()
            for index, address in enumerate(tasks)
        }
        leader = f"/job:{coordinated[0] if coordinated else 'worker'}/task:0"
        missing = _not_joined(str(error), own, leader)
        raise missing_tasks(missing, own, addresses, join_timeout) from None


def _configure_coordination(jobs: dict, coordinated: list[str], join_timeout: float) -> None:
    """The coordination service ``MultiWorkerMirroredStrategy`` configures when none is
    (its leader the first coordinated job's task 0, every chief and worker coordinated),
    with registration a barrier of ``join_timeout`` seconds. Without the barrier, the
    timeout bounds only a task's wait for the leader, not the leader's for the others."""
    if context.context().coordination_service is not None:
        return  # configured by the caller: theirs is kept
    # The proto module the strategy itself imports (its path moved between releases).
    from tensorflow.python.distribute.collective_all_reduce_strategy import (
        coordination_config_pb2,
    )

    context.context().configure_coordination_service(
        service_type="standalone",
        service_leader=f"/job:{coordinated[0]}/replica:0/task:0",
        cluster_register_timeout_in_ms=int(join_timeout * 1000),
        coordinated_jobs=[
            coordination_config_pb2.CoordinatedJob(name=job, num_tasks=len(jobs[job]))
            for job in coordinated
        ],
    )
    config = context.context().coordination_service
    if "cluster_register_with_barrier" in config.DESCRIPTOR.fields_by_name:
        config.cluster_register_with_barrier = True
    else:  # TensorFlow before 2.19
        warnings.warn(
            f"TensorFlow {tf.__version__} cannot make the cluster's registration a barrier "
            f"(2.19 can): the coordination service's leader (task 0) waits for a task that "
            f"never joins as long as TensorFlow does (an hour); join_timeout bounds only the "
            f"other tasks' wait for the leader.",
            RuntimeWarning,
            stacklevel=3,
        )


def _not_joined(message: str, own: str, leader: str) -> list[str]:
    """The tasks a failed join names: the leader's barrier lists those that timed out (and
    tells every task that reached it); a task that never reached the leader names it."""
    if "timed out task names:" in message:
        listed = message.split("timed out task names:", 1)[1].split("Additional GRPC", 1)[0]
        return [task_name(found.group()) for found in re.finditer(DEVICE, listed)]
    named = [task_name(found.group()) for found in re.finditer(DEVICE, message)]
    return [name for name in named if name != own][:1] or [leader]
