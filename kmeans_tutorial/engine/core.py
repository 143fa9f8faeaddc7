"""The contract between the shared estimator and each package's TensorFlow driver.

``BaseKMeans`` (``base.py``) validates input, draws seeds, runs restarts and keeps the
fitted attributes; for the TensorFlow work it asks its subclass for a *core* bound to one
data set, through ``_make_core``. ``tf1_graph.engine.kmeans`` implements the core with a graph
and a ``Session``, ``tf2_eager.engine.kmeans`` with ``tf.function``; both declare that they
implement ``KMeansCore``, and ``tests/migration/test_api.py`` checks that they do.

A core trusts its input: data already checked (a float32/float64 array aligned for
TensorFlow, or ``SparseRows``), weights of the data's dtype, centres in the core's
coordinates (``X - offset``; the offset is zero for sparse data).
"""

import os
import re
from typing import Protocol, runtime_checkable

import numpy as np

from kmeans_tutorial.engine.checkpoints import latest_path


@runtime_checkable
class KMeansCore(Protocol):
    """What a core does for the estimator, on the data it was made for."""

    def init_centroids(self, init: str, n_clusters: int, seed: int) -> np.ndarray:
        """Initial centres by ``init`` ("random" or "k-means++"), seeded, shape (k, d)."""

    def plus_plus_rows(self, n_clusters: int, seed: int) -> np.ndarray:
        """The rows of X that greedy k-means++ chooses as centres, seeded: (n_clusters,)."""

    def lloyd(
        self, centers: np.ndarray, max_iter: int, tol: float
    ) -> tuple[np.ndarray, float, np.ndarray, int]:
        """One whole run from ``centers``: (labels, inertia, centers, n_iter)."""

    def step(
        self, centers: np.ndarray, previous_labels: np.ndarray, tol: float
    ) -> tuple[np.ndarray, np.ndarray, bool, float, float]:
        """One iteration: (centers, labels, stop, shift, inertia)."""

    def labels_inertia(self, centers: np.ndarray) -> tuple[np.ndarray, float]:
        """Nearest-centre labels (n_samples,) int32 and their weighted inertia."""

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""


@runtime_checkable
class BatchCore(Protocol):
    """What a package runs for a streamed fit (``streaming``, ``minibatch``): one batch at
    a time, any batch (``batch_ops``); the host adds the results up. A core pads a batch
    (``streaming.padded``) to a size its programs are made for; centres are in
    ``x - offset`` coordinates. Under ``tf.distribute`` a core splits each batch over the
    replicas and returns what they add up, all-reduced."""

    def batch_stats(self, x, w, centers, offset, with_moments: bool = False) -> tuple | None:
        """``batch_ops.batch_stats`` of the batch, as NumPy: (labels, sums, weights,
        inertia, moments or ``None``, rows), ``rows`` the batch's; ``None`` when the core
        itself reads the data (a TF1 cluster) and it has ended."""

    def batch_farthest(self, x, w, centers, offset) -> tuple | None:
        """``batch_ops.farthest`` of the batch, as NumPy, then the batch's rows; ``None``
        at the end of the data, as ``batch_stats``."""

    def batch_labels_inertia(self, x, w, centers, offset) -> tuple[np.ndarray, float]:
        """Nearest-centre labels of the batch's rows, and their weighted inertia."""

    def batch_distances(self, x, centers, offset) -> np.ndarray:
        """Euclidean distances of the batch's rows to ``centers``: (rows, n_clusters)."""

    def minibatch_step(self, x, w, centers, counts, offset, reassign, ratio, uniforms):
        """``batch_ops.minibatch_step`` on the batch, as NumPy (``uniforms``: one a row)."""

    def sum_over_processes(self, value: int) -> int:
        """``value`` summed over the processes of a distributed fit (one process: itself)."""


class LostTaskError(RuntimeError):
    """A distributed fit lost one of its processes (killed, crashed, cut off): the fit
    cannot go on, in any of them."""


def lost_task(
    error: Exception, own_task: str, addresses: dict, checkpoint_dir=None
) -> LostTaskError:
    """The ``LostTaskError`` for a TensorFlow ``error`` that says a task stopped answering:
    it names the first task the error's message names other than ``own_task`` (a device
    like ``/job:worker/task:0``), with its address from ``addresses`` (device: host:port),
    and says where a restart resumes from."""
    pattern = r"/job:(\w+)(?:/replica:\d+)?/task:(\d+)"
    named = [f"/job:{job}/task:{task}" for job, task in re.findall(pattern, str(error))]
    own = "/job:{}/task:{}".format(*re.search(pattern, own_task).groups())
    lost = next((device for device in named if device != own), "another task")
    where = f" ({addresses[lost]})" if lost in addresses else ""
    resume = "restart every process of the fit"
    if checkpoint_dir is not None:
        folder, saved = os.fspath(checkpoint_dir), latest_path(checkpoint_dir)
        resume += (
            f"; with checkpoint_dir={folder!r} it resumes from {saved!r}"
            if saved
            else f"; checkpoint_dir={folder!r} holds no checkpoint yet"
        )
    return LostTaskError(
        f"the fit lost task {lost}{where}: it stopped answering ({type(error).__name__}). "
        f"This task ({own}) stops too; {resume}."
    )
