"""The record a lesson run returns, and its comparison stage by stage."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from kmeans_tutorial.params import LessonParams
from kmeans_tutorial.validation import InvalidParameterError


class EmptyClusterError(InvalidParameterError):
    """An iteration left a cluster with no samples: the lesson's update would make it ``nan``.

    A parameter error: the lesson's parameters (its seeds, its number of clusters) lead to a
    run its ``update_centroids`` cannot finish, and other parameters would.

    Attributes
    ----------
    iteration : int
        The iteration (from 1) whose update found the cluster empty.
    cluster : int
        The empty cluster's index (the smallest, if several are empty).
    result : LessonResult
        The run up to and including that iteration (its ``nan`` centroid too).
    """

    def __init__(self, iteration: int, cluster: int, result: LessonResult) -> None:
        super().__init__(
            f"iteration {iteration} left cluster {cluster} with no samples; the lesson's "
            f"update_centroids gives it a nan centroid (try another seed or fewer clusters)."
        )
        self.iteration, self.cluster, self.result = iteration, cluster, result


@dataclasses.dataclass(frozen=True)
class LessonResult:
    """Every array the lesson computes, as NumPy.

    Attributes
    ----------
    params : LessonParams
        What was run.
    samples : ndarray of shape (n_samples, n_features), float32
        The generated points, cluster after cluster.
    true_centroids : ndarray of shape (n_clusters, n_features), float64
        The centres the points were drawn around.
    initial_centroids : ndarray of shape (n_clusters, n_features), float32
        The seeded random choice of samples k-means starts from.
    labels : ndarray of shape (n_iterations, n_samples), int64
        ``labels[i]``: each sample's nearest centroid at the start of iteration ``i + 1``.
    centroids : ndarray of shape (n_iterations, n_clusters, n_features), float32
        ``centroids[i]``: the centroids after iteration ``i + 1``.
    """

    params: LessonParams
    samples: np.ndarray
    true_centroids: np.ndarray
    initial_centroids: np.ndarray
    labels: np.ndarray
    centroids: np.ndarray

    @classmethod
    def from_iterations(
        cls, params, samples, true_centroids, initial_centroids, labels, centroids
    ) -> LessonResult:
        """Build the record from array-likes, stacking the per-iteration lists.

        ``labels`` and ``centroids`` are sequences with one entry per iteration (possibly
        none); anything ``np.asarray`` accepts will do, eager tensors included.
        """
        n_samples, n_clusters, n_features = (
            params.n_samples,
            params.n_clusters,
            params.n_features,
        )
        return cls(
            params=params,
            samples=np.asarray(samples),
            true_centroids=np.asarray(true_centroids),
            initial_centroids=np.asarray(initial_centroids),
            labels=np.asarray(labels, dtype=np.int64).reshape(-1, n_samples),
            centroids=np.asarray(centroids, dtype=np.float32).reshape(-1, n_clusters, n_features),
        )

    def finish(self) -> LessonResult:
        """Apply the stopping rules to the recorded iterations, in order.

        An iteration that left a cluster empty raises ``EmptyClusterError``; with
        ``params.tol`` set, the record ends at the first converged iteration.
        """
        tol = self.absolute_tol
        previous_labels, previous_centroids = None, self.initial_centroids
        for index, (labels, centroids) in enumerate(zip(self.labels, self.centroids, strict=True)):
            reason = stop_reason(
                self.params.n_clusters, tol, previous_labels, labels, previous_centroids, centroids
            )
            if reason is not None:
                until = dataclasses.replace(
                    self, labels=self.labels[: index + 1], centroids=self.centroids[: index + 1]
                )
                if reason == "converged":
                    return until
                raise EmptyClusterError(
                    index + 1, first_empty_cluster(labels, len(centroids)), until
                )
            previous_labels, previous_centroids = labels, centroids
        return self

    @property
    def absolute_tol(self) -> float | None:
        """``params.tol`` made absolute (see ``absolute_tol``)."""
        return absolute_tol(self.samples, self.params.tol)

    @property
    def inertia(self) -> np.ndarray:
        """Per iteration, shape (n_iterations,): Σ |x - c|² over the samples, each to the
        centroid it was assigned to in that iteration (computed in float64)."""
        previous = np.concatenate([self.initial_centroids[None], self.centroids[:-1]])
        x = self.samples.astype(np.float64)
        return np.array(
            [
                ((x - centroids.astype(np.float64)[labels]) ** 2).sum()
                for labels, centroids in zip(self.labels, previous, strict=True)
            ]
        )

    @property
    def center_shift(self) -> np.ndarray:
        """Per iteration, shape (n_iterations,): Σ over centroids of |new - old|² (float64)."""
        return center_shifts(self.initial_centroids, self.centroids)

    @property
    def final_centroids(self) -> np.ndarray:
        """Centroids after the last iteration (the initial ones if there was none)."""
        return self.centroids[-1] if len(self.centroids) else self.initial_centroids

    def stages(self) -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(stage name, array)`` in the order the lesson computes them."""
        yield "samples", self.samples
        yield "true centroids", self.true_centroids
        yield "initial centroids", self.initial_centroids
        for i, (labels, centroids) in enumerate(zip(self.labels, self.centroids, strict=True)):
            yield f"labels, iteration {i + 1}", labels
            yield f"centroids, iteration {i + 1}", centroids


def absolute_tol(samples, tol: float | None) -> float | None:
    """``tol`` times the samples' mean per-feature variance (scikit-learn's rule), or None."""
    if tol is None:
        return None
    return float(np.mean(np.var(np.asarray(samples, dtype=np.float64), axis=0)) * tol)


def center_shifts(initial_centroids, centroids) -> np.ndarray:
    """Σ |c_i - c_(i-1)|² for each iteration i, from arrays of shape (k, d) and (n, k, d)."""
    path = np.concatenate([np.asarray(initial_centroids)[None], np.asarray(centroids)])
    return (np.diff(path.astype(np.float64), axis=0) ** 2).sum(axis=(1, 2))


def stop_reason(n_clusters, tol, previous_labels, labels, previous_centroids, centroids):
    """Why the lesson stops after this iteration: ``"empty"``, ``"converged"`` or ``None``.

    ``"empty"``: a cluster got no sample (its centroid is nan). ``"converged"``, only when a
    tolerance is given: the labels did not change, or the centroids moved by at most ``tol``
    (summed squared shift), as scikit-learn decides.
    """
    if first_empty_cluster(labels, n_clusters) is not None:
        return "empty"
    if tol is None:
        return None
    if previous_labels is not None and np.array_equal(labels, previous_labels):
        return "converged"
    if center_shifts(previous_centroids, np.asarray(centroids)[None])[0] <= tol:
        return "converged"
    return None


def first_empty_cluster(labels, n_clusters: int) -> int | None:
    """The smallest cluster index no label points to, or ``None``.

    ``labels`` : array-like of shape (n_samples,), integers in ``[0, n_clusters)``.
    """
    counts = np.bincount(np.asarray(labels), minlength=n_clusters)
    empty = np.flatnonzero(counts == 0)
    return int(empty[0]) if empty.size else None


@dataclasses.dataclass(frozen=True)
class StageDifference:
    """How one stage of two runs compares."""

    stage: str
    max_abs_difference: float
    bit_identical: bool


def compare_results(a: LessonResult, b: LessonResult) -> list[StageDifference]:
    """Compare two runs stage by stage (they must have been run with the same params)."""
    if a.params != b.params:
        raise InvalidParameterError(
            f"cannot compare runs of different params: {a.params} and {b.params}."
        )
    rows = []
    for (stage, x), (_, y) in zip(a.stages(), b.stages(), strict=True):
        identical = x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
        delta = np.abs(x.astype(np.float64) - y.astype(np.float64))
        rows.append(StageDifference(stage, float(delta.max(initial=0.0)), identical))
    return rows
