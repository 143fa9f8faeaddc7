"""The fit loops of ``KMeans``, as free functions over a core (scikit-learn's
``_kmeans_single_lloyd`` and its restarts): the best of ``n_init`` runs, and the two loops
the host drives one compiled step at a time (logged, for ``verbose``; spherical, for the
cosine metric). The whole compiled loop is the core's own ``lloyd``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kmeans_tutorial.engine.checkpoints import RunsCheckpoint
from kmeans_tutorial.engine.coordinates import DataCore
from kmeans_tutorial.engine.data import unit_centers
from kmeans_tutorial.engine.streamed import stopped

# One run's result: (labels, inertia, centers, n_iter).
Run = tuple[np.ndarray, float, np.ndarray, int]


def is_same_clustering(labels1: np.ndarray, labels2: np.ndarray, n_clusters: int) -> bool:
    """Whether two labelings are the same partition up to a renaming of the clusters: each
    cluster of ``labels1`` renamed to the label ``labels2`` gives its first member."""
    labels1, labels2 = np.asarray(labels1), np.asarray(labels2)
    if labels1.shape != labels2.shape:
        return False
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    clusters, first = np.unique(labels1, return_index=True)
    mapping[clusters] = labels2[first]
    return bool(np.array_equal(mapping[labels1], labels2))


def best_of_runs(
    n_init: int,
    n_clusters: int,
    start: Callable[[], np.ndarray],
    lloyd: Callable[[np.ndarray | None], Run],
    verbose: int = 0,
    checkpoint: RunsCheckpoint | None = None,
    relabel: Callable[[np.ndarray], tuple[np.ndarray, float]] | None = None,
    max_iter: int = 0,
) -> Run:
    """The best of ``n_init`` runs, in memory or streamed alike: each from ``start()``'s
    centres, run by ``lloyd(centers)``. A later run is kept if its inertia is lower and its
    clustering another (scikit-learn's rule: a rounding difference in the inertia of one
    partition changes nothing).

    A streamed fit's ``checkpoint`` (``checkpoints.RunsCheckpoint``) says where to resume:
    the runs done, the best of them (its labels made again by ``relabel(centers)``), and
    the run in progress, which ``lloyd`` resumes from its saved pass (``None`` centres: not
    drawn again). It is saved after every run; ``max_iter``: a run's, which a finished fit
    saved with a smaller one continues to."""
    first, best = (0, None) if checkpoint is None else checkpoint.resume(relabel, max_iter)
    if verbose and checkpoint is not None and checkpoint.saved is not None:
        print(f"Resumed from {checkpoint.path}")
    for run_number in range(first, n_init):
        if checkpoint is not None:
            checkpoint.run, checkpoint.best = run_number, best
        if checkpoint is not None and checkpoint.pending is not None:
            centers = None
        else:
            centers = start()
            if verbose:
                print("Initialization complete")
        run = lloyd(centers)
        labels, inertia = run[0], run[1]
        if best is None or (
            inertia < best[1] and not is_same_clustering(labels, best[0], n_clusters)
        ):
            best = run
        if checkpoint is not None:
            checkpoint.save_run(run_number + 1, best)
    assert best is not None  # n_init >= 1
    return best


def log_convergence(iteration: int, strict: bool, shift: float, tol: float) -> None:
    """Why a verbose fit stopped, in scikit-learn's words (iterations counted from 0)."""
    if strict:
        print(f"Converged at iteration {iteration - 1}: strict convergence.")
    else:
        print(
            f"Converged at iteration {iteration - 1}: center shift {shift} within tolerance {tol}."
        )


def lloyd_logged(core: DataCore, centers: np.ndarray, max_iter: int, tol: float) -> Run:
    """The Lloyd loop one compiled step at a time, logged in scikit-learn's words."""
    centers = core.centred(centers)
    labels = np.full(len(core.weights), -1, dtype=np.int32)
    iteration = 0
    for iteration in range(1, max_iter + 1):
        previous = labels
        centers, labels, stop, shift, inertia = core.core.step(centers, labels, tol)
        print(f"Iteration {iteration - 1}, inertia {inertia}.")
        if stop:
            log_convergence(iteration, np.array_equal(labels, previous), shift, tol)
            break
    else:
        print(f"Stopped after max_iter={max_iter} iterations without converging.")
    labels, inertia = core.core.labels_inertia(centers)
    return labels, inertia, core.uncentred(centers), iteration


def spherical_lloyd(
    core: DataCore, centers: np.ndarray, max_iter: int, tol: float, verbose: int = 0
) -> Run:
    """Lloyd for the cosine metric on unit rows: each update's centres scaled to length 1
    (on the host, so both packages scale alike); stops when the labels stop changing or
    the scaled centres move by at most ``tol``. The inertia is the sum of ``1 - cos``, half
    the squared distance between unit vectors."""
    offset = core.offset
    centers = unit_centers(core.centred(centers), offset)
    labels = np.full(len(core.weights), -1, dtype=np.int32)
    iteration = 0
    for iteration in range(1, max_iter + 1):
        new_centers, new_labels, _, _, inertia = core.core.step(centers, labels, tol)
        new_centers = unit_centers(new_centers, offset)
        shift = float(np.sum(np.square(new_centers - centers, dtype=np.float64)))
        unchanged = np.array_equal(new_labels, labels)
        centers, labels = new_centers, new_labels
        if verbose:
            print(f"Iteration {iteration - 1}, inertia {inertia / 2}.")
        if stopped(unchanged, shift, tol):
            if verbose:
                log_convergence(iteration, unchanged, shift, tol)
            break
    labels, inertia = core.core.labels_inertia(centers)
    return labels, inertia / 2, core.uncentred(centers), iteration
