"""Exact Lloyd on a stream (``sources``): each iteration is one pass over the whole stream.

Each package's batch core (``driver.BatchCore``) runs ``batch_ops`` on one batch; this module
adds up what the batches return, on the host, in float64, in the same order in both
packages, so their fits stay bit-identical. The centres move to the means of all their
members, as ``lloyd_ops.lloyd`` moves them on an array (the sums are added batch by batch
instead of chunk by chunk, so the two agree to rounding, not bit for bit).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from kmeans_tutorial.engine.checkpoints import RunsCheckpoint
from kmeans_tutorial.engine.driver import BatchCore
from kmeans_tutorial.engine.sources import Stream


class Pass:
    """What one pass over a stream adds up, in float64, batch by batch in stream order."""

    def __init__(self, n_clusters: int, n_features: int):
        self.sums = np.zeros((n_clusters, n_features))
        self.weights = np.zeros(n_clusters)
        self.moments = np.zeros((2, n_features))
        self.inertia = 0.0
        self.n_samples = 0
        self.changed = 0

    def relocated(self, far: Farthest | None) -> tuple[np.ndarray, np.ndarray]:
        """Sums and weights with each empty cluster given one of the farthest rows, as
        ``lloyd_ops._relocate_empty_clusters`` gives them: the row leaves its cluster."""
        sums, weights = self.sums.copy(), self.weights.copy()
        empty = np.flatnonzero(weights == 0)
        # Every row on its centre: nothing to move (``lloyd_ops.empty_and_farthest``).
        if far is None or not len(empty) or not (far.distances > 0).any():
            return sums, weights
        for cluster, value, weight, label in zip(
            empty, far.values, far.weights, far.labels, strict=False
        ):
            moved = value * weight
            sums[label] -= moved
            weights[label] -= weight
            sums[cluster], weights[cluster] = moved, weight
        return sums, weights

    def mean_variance(self) -> float:
        """The mean over the features of each feature's variance (``data.mean_variance``)."""
        n = self.n_samples
        return float(np.mean(self.moments[1] / n - (self.moments[0] / n) ** 2))


class Farthest:
    """The ``n_clusters`` rows of a stream farthest from their own centre: larger distance
    first, earlier row on ties (``tf.math.top_k``'s order, the in-memory relocation's)."""

    def __init__(self, n_clusters: int, n_features: int):
        self.n_clusters = n_clusters
        self.distances, self.row_numbers = np.empty(0), np.empty(0, np.int64)
        self.values, self.weights = np.empty((0, n_features)), np.empty(0)
        self.labels = np.empty(0, np.int64)

    def add(
        self,
        distances: np.ndarray,
        row_numbers: np.ndarray,
        values: np.ndarray,
        weights: np.ndarray,
        labels: np.ndarray,
        first_row: int,
    ) -> None:
        found = distances >= 0
        parts = [
            (self.distances, distances[found].astype(np.float64)),
            (self.row_numbers, row_numbers[found].astype(np.int64) + first_row),
            (self.values, values[found].astype(np.float64)),
            (self.weights, weights[found].astype(np.float64)),
            (self.labels, labels[found].astype(np.int64)),
        ]
        joined = [np.concatenate(pair) for pair in parts]
        keep = np.lexsort((joined[1], -joined[0]))[: self.n_clusters]
        self.distances, self.row_numbers, self.values, self.weights, self.labels = (
            part[keep] for part in joined
        )


def farthest_pass(
    core: BatchCore, stream: Stream, centers: np.ndarray, offset: np.ndarray
) -> Farthest:
    """One more pass, when a pass left a cluster empty: the rows to give it (rare, so the
    Lloyd pass itself never pays for finding them)."""
    far, first_row = Farthest(*centers.shape), 0
    candidates = core.farthest(stream, centers, offset)
    for distances, row_numbers, values, weights, labels, n_rows in candidates:
        far.add(distances, row_numbers, values, weights, labels, first_row)
        first_row += n_rows
    return far


Progress = Callable[[int, int, float, float], None]  # pass, rows done, seconds, inertia


def one_pass(
    core: BatchCore,
    stream: Stream,
    centers: np.ndarray,
    offset: np.ndarray,
    labels: list[np.ndarray],
    progress: Progress | None,
    number: int,
) -> Pass:
    """Assign every batch to ``centers`` and add it up.

    ``labels`` holds the previous pass's labels (empty on the first) and is given this
    pass's: one array for all rows when their number is known (a list of one array per
    batch would cost the same again in small arrays), else one array per batch. Under
    ``tf.distribute`` the core all-reduces what the batches add up, and the labels are
    those of the rows this process read.
    """
    n_clusters, n_features = centers.shape
    total = Pass(n_clusters, n_features)
    started, local = time.perf_counter(), 0
    batches = core.stats(stream, centers, offset, number == 1)
    for index, batch in enumerate(batches):
        batch_labels = batch.labels
        if index == 0 and stream.n_samples is not None and len(labels) != 1:
            # One array from now on: all -1 before the first pass, else the first pass's.
            whole = np.concatenate(labels) if labels else np.full(stream.n_samples, -1, np.int32)
            labels[:] = [whole]
        n_local = len(batch_labels)
        previous: np.ndarray | None
        if stream.n_samples is not None:
            previous = labels[0][local : local + n_local]
        else:
            previous = labels[index] if index < len(labels) else None
        if previous is None:
            total.changed += n_local
            labels.append(batch_labels)
        else:
            total.changed += int(np.count_nonzero(previous != batch_labels))
            previous[...] = batch_labels
        total.sums += batch.sums
        total.weights += batch.weights
        total.inertia += batch.inertia
        if batch.moments is not None:
            total.moments += batch.moments
        total.n_samples += batch.n_rows
        local += n_local
        if progress is not None:
            progress(number, local, time.perf_counter() - started, total.inertia)
    total.changed = core.sum_over_processes(total.changed)
    return total


def stopped(unchanged: bool, shift: float, tol: float) -> bool:
    """``lloyd_ops.stopped`` on the host: the labels did not change, or the summed squared
    centre shift is at most ``tol``."""
    return unchanged or shift <= tol


def lloyd(
    core: BatchCore,
    stream: Stream,
    centers: np.ndarray | None,
    offset: np.ndarray,
    max_iter: int,
    tol: float,
    verbose: int = 0,
    progress: Progress | None = None,
    checkpoint: RunsCheckpoint | None = None,
    log: Callable[[int, float], None] | None = None,
) -> tuple[np.ndarray, float, np.ndarray, int]:
    """Exact Lloyd on a stream from ``centers``, computed around ``offset``.

    scikit-learn's rules, as ``lloyd_ops.lloyd``: stop when the labels are those of the
    previous pass, or the summed squared centre shift is at most ``tol`` times the data's
    mean per-feature variance (known after the first pass), or after ``max_iter`` passes;
    then assign once more, to the final centres.

    ``checkpoint`` (``checkpoints.RunsCheckpoint``) is saved after every pass; if it holds
    a pass of this run, the run resumes after it (``centers`` is then ``None``), making
    that pass's labels again first, with the centres that made them. The passes work in
    ``X - offset`` coordinates, and so do the centres a checkpoint holds of a pass. ``log(iteration,
    inertia)`` is told each pass's inertia (of its rows to the centres they were assigned).

    Returns
    -------
    labels (n_samples,) int32, inertia, centers (k, d) of the stream's dtype, n_iter
    """
    pass_labels: list[np.ndarray] = []
    absolute_tol, first, last = None, 1, max_iter
    if centers is not None:
        centers = centers - offset
    resumed = None if checkpoint is None else checkpoint.take_pass()
    if resumed is not None:
        centers, absolute_tol = resumed.centers, resumed.absolute_tol
        first = resumed.iteration + 1
        if resumed.converged or resumed.iteration >= max_iter:
            last = resumed.iteration
        else:
            one_pass(core, stream, resumed.previous, offset, pass_labels, None, resumed.iteration)
    assert centers is not None  # given, or the resumed pass's
    iteration = first - 1
    for iteration in range(first, last + 1):
        started = time.perf_counter()
        total = one_pass(core, stream, centers, offset, pass_labels, progress, iteration)
        if absolute_tol is None:
            absolute_tol = total.mean_variance() * tol
        far = farthest_pass(core, stream, centers, offset) if (total.weights == 0).any() else None
        sums, weights = total.relocated(far)
        new_centers = average_centers(sums, weights).astype(centers.dtype)
        shift = float(np.sum(np.square(new_centers.astype(np.float64) - centers)))
        previous, centers = centers, new_centers
        if verbose:
            print(
                f"  pass {iteration}: inertia {total.inertia:.6g}, shift {shift:.3g}, "
                f"{time.perf_counter() - started:.3f} s"
            )
        stop = stopped(iteration > 1 and total.changed == 0, shift, absolute_tol)
        if log is not None:
            log(iteration, total.inertia)
        if checkpoint is not None:
            checkpoint.save_pass(iteration, centers, previous, absolute_tol, stop)
        if stop:
            break
    del pass_labels  # this pass's labels are made afresh: never two copies at once
    # In the data's coordinates, and labelled from them, as a resumed fit labels its best
    # run again from the centres a checkpoint keeps (``checkpoints.RunsCheckpoint``).
    centers = centers + offset
    labels, inertia = assign(core, stream, centers, offset, progress, iteration + 1)
    return labels, inertia, centers, iteration


def average_centers(sums: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``lloyd_ops.average_centers`` on the host: the weighted means, a cluster of weight 0
    on the heaviest cluster's centre, never ``nan``."""
    filled = weights > 0
    means = sums / np.where(filled, weights, 1)[:, np.newaxis]
    return np.where(filled[:, np.newaxis], means, means[np.argmax(weights)])


def assign(
    core: BatchCore,
    stream: Stream,
    centers: np.ndarray,
    offset: np.ndarray,
    progress: Progress | None = None,
    number: int = 0,
) -> tuple[np.ndarray, float]:
    """Nearest-centre labels of every row of the stream, and their weighted inertia; the
    distances taken around ``offset``.

    Written into one array when the number of rows is known, so labels are never held
    twice (a list of parts, then their concatenation) at the end of a large fit.
    """
    known = stream.n_samples
    out = np.empty(known, np.int32) if known is not None else None
    parts, inertia, done, started = [], 0.0, 0, time.perf_counter()
    for labels, batch_inertia in core.labels_inertia(stream, centers - offset, offset):
        rows = len(labels)
        if out is None:
            parts.append(labels)
        else:
            out[done : done + rows] = labels
        inertia += float(batch_inertia)
        done += rows
        if progress is not None:
            progress(number, done, time.perf_counter() - started, inertia)
    return (np.concatenate(parts) if out is None else out), inertia


def distances(
    core: BatchCore, stream: Stream, centers: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """Euclidean distances of every row of the stream to ``centers``: (n_samples, k)."""
    return np.concatenate(list(core.distances(stream, centers - offset, offset)))
