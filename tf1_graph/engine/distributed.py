"""Fits on a cluster with TF1's own distributed runtime: ``train.Server`` and ``tf.device``.

Twin: ``tf2_eager/engine/distributed.py`` (TF2's ``tf.distribute`` strategies). The cluster comes
from ``TF_CONFIG``, as TF1's estimators read it: ``{"cluster": {"worker": [...]}, "task":
{"type": "worker", "index": i}}`` (a ``"chief"`` job too, if there is one). Every task runs
a ``tf.compat.v1.train.Server``. The chief (the ``chief`` task, else worker 0) builds one
graph in which each task's share of a pass is placed with ``tf.device("/job:worker/task:i")``:
each task reads the input with its own iterator (``input_fn()``, called in its graph, as an
estimator calls it) and keeps its consecutive part of every global batch, as
``tf.distribute`` splits one; the chief adds the parts' sums and runs the whole graph
through a ``Session`` on its ``grpc://`` target. It is in-graph replication: the other
tasks only serve, then wait for the chief to hand them the fitted model through a queue
on their own device (``FIFOQueue`` with a ``shared_name``).

``fit`` takes an ``input_fn`` (a function returning a ``tf.data.Dataset`` of batches, or of
``(x, sample_weight)`` pairs) on a cluster, since a dataset made outside a graph cannot be
placed on another task. ``labels_`` holds the labels of the rows the task's own device
read, as under ``MultiWorkerMirroredStrategy``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import socket
import threading
import time

import numpy as np
import tensorflow.compat.v1 as tf

from kmeans_tutorial.common_checks import InvalidParameterError
from kmeans_tutorial.engine import batch_ops, sources
from kmeans_tutorial.engine.driver import BatchCore, BatchStats, DistributedPlan, Model
from kmeans_tutorial.engine.errors import JOIN_SECONDS, lost_task, missing_tasks

# How long the chief waits for its tasks to start, and a task for the chief (and then for
# the chief's word on whether they all did, ``TOLD_SECONDS`` more).
WAIT_SECONDS = JOIN_SECONDS
# Once the chief has started, a waiting task asks it every so often whether it still
# answers, and gives up on it after PING_SECONDS without an answer; the chief asks every
# task alike while it fits (a task cut off the network never resets the chief's calls to
# it: they would wait for ever).
POLL_SECONDS, PING_SECONDS = 2, 5
TOLD_SECONDS = 4 * PING_SECONDS  # the chief's probes of its tasks, then its telling them
# What a session run raises when a task is gone: the connection reset, or a call cut off.
LOST = (
    tf.errors.UnavailableError,
    tf.errors.AbortedError,
    tf.errors.CancelledError,
    tf.errors.DeadlineExceededError,
)
_SERVERS: dict = {}  # one server a process: a port is bound once


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The cluster and this process's task in it, from ``TF_CONFIG``."""

    spec: dict
    task_type: str
    task_index: int

    @classmethod
    def from_tf_config(cls, environ=os.environ) -> Cluster | None:
        """The cluster ``TF_CONFIG`` describes, or ``None`` when it names one task or none."""
        raw = environ.get("TF_CONFIG", "")
        if not raw.strip():
            return None
        try:
            config = json.loads(raw)
            spec = {job: list(tasks) for job, tasks in config.get("cluster", {}).items()}
            task_type = config.get("task", {}).get("type")
            task_index = int(config.get("task", {}).get("index", 0))
        except (ValueError, TypeError, AttributeError) as error:
            raise InvalidParameterError(f"TF_CONFIG is not a cluster and task: {error}") from None
        if sum(len(tasks) for tasks in spec.values()) <= 1:
            return None
        if task_type not in spec or not 0 <= task_index < len(spec[task_type]):
            raise InvalidParameterError(
                f"TF_CONFIG's task {task_type!r}:{task_index} is not in its cluster {spec}."
            )
        if set(spec) - {"chief", "worker"}:
            raise InvalidParameterError(
                f"TF_CONFIG's cluster may have jobs 'chief' and 'worker' only, got {sorted(spec)}."
            )
        return cls(spec, task_type, task_index)

    @property
    def devices(self) -> list[str]:
        """Every task that reads data and computes: the chief first, then the workers."""
        jobs = [job for job in ("chief", "worker") if job in self.spec]
        return [f"/job:{job}/task:{i}" for job in jobs for i in range(len(self.spec[job]))]

    @property
    def is_chief(self) -> bool:
        return self.device == self.devices[0]

    @property
    def device(self) -> str:
        return f"/job:{self.task_type}/task:{self.task_index}"

    @property
    def addresses(self) -> dict[str, str]:
        """Every task's ``host:port``, by its device."""
        return {
            f"/job:{job}/task:{index}": address
            for job, tasks in self.spec.items()
            for index, address in enumerate(tasks)
        }


def _server_for(cluster: Cluster) -> tf.train.Server:
    """This process's ``train.Server`` for its task, started once."""
    key = (json.dumps(cluster.spec, sort_keys=True), cluster.device)
    if key not in _SERVERS:
        _SERVERS[key] = tf.train.Server(
            tf.train.ClusterSpec(cluster.spec),
            job_name=cluster.task_type,
            task_index=cluster.task_index,
        )
    return _SERVERS[key]


# What the chief puts on each task's queue first: no model yet, -1 iterations. LOST_TASK in
# the iterations instead: the fit lost the task whose place in ``Cluster.devices`` follows.
# NOT_JOINED: the task there never started, and the fit did not either.
STARTED = (np.zeros((1, 1)), np.float64(0), np.int32(-1), np.zeros(0, np.int32), np.int32(0))
LOST_TASK, NOT_JOINED = -2, -3


def _model_queue(device: str):
    """The queue through which the chief hands a task the fitted model, on its device."""
    with tf.device(device):
        name = "kmeans_model_" + device.replace("/", "_").replace(":", "_")
        return tf.FIFOQueue(
            1, [tf.float64, tf.float64, tf.int32, tf.int32, tf.int32], shared_name=name
        )


def _abandon(session) -> None:
    """Drop a session on a cluster that lost a task, without closing it: ``close`` asks
    every task to drop its part of the session, and waits for the lost one for ever, so
    the process could not end. The session is dropped with the process."""
    session._closed = True  # what Session.close sets; __del__ then closes nothing
    session._session = None  # nor deletes the session (TF_DeleteSession)


class ClusterStream(sources.Stream):
    """The cluster's input as the fit sees it: its width, dtype and init sample. Its
    batches are read on the tasks, by the core's iterators (``ClusterBatchCore``), never
    on this host."""

    def __init__(self, whole: sources.DatasetStream):
        self.whole = whole  # the input_fn's dataset, read here for the init sample only
        self.n_features, self.dtype, self.name = whole.n_features, whole.dtype, "X"
        self.n_samples = None

    def __iter__(self):
        raise TypeError("a cluster's batches are read on its tasks (ClusterBatchCore)")

    def init_sample(self, size, random_state):
        return self.whole.init_sample(size, random_state)


class ClusterBatchCore(BatchCore):
    """The chief's graph: each task's part of a global batch placed on it, the parts'
    sums added on the chief, run through a ``Session`` on the chief's server."""

    def __init__(self, cluster: Cluster, server: tf.train.Server, input_fn, n_features, dtype):
        self.cluster, self.server = cluster, server
        self.input_fn, self.n_features, self.dtype = input_fn, n_features, tf.as_dtype(dtype)
        self.graph = tf.Graph()
        self.session = tf.Session(server.target, graph=self.graph)
        self.programs: dict = {}
        # Per global batch, the rows each task read of it (the same every pass).
        self.sizes: list[list[int]] = []
        self.lost: Exception | None = None  # what the watch found: a task that stopped answering
        self._stop_watch = threading.Event()
        # The passes' runs, made on a thread of their own (``_run``), so that the fit can
        # give up a run that waits on a lost task: nothing cancels a session's run.
        self._calls: queue.Queue = queue.Queue()
        threading.Thread(target=self._runner, daemon=True).start()

    def wait_for_tasks(self) -> None:
        """Run a trivial op on every task until all answer (``WAIT_SECONDS`` at most): the
        other processes may start their servers after the chief's graph is ready. A task
        whose server never listens fails the fit with ``LostTaskError`` naming it, and the
        tasks that did start are told (they would otherwise wait for the chief)."""
        with self.graph.as_default():
            pings = []
            for device in self.cluster.devices:
                with tf.device(device):
                    pings.append(tf.identity(tf.constant(0)))
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            # A session's first run waits for every task's devices, for ever (TensorFlow's
            # master asks again every 10 s): it is made only once every server listens,
            # and bounded by the deadline (a task may still end in between).
            missing = self._not_listening()
            if not missing:
                try:
                    self._run(pings, None, deadline)
                    break
                except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError):
                    pass  # a server up, not yet serving
                except TimeoutError:
                    missing = self._not_listening()
            if time.monotonic() > deadline:
                self.stop_watch()  # the runner may be left in the run, for ever
                if missing:
                    self.tell_tasks(missing[0], NOT_JOINED, reached=False)
                chief = self.cluster.devices[0]
                raise missing_tasks(missing, chief, self.cluster.addresses, WAIT_SECONDS)
            time.sleep(0.2)
        # Each task is told the chief has started (its queue's first element, of no
        # iterations): it may now ask the chief whether it still answers. A task that
        # dialled the chief before its server was up would leave a backed-off channel that
        # fails the chief's first pass.
        with self.graph.as_default():
            started = [_model_queue(device).enqueue(STARTED) for device in self.cluster.devices[1:]]
        self.session.run(started)
        # The watch's sessions, made while every task answers: a session's first run asks
        # its task for its devices with no timeout, which a task cut off would never answer.
        watched = {
            device: _ping_session(self.server, device) for device in self.cluster.devices[1:]
        }
        threading.Thread(target=self._watch, args=(watched,), daemon=True).start()

    def _watch(self, pings: dict) -> None:
        """Ask every other task, every ``POLL_SECONDS``, whether it answers (``PING_SECONDS``
        at most), until the fit ends. One that does not is noted in ``lost``, and the
        pass's run gives up (``_run``): a killed task resets the run's calls to it, but
        one cut off the network leaves them waiting for ever."""
        timeout = tf.RunOptions(timeout_in_ms=PING_SECONDS * 1000)
        while not self._stop_watch.wait(POLL_SECONDS):
            for device, (session, ping) in pings.items():
                try:
                    session.run(ping, options=timeout)
                except LOST as error:
                    if not self._stop_watch.is_set():  # not a task ending with the fit
                        self.lost = type(error)(None, None, f"{device} did not answer: {error}")
                    return
        for session, _ in pings.values():  # the fit ended: dropped (see _abandon)
            _abandon(session)

    def _runner(self) -> None:
        # No `:=` here: tf_upgrade_v2's parser (pasta) fails on it, and tf1_graph must
        # stay a tree that tool can upgrade (tests/migration/test_upgrade_tool.py).
        for call in iter(self._calls.get, None):
            fetch, feed, box, done = call
            try:
                box.append(self.session.run(fetch, feed))
            except Exception as error:  # handed to the fit's thread, which raises it
                box.append(error)
            done.set()

    def _run(self, fetch, feed, deadline: float | None = None):
        """``session.run(fetch, feed)``, made on the runner's thread: its result, or the
        watch's error once it finds a lost task, or ``TimeoutError`` past ``deadline`` (a
        ``time.monotonic()``; the run is then left behind)."""
        if self._stop_watch.is_set():  # the runner has ended: nothing watches any more
            return self.session.run(fetch, feed)
        box: list = []
        done = threading.Event()
        self._calls.put((fetch, feed, box, done))
        while not done.wait(POLL_SECONDS / 4):
            if self.lost is not None:
                raise self.lost
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"no answer in {WAIT_SECONDS} s")
        if isinstance(box[0], Exception):
            raise box[0]
        return box[0]

    def stop_watch(self) -> None:
        """End the watch and the runner (the fit is over)."""
        if not self._stop_watch.is_set():
            self._stop_watch.set()
            self._calls.put(None)

    def tell_tasks(self, lost_device: str, code: int = LOST_TASK, reached: bool = True) -> None:
        """Tell every task still there that the fit lost ``lost_device`` (``code``
        ``LOST_TASK``), or that it never joined (``NOT_JOINED``), through its queue: it
        then stops with the same error (it would otherwise find the chief gone, and name
        it). ``reached``: whether the other tasks answered the chief already; if not,
        those whose servers listen are told. Bounded: a task that does not answer in
        ``PING_SECONDS`` finds the chief gone."""
        devices = self.cluster.devices
        others = [device for device in devices[1:] if device != lost_device]
        if not reached:
            absent = self._not_listening()
            others = [device for device in others if device not in absent]
        if lost_device not in devices or not others:
            return
        graph = tf.Graph()
        notice = (np.zeros((1, 1)), np.float64(0), np.int32(code), np.zeros(0, np.int32))
        with graph.as_default():
            index = np.int32(devices.index(lost_device))
            enqueues = [_model_queue(device).enqueue((*notice, index)) for device in others]
        config = tf.ConfigProto(
            device_filters=[devices[0], *others], operation_timeout_in_ms=PING_SECONDS * 1000
        )
        session = tf.Session(self.server.target, graph=graph, config=config)

        def tell():
            with contextlib.suppress(tf.errors.OpError):  # one not told finds the chief gone
                session.run(enqueues, options=tf.RunOptions(timeout_in_ms=PING_SECONDS * 1000))

        # On a thread, joined for a bounded time: the session's first run asks the tasks
        # for their devices with no timeout, and one may have ended since it answered.
        teller = threading.Thread(target=tell, daemon=True)
        teller.start()
        teller.join(2 * PING_SECONDS)
        _abandon(session)

    def _not_listening(self) -> list[str]:
        """The other tasks whose servers accept no connection (their processes not
        started): told without a session, whose first run would wait for them for ever."""
        missing = []
        for device in self.cluster.devices[1:]:
            host, _, port = self.cluster.addresses[device].rpartition(":")
            try:
                address = (host.strip("[]"), int(port))
                socket.create_connection(address, timeout=PING_SECONDS).close()
            except OSError:
                missing.append(device)
        return missing

    def _program(self, kind: str, n_clusters: int):
        key = (kind, n_clusters)
        if key in self.programs:
            return self.programs[key]
        devices = self.cluster.devices
        with self.graph.as_default():
            centers = tf.placeholder(self.dtype, [n_clusters, self.n_features], name="centers")
            offset = tf.placeholder(self.dtype, [self.n_features], name="offset")
            initializers, outputs = [], []
            for index, device in enumerate(devices):
                with tf.device(device):
                    pairs = batch_ops.as_pairs(self.input_fn(), self.dtype)
                    iterator = tf.data.make_initializable_iterator(pairs)
                    x, w = iterator.get_next()
                    x, w = batch_ops.replica_part(x, w, index, len(devices))
                    rows = tf.shape(x)[0]
                    if kind in ("stats", "first_stats"):
                        bad = tf.logical_not(tf.math.is_finite(x))
                        bad = tf.reduce_sum(tf.cast(bad, tf.int32))
                        stats = batch_ops.batch_stats(
                            x, w, centers, offset, rows, with_moments=kind == "first_stats"
                        )
                        outputs.append((*stats, rows, bad))
                    elif kind == "far":
                        outputs.append((*batch_ops.farthest(x, w, centers, offset, rows), rows))
                    else:
                        outputs.append(batch_ops.labels_inertia(x, w, centers, offset))
                initializers.append(iterator.initializer)
            with tf.device(self.cluster.device):  # the chief adds the tasks' parts up
                if kind in ("stats", "first_stats"):
                    labels = [part[0] for part in outputs]
                    added = [
                        tf.add_n([part[i] for part in outputs]) for i in range(1, len(outputs[0]))
                    ]
                    fetch = (labels, *added)
                elif kind == "far":  # the tasks' candidates one after another, as a gather
                    far = [tf.concat([part[i] for part in outputs], axis=0) for i in range(5)]
                    fetch = (*far, tf.add_n([part[5] for part in outputs]))
                else:
                    fetch = ([part[0] for part in outputs], tf.add_n([p[1] for p in outputs]))
            self.programs[key] = centers, offset, tf.group(initializers), fetch
        return self.programs[key]

    def _pass(self, kind: str, centers, offset):
        """A pass over the cluster's input: each global batch's fetch of program ``kind``,
        until the tasks' iterators reach the end of their input."""
        placeholder, offset_placeholder, initializer, fetch = self._program(kind, len(centers))
        self.session.run(initializer)
        feed = {placeholder: centers, offset_placeholder: offset}
        while True:
            try:
                yield self._run(fetch, feed)
            except tf.errors.OutOfRangeError:
                return

    def stats(self, stream, centers, offset, with_moments):
        kind = "first_stats" if with_moments else "stats"
        for labels, sums, weights, inertia, *moments, rows, bad in self._pass(
            kind, centers, offset
        ):
            if bad:
                raise InvalidParameterError(
                    f"Input X contains NaN or infinity: {int(bad)} value(s) in a batch."
                )
            moments = moments[0] if moments else None
            yield BatchStats(
                np.concatenate(labels), sums, weights, float(inertia), moments, int(rows)
            )

    def farthest(self, stream, centers, offset):
        for result in self._pass("far", centers, offset):
            yield (*result[:5], int(result[5]))

    def labels_inertia(self, stream, centers, offset):
        self.sizes = []
        for labels, inertia in self._pass("assign", centers, offset):
            self.sizes.append([len(task_labels) for task_labels in labels])
            yield np.concatenate(labels), float(inertia)

    def distances(self, stream, centers, offset):
        raise NotImplementedError("transform runs on one process, outside the cluster")

    def minibatch_step(self, x, w, centers, counts, offset, reassign, ratio, uniforms):
        raise NotImplementedError("MiniBatchKMeans on a TF1 cluster: see plan")

    def sum_over_processes(self, value: int) -> int:
        return value  # the chief sees every task's rows

    def task_labels(self, labels: np.ndarray, index: int) -> np.ndarray:
        """Of ``labels`` (every row, global batch by global batch, each batch's parts in
        task order, as an assignment pass returns them), those of the rows task ``index``
        read: the fitted labels, whichever run they come from."""
        return _task_part(labels, self.sizes, index)

    def publish(self, model: Model) -> None:
        """Hand every other task the fitted model, through the queue on its device (the
        watch still on: a task lost now is named too)."""
        with self.graph.as_default():
            enqueues = []
            for index, device in enumerate(self.cluster.devices[1:], start=1):
                values = (
                    model.centers.astype(np.float64),
                    np.float64(model.inertia),
                    np.int32(model.n_iter),
                    self.task_labels(model.labels, index),
                    np.int32(model.centers.dtype == np.float32),
                )
                enqueues.append(_model_queue(device).enqueue(values))
        self._run(enqueues, None)
        self.stop_watch()


def _task_part(labels: np.ndarray, sizes: list[list[int]], index: int) -> np.ndarray:
    """The labels of task ``index``'s rows: ``sizes[b][t]`` rows of global batch ``b`` are
    task ``t``'s, the batches' parts one after another in ``labels``."""
    if not sizes:
        return np.empty(0, np.int32)
    counts = np.asarray(sizes)
    starts = (np.cumsum(counts.ravel()) - counts.ravel()).reshape(counts.shape)
    pairs = zip(starts[:, index], counts[:, index], strict=True)
    return np.concatenate([labels[start : start + count] for start, count in pairs]).astype(
        np.int32
    )


class _ClusterPlan(DistributedPlan):
    """A fit on the cluster: the chief fits (``stream`` and ``core``), every other task
    waits for the model the chief hands it."""

    def __init__(self, cluster: Cluster, server, input_fn, checkpoint_dir):
        self.cluster, self.server, self.checkpoint_dir = cluster, server, checkpoint_dir
        self.stream: ClusterStream | None = None
        self.core: ClusterBatchCore | None = None
        self.chief = cluster.is_chief
        if self.chief:
            whole = sources.DatasetStream(input_fn())  # checks the spec; the init rows
            self.stream = ClusterStream(whole)
            self.core = ClusterBatchCore(cluster, server, input_fn, whole.n_features, whole.dtype)
            self.core.wait_for_tasks()

    @contextlib.contextmanager
    def errors(self):
        try:
            yield
        except LOST as error:
            lost = lost_task(
                error, self.cluster.device, self.cluster.addresses, self.checkpoint_dir
            )
            if self.core is not None:
                _abandon(self.core.session)
                self.core.tell_tasks(lost.task)
            raise lost from None
        finally:
            if self.core is not None:
                self.core.stop_watch()

    def publish(self, model: Model) -> np.ndarray:
        assert self.core is not None  # the chief's
        self.core.publish(model)
        return self.core.task_labels(model.labels, 0)

    def take_model(self) -> Model:
        return _take_model(self.cluster, self.server, self.checkpoint_dir)


def plan(X, sample_weight, estimator: str, checkpoint_dir) -> DistributedPlan | None:
    """The plan of a fit on the cluster ``TF_CONFIG`` names, ``X`` an ``input_fn``; ``None``
    without a cluster (the fit is then the package's own, local)."""
    input_fn = X
    cluster = Cluster.from_tf_config()
    if cluster is None:
        return None
    if estimator != "KMeans":
        raise InvalidParameterError(
            f"{estimator} does not fit on a TF1 cluster; fit it with tf2_eager under "
            f"MultiWorkerMirroredStrategy, or unset TF_CONFIG."
        )
    if not callable(input_fn) or sources.is_dataset(input_fn):
        raise InvalidParameterError(
            f"On a TF1 cluster (TF_CONFIG), fit takes an input_fn: a function returning a "
            f"tf.data.Dataset of batches, which each task calls in its own graph; got "
            f"{type(input_fn).__name__}."
        )
    if sample_weight is not None:
        raise InvalidParameterError(
            "sample_weight must be given inside the dataset, as (x, sample_weight) elements."
        )
    return _ClusterPlan(cluster, _server_for(cluster), input_fn, checkpoint_dir)


def _ping_session(server, device: str):
    """A session that reaches ``device`` alone (its device filter), and a trivial op on it:
    made once the task is up (making a session lists the task's devices, which a lost task
    would never do)."""
    graph = tf.Graph()
    with graph.as_default(), tf.device(device):
        ping = tf.identity(tf.constant(0))
    config = tf.ConfigProto(device_filters=[device], operation_timeout_in_ms=PING_SECONDS * 1000)
    session = tf.Session(server.target, graph=graph, config=config)
    session.run(ping)  # the first run: the task's devices, asked with no timeout
    return session, ping


def _take_model(cluster: Cluster, server, checkpoint_dir) -> Model:
    """Wait for the model the chief puts on this task's queue: ``WAIT_SECONDS`` at most for
    the chief to start, then as long as it answers (asked every ``POLL_SECONDS``)."""
    graph = tf.Graph()  # a session places its whole graph
    chief = cluster.devices[0]
    with graph.as_default():
        values = _model_queue(cluster.device).dequeue()
    # Only this task's devices: a session's master otherwise asks every task of the cluster
    # for its devices, and if the chief's server is not up yet, this process's channel to it
    # backs off, failing the chief's first pass (its RecvTensor from here) fast.
    config = tf.ConfigProto(device_filters=[cluster.device])
    with tf.Session(server.target, graph=graph, config=config) as session:
        waited = tf.RunOptions(timeout_in_ms=int((WAIT_SECONDS + TOLD_SECONDS) * 1000))
        try:
            first = session.run(values, options=waited)
        except tf.errors.DeadlineExceededError:
            raise missing_tasks([chief], cluster.device, cluster.addresses, WAIT_SECONDS) from None
        _raise_notice(first, cluster, checkpoint_dir)  # another task never started
        # The chief is up: from now on it may be dialled, by a session of its own.
        model, lost, asking = None, None, None
        try:
            asking, ping = _ping_session(server, chief)
        except LOST as error:
            lost = type(error)(None, None, f"the chief {chief} did not answer: {error}")
        poll = tf.RunOptions(timeout_in_ms=POLL_SECONDS * 1000)
        while model is None and lost is None:
            assert asking is not None  # made, or the chief was lost
            try:
                model = session.run(values, options=poll)
            except tf.errors.DeadlineExceededError:
                try:
                    asking.run(ping, options=tf.RunOptions(timeout_in_ms=PING_SECONDS * 1000))
                except LOST as error:
                    lost = type(error)(None, None, f"the chief {chief} did not answer: {error}")
        if lost is not None:
            if asking is not None:
                _abandon(asking)
            try:  # the chief may have handed over the model, then ended
                model = session.run(values, options=tf.RunOptions(timeout_in_ms=1000))
            except tf.errors.DeadlineExceededError:
                raise lost_task(lost, cluster.device, cluster.addresses, checkpoint_dir) from None
        elif asking is not None:
            asking.close()
    assert model is not None  # the loop ends with it, or raised
    _raise_notice(model, cluster, checkpoint_dir)  # the chief lost a task
    centers, inertia, n_iter, labels, single = model
    centers = centers.astype(np.float32 if single else np.float64)
    return Model(centers, float(inertia), int(n_iter), labels)


def _raise_notice(element: tuple, cluster: Cluster, checkpoint_dir) -> None:
    """Raise the chief's notice, if ``element`` (from this task's queue) is one: the chief
    lost a task (``LOST_TASK``), or one never started (``NOT_JOINED``), and stopped; so
    does this task, with the error naming that task."""
    n_iter, index = int(element[2]), int(element[4])
    if n_iter == LOST_TASK:
        lost_device = cluster.devices[index]
        told = tf.errors.UnavailableError(None, None, f"the chief lost {lost_device}")
        raise lost_task(told, cluster.device, cluster.addresses, checkpoint_dir)
    if n_iter == NOT_JOINED:
        devices = [cluster.devices[index]]
        raise missing_tasks(devices, cluster.device, cluster.addresses, WAIT_SECONDS)
