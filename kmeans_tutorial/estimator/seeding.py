"""Greedy k-means++ seeding, driven from NumPy, with the distances computed by a core.

Used where TensorFlow's ``KmeansPlusPlusInitialization`` op cannot go: sparse ``X`` (the
op takes a dense matrix) and weighted samples in it (the op ignores weights). The
algorithm is scikit-learn's ``_kmeans_plusplus`` (Arthur and Vassilvitskii's k-means++
with greedy trials): the first centre is drawn in proportion to the weights; each next
one from ``2 + ln k`` candidates drawn in proportion to weight x squared distance to the
nearest centre so far, keeping the candidate that lowers the weighted potential most.

The random draws are NumPy's, from the run's seed; the distances are the core's TF ops,
which both packages run alike, so the seeding is bit-identical between them.
"""

from collections.abc import Callable

import numpy as np


def greedy_kmeans_plus_plus(
    squared_distances: Callable[[np.ndarray], np.ndarray],
    rows: Callable[[np.ndarray], np.ndarray],
    sample_weight: np.ndarray,
    n_clusters: int,
    seed: int,
) -> np.ndarray:
    """The indices of ``n_clusters`` rows of X chosen by greedy k-means++.

    Parameters
    ----------
    squared_distances : callable
        ``points`` of shape (m, n_features) to squared distances (n_samples, m).
    rows : callable
        Row indices to those rows of X, dense, shape (m, n_features).
    sample_weight : ndarray of shape (n_samples,)
    n_clusters : int
    seed : int
        Seeds the draws.

    Returns
    -------
    ndarray of shape (n_clusters,), int64
    """
    random_state = np.random.RandomState(seed)
    weights = sample_weight.astype(np.float64)
    n_trials = 2 + int(np.log(n_clusters))
    chosen = np.empty(n_clusters, dtype=np.int64)
    chosen[0] = random_state.choice(len(weights), p=weights / weights.sum())
    closest = squared_distances(rows(chosen[:1]))[:, 0].astype(np.float64)
    potential = closest @ weights
    for center in range(1, n_clusters):
        targets = random_state.uniform(size=n_trials) * potential
        cumulative = np.cumsum(weights * closest)
        candidates = np.minimum(np.searchsorted(cumulative, targets), len(weights) - 1)
        trial = np.minimum(closest[:, np.newaxis], squared_distances(rows(candidates)))
        potentials = weights @ trial
        best = int(np.argmin(potentials))
        potential, closest = potentials[best], trial[:, best].astype(np.float64)
        chosen[center] = candidates[best]
    return chosen
