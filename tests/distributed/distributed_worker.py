"""One process of a distributed fit, for ``test_distributed.py``; saves what it fitted.

    python distributed_worker.py MODE DATA.npy OUT.npz [--mini-batch] [--default-init]
                                               [--batch=N] [--clusters=K]
                                               [--max_iter=N]
                                               [--checkpoint_steps=S]
                                               [--trace=PATH]
                                               [--late_task=I] [--absent_task=I]
                                               [--join_timeout=S]
                                               [--checkpoint_dir=DIR]
                                               [--kill_task=I --kill_at_pass=P]
                                               [--kill_task=I --kill_at_step=S]
                                               [--cut_task=I --cut_at_pass=P]
                                               [--cut_task=I --cut_at_step=S]

MODE: ``single`` (one process, no strategy), ``mirrored`` (``MirroredStrategy`` over two
logical CPUs of this process), ``multi-worker`` (``MultiWorkerMirroredStrategy``, the
cluster from ``TF_CONFIG``), ``tf1-single`` and ``tf1-cluster`` (``tf1_graph`` without and
with the ``TF_CONFIG`` cluster). Every mode reads the same batches of the ``.npy`` file
with ``npy_batches``; the fit starts from its first rows (``init``), or, with
``--default-init``, from the estimator's own init.

``--kill_task=I --kill_at_pass=P``: the first task, once it has read the first batch of
pass ``P``, kills task ``I`` with SIGKILL (itself, if ``I`` is 0), by the process id each
task writes beside its output (``OUT.pid``); ``--kill_at_step=S`` instead: before its
mini-batch step ``S`` (from 1). ``--cut_at_pass=P`` or ``--cut_at_step=S``: the first task
then asks the launcher to cut the network of the task ``--cut_task`` names (it writes the
file ``cut`` beside its output; ``distributed_cluster.py``). A task that fails writes its
error's last line to ``OUT.error``.

``--join_timeout=S``: the cluster forms within ``S`` seconds or fails: ``multi-worker``
makes its strategy with ``tf2_eager.engine.multi_worker.multi_worker_strategy(S)``
(``tf.distribute.MultiWorkerMirroredStrategy()`` without it), ``tf1-cluster`` sets
``WAIT_SECONDS``. ``--absent_task=I``: task ``I`` exits at once, before it joins
(a task that crashed at start-up, or was never scheduled): it makes no server and
no strategy.
"""

import faulthandler
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

BATCH = 700
N_CLUSTERS = 6
LATE_SECONDS = 8  # longer than gRPC's first reconnect back-off (1 s, growing 1.6x)


def npy_batches(path: str, batch: int = BATCH) -> tf.data.Dataset:
    """The rows of a float32 ``.npy`` file as a dataset of batches, read by TensorFlow
    (``FixedLengthRecordDataset``): no process holds the file; sharded by batch. A batch
    is one record when the batches divide the file (tf.data's cost is per record)."""
    header = np.load(path, mmap_mode="r")
    n_features = header.shape[1]
    whole = len(header) % batch == 0
    rows = tf.data.FixedLengthRecordDataset(
        path, record_bytes=4 * n_features * (batch if whole else 1), header_bytes=header.offset
    )
    if not whole:
        rows = rows.batch(batch)
    batches = rows.map(lambda raw: tf.reshape(tf.io.decode_raw(raw, tf.float32), [-1, n_features]))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return batches.with_options(options)


def main() -> None:
    # A launcher that finds this process hung asks for its threads' stacks before it kills it.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    mode, data, out = sys.argv[1:4]
    mini_batch = "--mini-batch" in sys.argv
    flags = dict(arg[2:].split("=") for arg in sys.argv[4:] if "=" in arg)
    batch, n_clusters = int(flags.get("batch", BATCH)), int(flags.get("clusters", N_CLUSTERS))
    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    if "absent_task" in flags:  # this task ends before it joins: the others must give up
        task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
        if task.get("index") == int(flags["absent_task"]):
            return
    if "late_task" in flags:  # this task starts its server late: the others must wait
        task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
        if task.get("index") == int(flags["late_task"]):
            time.sleep(LATE_SECONDS)
    Path(out).with_suffix(".pid").write_text(str(os.getpid()))
    init = np.load(data, mmap_mode="r")[:n_clusters].copy()
    params = {"random_state": 0} if mini_batch else {"init": init, "n_init": 1}
    if "--default-init" in sys.argv:  # the estimator's own init (a dataset's: k-means||)
        params = {"random_state": 0}
    if "max_iter" in flags:  # every iteration run (timings): no early stop
        params.update(max_iter=int(flags["max_iter"]), tol=0.0)
    if mode.startswith("tf1"):
        import tf1_graph as package

        if "join_timeout" in flags:
            from tf1_graph.engine import distributed

            distributed.WAIT_SECONDS = float(flags["join_timeout"])
    else:
        import tf2_eager as package
    if "checkpoint_dir" in flags:
        params["checkpoint_dir"] = flags["checkpoint_dir"]
    if "checkpoint_steps" in flags:
        params["checkpoint_steps"] = int(flags["checkpoint_steps"])
    cls = package.MiniBatchKMeans if mini_batch else package.KMeans
    estimator = cls(n_clusters, **params)
    task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {}).get("index", 0)
    passes, steps = [], []  # the number of each pass the fit reads batches in; its steps
    fault = _fault(out, flags) if task == 0 else None
    if mini_batch:
        at, step = int(flags.get("kill_at_step", flags.get("cut_at_step", 0))), estimator._step

        def counted_step(*args, **kwargs):
            steps.append(1)
            if fault is not None and len(steps) == at:
                fault()
            return step(*args, **kwargs)

        estimator._step = counted_step
    if fault is not None and ("kill_at_pass" in flags or "cut_at_pass" in flags):
        at = int(flags.get("kill_at_pass", flags.get("cut_at_pass")))
        estimator._progress = lambda number, *_: (
            passes.append(number),
            fault() if number == at else None,
        )
    else:
        estimator._progress = lambda number, *_: passes.append(number)
    began = _trace(flags["trace"], estimator, mode) if "trace" in flags else lambda: None
    try:
        seconds = _fit(estimator, mode, data, batch, began, flags.get("join_timeout"))
    except Exception as error:
        Path(out).with_suffix(".error").write_text(f"{type(error).__name__}: {error}")
        raise
    np.savez(
        out,
        centers=estimator.cluster_centers_,
        labels=getattr(estimator, "labels_", np.empty(0)),
        inertia=estimator.inertia_,
        n_iter=estimator.n_iter_,
        seconds=seconds,
        first_pass=passes[0] if passes else 0,
        steps=len(steps),
    )


def _fault(out: str, flags: dict):
    """What the first task does at the chosen moment, once: kill task ``--kill_task``, or
    ask the launcher to cut task ``--cut_task``'s network; ``None`` if neither is asked."""
    done = []

    def kill():
        if not done:
            done.append(1)
            pid = int((Path(out).parent / f"worker{flags['kill_task']}.pid").read_text())
            os.kill(pid, signal.SIGKILL)

    def cut():
        if not done:
            done.append(1)
            (Path(out).parent / "cut").write_text(flags["cut_task"])

    return kill if "kill_task" in flags else cut if "cut_task" in flags else None


def _trace(path: str, estimator, mode: str):
    """Write what the fit does to ``path`` as it does it, a line an event, each written by
    one ``os.write`` (a SIGKILL loses none that was written): ``fit`` as the fit begins (the
    function returned writes it, once a strategy's cluster has formed); ``read N`` as it
    starts its ``N``-th pass over the data (an init pass or Lloyd's); ``pass N`` on the first
    batch of Lloyd's pass ``N``; ``step S`` before this run's mini-batch step ``S``;
    ``resume after step S`` as a mini-batch fit resumes from its checkpoint (0: from the
    start); ``save N begin`` and ``save N end`` around the writing of checkpoint ``N``."""
    from kmeans_tutorial.engine import checkpoints, sources

    trace = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def event(text: str) -> None:
        os.write(trace, f"{time.monotonic():.4f} {text}\n".encode())

    from tf2_eager.engine.distributed import DistributedStream

    reads = []
    for cls in (DistributedStream if mode == "multi-worker" else sources.DatasetStream,):
        iterate = cls.__iter__

        def counted(self, iterate=iterate):
            reads.append(1)
            event(f"read {len(reads)}")
            yield from iterate(self)

        cls.__iter__ = counted
    save = checkpoints.Checkpoint.save

    def traced_save(self, **state):
        event(f"save {self.number + 1} begin")
        save(self, **state)
        event(f"save {self.number} end")

    checkpoints.Checkpoint.save = traced_save
    for cls in (checkpoints.RunsCheckpoint, checkpoints.StepsCheckpoint):
        resume = cls.resume

        def traced_resume(self, *args, resume=resume, steps=cls is checkpoints.StepsCheckpoint):
            resumed = resume(self, *args)
            if steps:  # (its last step, ...), or None
                done = 0 if resumed is None else resumed[0] + 1
                event(f"resume after step {done}")
            else:  # (the runs done, the run in progress or None)
                event(f"resume after run {resumed[0]}")
            return resumed

        cls.resume = traced_resume
    progress, last = estimator._progress, []

    def traced_progress(number, *rest):
        if not last or last[-1] != number:
            last.append(number)
            event(f"pass {number}")
        progress(number, *rest)

    estimator._progress = traced_progress
    if hasattr(estimator, "_step"):
        step, steps = estimator._step, []

        def traced_step(*args, **kwargs):
            steps.append(1)
            event(f"step {len(steps)}")
            return step(*args, **kwargs)

        estimator._step = traced_step
    return lambda: event("fit")


def _fit(estimator, mode: str, data: str, batch: int, began, join_timeout=None) -> float:
    """Fit in ``mode``; ``began()`` is called as the fit begins."""
    started = time.perf_counter()
    if mode in ("single", "tf1-single"):
        began()
        estimator.fit(npy_batches(data, batch))
    elif mode == "tf1-cluster":
        began()
        estimator.fit(lambda: npy_batches(data, batch))
    else:
        if mode == "mirrored":
            strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        elif join_timeout is None:
            strategy = tf.distribute.MultiWorkerMirroredStrategy()
        else:
            from tf2_eager.engine.multi_worker import multi_worker_strategy

            strategy = multi_worker_strategy(float(join_timeout))
        with strategy.scope():
            began()
            estimator.fit(npy_batches(data, batch))
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
