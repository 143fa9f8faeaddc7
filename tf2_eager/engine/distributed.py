"""Fits spread over ``tf.distribute`` replicas: TF2's way to use many devices or machines.

Twin: ``tf1_graph/engine/distributed.py`` (TF1's own runtime: ``train.Server`` and a graph with
``tf.device`` per worker). Under ``with strategy.scope():``, ``KMeans(...).fit(dataset)``
and ``MiniBatchKMeans(...).fit(dataset)`` hand the dataset to
``strategy.experimental_distribute_dataset``, which splits every element (the *global*
batch) over the replicas (``MirroredStrategy``: the local devices;
``MultiWorkerMirroredStrategy``: the processes of a ``TF_CONFIG`` cluster, each reading its
shard). Each replica runs the same ``batch_ops`` on its part; what a Lloyd pass or a
mini-batch step adds up (per-cluster sums and weights, inertia, the variance's moments,
rows counted) is all-reduced with ``strategy.reduce(SUM)``, and the candidates for empty
clusters are all-gathered, so every process moves the centres alike and ends with the same
model. ``labels_`` holds the labels of the rows this process read, in its order.

The initial centres are drawn from a sample of the whole dataset, which every process
reads alike, one pass (``sources.Reservoir``). A mini-batch step draws the
rows a reassigned centre moves to with ``tf.random.stateless_uniform`` from a seed of the
fit's ``RandomState``, the same on every process.
"""

from __future__ import annotations

import contextlib

import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context

from kmeans_tutorial.common_checks import InvalidParameterError
from kmeans_tutorial.engine import batch_ops, sources
from kmeans_tutorial.engine.driver import BatchCore, BatchStats, DistributedPlan, Model
from kmeans_tutorial.engine.errors import lost_task

SUM = tf.distribute.ReduceOp.SUM
# What a collective raises when a worker is gone: its peers' health checks (heartbeats)
# abort every collective with UnavailableError; the others, if a call was cut halfway.
LOST = (
    tf.errors.UnavailableError,
    tf.errors.AbortedError,
    tf.errors.CancelledError,
    tf.errors.DeadlineExceededError,
)


def _strategy_in_scope() -> tf.distribute.Strategy | None:
    """The strategy whose ``scope()`` the caller is in, or ``None`` outside every scope."""
    return tf.distribute.get_strategy() if tf.distribute.has_strategy() else None


class DistributedStream(sources.Stream):
    """A dataset of batches (or of ``(x, sample_weight)`` pairs) split over the replicas.

    Iterating gives each global batch as per-replica values; the batches are not checked
    on the host (they never reach it): a batch with a non-finite value is reported by the
    core (``_check_finite``).
    """

    def __init__(self, dataset, strategy, sample_weight=None):
        self.whole = sources.DatasetStream(dataset, sample_weight)  # checks the spec
        self.n_features, self.dtype, self.name = self.whole.n_features, self.whole.dtype, "X"
        self.n_samples = None
        pairs = batch_ops.as_pairs(dataset, tf.as_dtype(self.dtype))
        self.distributed = strategy.experimental_distribute_dataset(pairs)

    def __iter__(self):
        yield from self.distributed

    def init_sample(self, size, random_state):
        return self.whole.init_sample(size, random_state)


def _local_rows(strategy, per_replica) -> np.ndarray:
    """This process's replicas' values, joined in replica order (its rows' order)."""
    parts = [value.numpy() for value in strategy.experimental_local_results(per_replica)]
    return np.concatenate(parts)


class DistributedBatchCore(BatchCore):
    """Runs ``batch_ops`` on every replica's part of a global batch and all-reduces.

    The programs are ``tf.function``s with unknown batch sizes (a replica's part of the
    last batch may be smaller, or empty), uncompiled, traced once per dtype and centres.
    """

    def __init__(self, strategy: tf.distribute.Strategy):
        self.strategy = strategy
        self._stats = tf.function(self._stats_of, autograph=False)
        self._farthest = tf.function(self._farthest_of, autograph=False)
        self._labels = tf.function(self._labels_of, autograph=False)
        self._step = tf.function(self._step_of, autograph=False)
        self._sum = tf.function(self._sum_of, autograph=False)

    def _reduce(self, value):
        return self.strategy.reduce(SUM, value, axis=None)

    def _stats_of(self, x, w, centers, offset, with_moments):
        def replica(x, w):
            rows = tf.shape(x)[0]
            stats = batch_ops.batch_stats(x, w, centers, offset, rows, with_moments)
            bad = tf.reduce_sum(tf.cast(tf.logical_not(tf.math.is_finite(x)), tf.int32))
            return (*stats, rows, bad)

        labels, *stats = self.strategy.run(replica, args=(x, w))
        return (labels, *(self._reduce(value) for value in stats))

    def _check_finite(self, bad) -> None:
        if int(bad):
            raise InvalidParameterError(
                f"Input X contains NaN or infinity: {int(bad)} value(s) in a batch."
            )

    def stats(self, stream, centers, offset, with_moments):
        centers, offset = tf.constant(centers), tf.constant(offset)
        for x, w in stream:
            labels, sums, weights, inertia, *moments, rows, bad = self._stats(
                x, w, centers, offset, with_moments
            )
            self._check_finite(bad)
            yield BatchStats(
                _local_rows(self.strategy, labels),
                sums.numpy(),
                weights.numpy(),
                float(inertia),
                moments[0].numpy() if moments else None,
                int(rows),
            )

    def _farthest_of(self, x, w, centers, offset):
        def replica(x, w):
            rows = tf.shape(x)[0]
            return (*batch_ops.farthest(x, w, centers, offset, rows), rows)

        *far, rows = self.strategy.run(replica, args=(x, w))
        return (*(self.strategy.gather(part, axis=0) for part in far), self._reduce(rows))

    def farthest(self, stream, centers, offset):
        # Gathered rows are numbered within their replica's part: ties between replicas
        # (equal distances) go to the part that comes first in the gather.
        centers, offset = tf.constant(centers), tf.constant(offset)
        for x, w in stream:
            *far, rows = self._farthest(x, w, centers, offset)
            yield (*(part.numpy() for part in far), int(rows))

    def _labels_of(self, x, w, centers, offset):
        def replica(x, w):
            return batch_ops.labels_inertia(x, w, centers, offset)

        labels, inertia = self.strategy.run(replica, args=(x, w))
        return labels, self._reduce(inertia)

    def labels_inertia(self, stream, centers, offset):
        centers, offset = tf.constant(centers), tf.constant(offset)
        for x, w in stream:
            labels, inertia = self._labels(x, w, centers, offset)
            yield _local_rows(self.strategy, labels), float(inertia)

    def distances(self, stream, centers, offset):
        raise NotImplementedError("transform runs outside the strategy, on one process")

    def _step_of(self, x, w, centers, counts, offset, reassign, ratio, seed):
        def replica(x, w):
            x, sums, weights, inertia = batch_ops.minibatch_sums(x, w, centers, offset)
            return x, sums, weights, inertia, tf.shape(x)[0]

        x, sums, weights, inertia, rows = self.strategy.run(replica, args=(x, w))
        sums, weights, inertia, rows = map(self._reduce, (sums, weights, inertia, rows))
        # Only a step that may reassign needs the batch's rows on every worker (``reassign``
        # is a Python bool, the same on every worker: one trace each way).
        batch = (
            self.strategy.gather(x, axis=0)
            if reassign
            else tf.zeros([0, centers.shape[1]], centers.dtype)
        )
        uniforms = tf.random.stateless_uniform([rows], seed, dtype=tf.float64)
        return batch_ops.minibatch_update(
            batch, centers, counts, sums, weights, inertia, reassign, ratio, uniforms, rows
        ), rows

    def minibatch_step(self, x, w, centers, counts, offset, reassign, ratio, uniforms):
        """``uniforms`` is a seed here (the host cannot know a global batch's rows)."""
        (centers, counts, inertia, n_small), rows = self._step(
            x,
            w,
            tf.constant(centers),
            tf.constant(counts),
            tf.constant(offset),
            bool(reassign),
            tf.constant(ratio, centers.dtype),
            tf.constant(uniforms, tf.int64),
        )
        return centers.numpy(), counts.numpy(), float(inertia), int(n_small), int(rows)

    def _sum_of(self, value):
        local = len(self.strategy.extended.worker_devices)
        per_replica = self.strategy.run(lambda: value / local)
        return self._reduce(per_replica)

    def sum_over_processes(self, value: int) -> int:
        return round(float(self._sum(tf.constant(float(value), tf.float64))))


class _StrategyPlan(DistributedPlan):
    """A fit of every replica of the strategy: each process fits its shard alike, its
    labels those of the rows it read."""

    def __init__(self, strategy, stream: DistributedStream, checkpoint_dir):
        self.strategy, self.checkpoint_dir = strategy, checkpoint_dir
        self.stream, self.core = stream, DistributedBatchCore(strategy)
        # Every worker reads a fit's checkpoints; the chief alone writes them.
        self.chief = bool(strategy.extended.should_checkpoint)

    @contextlib.contextmanager
    def errors(self):
        try:
            yield
        except LOST as error:
            resolver = getattr(self.strategy, "cluster_resolver", None)  # MWMS only
            if resolver is None or not resolver.cluster_spec().as_dict():
                raise
            own = f"/job:{resolver.task_type}/task:{resolver.task_id}"
            jobs = resolver.cluster_spec().as_dict()
            addresses = {
                f"/job:{job}/task:{index}": address
                for job, tasks in jobs.items()
                for index, address in enumerate(tasks)
            }
            # A message naming no task comes from the coordination service, on its leader.
            leader = "/job:{}/task:0".format("chief" if "chief" in jobs else "worker")
            lost = lost_task(error, own, addresses, self.checkpoint_dir, unnamed=leader)
            # The first task to find the loss tells every other (through the coordination
            # service): one waiting on a peer that stopped for this error, not for the loss,
            # would otherwise find that peer gone, and name it.
            with contextlib.suppress(Exception):  # a cluster that cannot be told finds out
                context.context().report_error_to_cluster(tf.errors.UNAVAILABLE, str(lost))
            raise lost from None

    def publish(self, model: Model) -> np.ndarray:
        return model.labels  # every process fitted: nothing to hand over

    def take_model(self) -> Model:
        raise NotImplementedError("every process fits under tf.distribute")


def plan(X, sample_weight, estimator: str, checkpoint_dir) -> DistributedPlan | None:
    """The plan of a fit over the replicas of the strategy whose ``scope()`` the caller is
    in; ``None`` outside every scope (the fit is then the package's own, local)."""
    strategy = _strategy_in_scope()
    if strategy is None:
        return None
    if not sources.is_dataset(X):
        raise InvalidParameterError(
            f"Under a tf.distribute strategy, {estimator}.fit takes a tf.data.Dataset of "
            f"batches, got {type(X).__name__}: make one with "
            f"tf.data.Dataset.from_tensor_slices(X).batch(n)."
        )
    return _StrategyPlan(strategy, DistributedStream(X, strategy, sample_weight), checkpoint_dir)
