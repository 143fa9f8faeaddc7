"""The contract between the shared estimators and each package's TensorFlow driver, declared
once.

The estimators (``kmeans.KMeans``, ``minibatch.MiniBatchKMeans`` on ``base.BaseKMeans``)
validate input, draw seeds, run restarts and keep the fitted attributes; for everything
TensorFlow does they ask their class's ``driver`` (a ``Driver``): ``tf1_graph.engine.kmeans``
implements it with graphs run by a ``Session``, ``tf2_eager.engine.kmeans`` with
``tf.function``. The calls go one way: the estimators call the driver and what it returns;
nothing here calls an estimator back. A type checker holds the drivers to these Protocols
(``nox -s typecheck``).

A core trusts its input: data already checked (a float32/float64 array aligned for
TensorFlow, or ``SparseRows``), weights of the data's dtype. It computes around the offset
it was made with (dense data's mean, so that |x|² - 2x·c + |c|² stays accurate; zeros for
sparse data), its centres in ``X - offset`` coordinates; the fits see it through
``coordinates.DataCore``, which alone moves centres between those and the data's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from kmeans_tutorial.engine.batch_core import LocalBatchCore
    from kmeans_tutorial.engine.checkpoints import CheckpointWriter
    from kmeans_tutorial.engine.data import SparseRows
    from kmeans_tutorial.engine.sources import Stream


class Seeding(Protocol):
    """What every initialisation draws rows with (``init``): a core's data and weights, and
    TensorFlow's seeded draws over them."""

    weights: np.ndarray  # the sample weights, one a row

    def rows(self, index: np.ndarray) -> np.ndarray:
        """Rows ``index`` of the data, dense, in the data's coordinates: (len(index), d)."""
        ...

    def shuffled_rows(self, n_clusters: int, seed: int) -> np.ndarray:
        """The first ``n_clusters`` of the rows' numbers shuffled by TensorFlow's seeded
        ``random_shuffle`` (the lesson's draw): (n_clusters,)."""
        ...

    def plus_plus_rows(self, n_clusters: int, seed: int) -> np.ndarray:
        """The rows that greedy k-means++ chooses as centres, seeded: (n_clusters,)."""
        ...

    def chain(self, distances: np.ndarray, seed: int) -> int:
        """TensorFlow's k-MC2 chain (``KMC2ChainInitialization``) over candidates' squared
        distances: the index of the next centre among them."""
        ...


class KMeansCore(Seeding, Protocol):
    """What a core does for the estimator, on the data set it was made for (in memory);
    rows in the data's coordinates, centres in ``X - offset``'s."""

    def lloyd(
        self, centers: np.ndarray, max_iter: int, tol: float, algorithm: str = "lloyd"
    ) -> tuple[np.ndarray, float, np.ndarray, int]:
        """One whole run from ``centers``: (labels, inertia, centers, n_iter).
        ``algorithm``: ``"elkan"`` gives the same run with distance work skipped where
        bounds allow (``lloyd_ops.elkan``); a core without it runs Lloyd's."""
        ...

    def step(
        self, centers: np.ndarray, previous_labels: np.ndarray, tol: float
    ) -> tuple[np.ndarray, np.ndarray, bool, float, float]:
        """One iteration: (centers, labels, stop, shift, inertia)."""
        ...

    def labels_inertia(self, centers: np.ndarray) -> tuple[np.ndarray, float]:
        """Nearest-centre labels (n_samples,) int32 and their weighted inertia."""
        ...

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""
        ...


@dataclasses.dataclass
class BatchStats:
    """What one batch adds to a Lloyd pass (``batch_ops.batch_stats``), as NumPy."""

    labels: np.ndarray  # of the rows this process read
    sums: np.ndarray
    weights: np.ndarray
    inertia: float
    moments: np.ndarray | None  # on the first pass only
    n_rows: int  # of the whole batch, on every process


class BatchCore(Protocol):
    """What a package runs for a streamed fit (``streamed``, ``minibatch``): the programs of
    ``batch_ops``, one batch at a time; the host adds the results up. The pass methods read
    the stream themselves and yield a result a batch (a TF1 cluster's tasks read their own
    iterators). Centres and ``offset``: the batch programs compute with ``x - offset``, the
    centres in those coordinates. Under ``tf.distribute`` a core splits each batch over
    the replicas and returns what they add up, all-reduced."""

    def stats(
        self, stream: Stream, centers: np.ndarray, offset: np.ndarray, with_moments: bool
    ) -> Iterator[BatchStats]:
        """A pass: each batch's ``batch_ops.batch_stats``."""
        ...

    def farthest(
        self, stream: Stream, centers: np.ndarray, offset: np.ndarray
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]]:
        """A pass: each batch's ``batch_ops.farthest`` (distances, rows, values, weights,
        labels of its candidates), then the batch's rows."""
        ...

    def labels_inertia(
        self, stream: Stream, centers: np.ndarray, offset: np.ndarray
    ) -> Iterator[tuple[np.ndarray, float]]:
        """A pass: each batch's nearest-centre labels and their weighted inertia."""
        ...

    def distances(
        self, stream: Stream, centers: np.ndarray, offset: np.ndarray
    ) -> Iterator[np.ndarray]:
        """A pass: each batch's Euclidean distances to ``centers``, (rows, n_clusters)."""
        ...

    def minibatch_step(
        self,
        x: Any,
        w: Any,
        centers: np.ndarray,
        counts: np.ndarray,
        offset: np.ndarray,
        reassign: bool,
        ratio: float,
        uniforms: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, float, int, int]:
        """``batch_ops.minibatch_step`` on one batch: (centers, counts, inertia, centres
        moved, the batch's rows); ``uniforms`` one a row (a seed, for a distributed batch
        whose rows the host does not hold)."""
        ...

    def sum_over_processes(self, value: int) -> int:
        """``value`` summed over the processes of a distributed fit (one process: itself)."""
        ...


class SummaryWriter(Protocol):
    """TensorBoard scalars in a ``log_dir``, with the package's writer."""

    def scalar(self, tag: str, step: int, value: float) -> None: ...


@dataclasses.dataclass
class Model:
    """A fitted model as a distributed fit hands it between processes."""

    centers: np.ndarray
    inertia: float
    n_iter: int
    labels: np.ndarray


class DistributedPlan(Protocol):
    """A fit over many devices or processes, as the package's driver set it up: the stream
    and batch core this process fits with, or (both ``None``) the model it waits for.
    """

    stream: Stream | None
    core: BatchCore | None
    chief: bool  # whether this process writes checkpoints and summaries

    def errors(self) -> AbstractContextManager[None]:
        """Around the fit: a lost process becomes one ``errors.LostTaskError``."""
        ...

    def publish(self, model: Model) -> np.ndarray:
        """Hand the fitted model to the processes that wait for it; this process's labels."""
        ...

    def take_model(self) -> Model:
        """The model another process fitted (``stream`` is ``None``)."""
        ...


class Driver(Protocol):
    """A package's TensorFlow runtime, as the estimators use it."""

    def core(
        self, X: np.ndarray | SparseRows, sample_weight: np.ndarray, offset: np.ndarray
    ) -> KMeansCore:
        """A core bound to ``X`` (a dense array aligned for TensorFlow, or ``SparseRows``),
        its weights, and the point dense distances are taken around."""
        ...

    def batch_core(self) -> LocalBatchCore:
        """The core of streamed fits on this process, which also takes one batch's
        nearest centres (``LocalBatchCore.batch_nearest``, for k-means||)."""
        ...

    def checkpoint_writer(self, directory: str) -> CheckpointWriter:
        """TensorFlow's checkpoint machinery on ``directory``."""
        ...

    def summary_writer(self, directory: str) -> SummaryWriter:
        """A TensorBoard event file writer in ``directory``."""
        ...

    def distributed_plan(
        self, X: Any, sample_weight: Any, estimator: str, checkpoint_dir: Any
    ) -> DistributedPlan | None:
        """The plan of a fit of ``estimator`` (its class's name) on ``X`` over many devices
        or processes, when the package takes the fit (a ``TF_CONFIG`` cluster in TF1, a
        strategy's scope in TF2); ``None`` for a fit of this process alone."""
        ...
