"""A batch core of one process (``driver.BatchCore``): each batch padded to one of a few
sizes, so that batches of nearby sizes share one program, run by the package, and its
rows' results cut back. Each package subclasses ``LocalBatchCore`` with ``_run``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from kmeans_tutorial.engine.driver import BatchCore, BatchStats
from kmeans_tutorial.engine.sharing import aligned_empty, shareable

if TYPE_CHECKING:
    from kmeans_tutorial.engine.sources import Stream


def batch_rows(n_samples: int) -> int:
    """Rows a batch is padded to, so that batches of nearby sizes share one program.

    Dense programs are compiled for one number of rows; padding to one of 8 sizes per
    power of two (at most a quarter more rows) bounds how many there are.
    """
    if n_samples <= 16:
        return 16
    step = 1 << ((n_samples - 1).bit_length() - 3)
    return -(-n_samples // step) * step


def padded(x: np.ndarray, w: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``w`` aligned for TensorFlow, with rows of zeros of weight 0 after them up
    to ``rows`` (they add nothing to sums or inertia; their labels are cut off)."""
    if rows == len(x):
        return shareable(x), shareable(w)
    padded_x, padded_w = aligned_empty((rows, x.shape[1]), x.dtype), np.zeros(rows, x.dtype)
    padded_x[: len(x)], padded_x[len(x) :] = x, 0
    padded_w[: len(x)] = w
    return padded_x, shareable(padded_w)


# A stream is read many times, in many batches: its programs are compiled when this many
# batches of their size would be worth compiling for (``lloyd_ops.compiles``).
STREAMED_BATCHES = 8


def compiles(rows: int, n_features: int, n_clusters: int) -> bool:
    """Whether a batch program for this batch shape is compiled by XLA, in both drivers."""
    from kmeans_tutorial.engine import lloyd_ops

    return lloyd_ops.compiles(STREAMED_BATCHES * rows, n_features, n_clusters)


class LocalBatchCore(BatchCore):
    """A batch core of one process (``driver.BatchCore``): it reads the stream itself, pads
    each batch to a size its programs are made for (``batch_rows``), runs the package's
    ``_run``, and cuts the results back to the batch's rows."""

    def _run(self, name: str, x: np.ndarray, centers: np.ndarray, *inputs: Any) -> list[Any]:
        """Program ``batch_ops.<name>`` for ``x``'s shape and ``len(centers)`` on
        ``(x, *inputs)``: a list of NumPy arrays."""
        raise NotImplementedError

    def stats(
        self, stream: Stream, centers: np.ndarray, offset: np.ndarray, with_moments: bool
    ) -> Iterator[BatchStats]:
        name = "first_pass_stats" if with_moments else "batch_stats"
        for x, w in stream:
            rows = len(x)
            x, w = padded(x, w, batch_rows(rows))
            labels, sums, weights, inertia, *moments = self._run(
                name, x, centers, w, centers, offset, rows
            )
            first = moments[0] if moments else None
            yield BatchStats(labels[:rows], sums, weights, float(inertia), first, rows)

    def farthest(
        self, stream: Stream, centers: np.ndarray, offset: np.ndarray
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]]:
        for x, w in stream:
            rows = len(x)
            x, w = padded(x, w, batch_rows(rows))
            yield (*self._run("farthest", x, centers, w, centers, offset, rows), rows)

    def labels_inertia(
        self, stream: Stream, centers: np.ndarray, offset: np.ndarray
    ) -> Iterator[tuple[np.ndarray, float]]:
        for x, w in stream:
            rows = len(x)
            x, w = padded(x, w, batch_rows(rows))
            labels, inertia = self._run("labels_inertia", x, centers, w, centers, offset)
            yield labels[:rows], float(inertia)

    def distances(
        self, stream: Stream, centers: np.ndarray, offset: np.ndarray
    ) -> Iterator[np.ndarray]:
        for x, _ in stream:
            yield self.batch_distances(x, centers, offset)

    def batch_distances(self, x: np.ndarray, centers: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """One batch's Euclidean distances to ``centers``, (rows, n_clusters)."""
        rows = len(x)
        x, _ = padded(x, np.zeros(rows, x.dtype), batch_rows(rows))
        return self._run("transform", x, centers, centers, offset)[0][:rows]

    def batch_nearest(
        self, x: np.ndarray, centers: np.ndarray, offset: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One batch's nearest centres (rows,) and squared distances to them (rows,)."""
        rows = len(x)
        x, _ = padded(x, np.zeros(rows, x.dtype), batch_rows(rows))
        labels, distances = self._run("nearest", x, centers, centers, offset)
        return labels[:rows], distances[:rows]

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
        rows = len(x)
        x, w = padded(x, w, batch_rows(rows))
        drawn = np.full(len(x), 2.0)  # rows of padding are never drawn
        drawn[:rows] = uniforms
        inputs = (w, centers, counts, offset, reassign, ratio, drawn, rows)
        new_centers, new_counts, inertia, n_moved = self._run("minibatch_step", x, centers, *inputs)
        return new_centers, new_counts, float(inertia), int(n_moved), rows

    def sum_over_processes(self, value: int) -> int:
        return value
