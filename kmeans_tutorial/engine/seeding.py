"""Greedy k-means++: its random draws, and the seeding driven from NumPy for sparse data.

The algorithm is scikit-learn's ``_kmeans_plusplus`` (Arthur and Vassilvitskii's k-means++
with greedy trials): the first centre is drawn in proportion to the weights; each next
one from ``2 + ln k`` candidates drawn in proportion to weight x squared distance to the
nearest centre so far, keeping the candidate that lowers the weighted potential most.

``draws`` makes the random numbers, from the run's seed, in NumPy: the same for both
packages and for dense and sparse data. Dense data is seeded by one program
(``seeding_ops``, compiled by XLA unless the data is small); sparse data, which has no
XLA form, by ``greedy_kmeans_plus_plus`` here, a loop in NumPy with the distances
computed by a core's TF ops, which both packages run alike. Either way the seeding is
bit-identical between the packages.
"""

from collections.abc import Callable

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError


def n_trials(n_clusters: int) -> int:
    """Candidates per centre: ``2 + ln k``, as scikit-learn."""
    return 2 + int(np.log(n_clusters))


def draws(sample_weight: np.ndarray, n_clusters: int, seed: int) -> tuple[int, np.ndarray]:
    """The first centre's row, and the uniform numbers in [0, 1) that draw the candidates.

    Returns
    -------
    first : int
        Drawn in proportion to ``sample_weight``.
    uniforms : ndarray of shape (n_clusters - 1, n_trials), float64
        Row ``c - 1`` draws centre ``c``'s candidates: each number times the potential is
        a point on the cumulative weighted distances.
    """
    random_state = np.random.RandomState(seed)
    weights = sample_weight.astype(np.float64)
    first = int(random_state.choice(len(weights), p=weights / weights.sum()))
    return first, random_state.uniform(size=(n_clusters - 1, n_trials(n_clusters)))


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
        Seeds the draws (``draws``).

    Returns
    -------
    ndarray of shape (n_clusters,), int64
    """
    first, uniforms = draws(sample_weight, n_clusters, seed)
    weights = sample_weight.astype(np.float64)
    chosen = np.empty(n_clusters, dtype=np.int64)
    chosen[0] = first
    closest = squared_distances(rows(chosen[:1]))[:, 0].astype(np.float64)
    potential = closest @ weights
    for center in range(1, n_clusters):
        targets = uniforms[center - 1] * potential
        cumulative = np.cumsum(weights * closest)
        candidates = np.minimum(np.searchsorted(cumulative, targets), len(weights) - 1)
        trial = np.minimum(closest[:, np.newaxis], squared_distances(rows(candidates)))
        potentials = weights @ trial
        best = int(np.argmin(potentials))
        potential, closest = potentials[best], trial[:, best].astype(np.float64)
        chosen[center] = candidates[best]
    return chosen


def weighted_random_rows(
    sample_weight: np.ndarray, n_clusters: int, seed: int
) -> np.ndarray | None:
    """``init="random"``'s rows when the weights differ: ``n_clusters`` distinct rows drawn
    in proportion to their weights, as scikit-learn draws them (``RandomState.choice``),
    so a row of weight 0 is never a centre. ``None`` when every weight is the same: then
    the lesson's seeded shuffle draws them (each package's core)."""
    if (sample_weight == sample_weight[0]).all():
        return None
    nonzero = np.count_nonzero(sample_weight)
    if nonzero < n_clusters:
        raise InvalidParameterError(
            f"init='random' draws n_clusters={n_clusters} distinct rows of nonzero weight, "
            f"but sample_weight has only {nonzero} nonzero weight(s)."
        )
    weights = sample_weight.astype(np.float64)
    random_state = np.random.RandomState(seed)
    return random_state.choice(len(weights), n_clusters, replace=False, p=weights / weights.sum())


KMC2_CHAIN_LENGTH = 200  # candidates a centre: TensorFlow's clustering_ops default


def kmc2_rows(
    rows: Callable[[np.ndarray], np.ndarray],
    sample_weight: np.ndarray,
    n_clusters: int,
    seed: int,
    chain: Callable[[np.ndarray, int], int],
) -> np.ndarray:
    """The indices of ``n_clusters`` rows of X chosen by k-MC2 (Bachem et al., 2016).

    k-MC2 approximates k-means++ without a pass over the data a centre: the first centre is
    drawn in proportion to the weights; each next one by a Markov chain over
    ``KMC2_CHAIN_LENGTH`` candidates, drawn the same way, whose squared distances to the
    nearest centre so far decide each move. The chain is TensorFlow's own op
    (``KMC2ChainInitialization``), which ``chain(distances, seed)`` runs in the package's
    way; the candidates and seeds come from NumPy, so both packages choose the same rows.
    """
    random_state = np.random.RandomState(seed)
    weights = sample_weight.astype(np.float64)
    cdf = np.cumsum(weights / weights.sum())
    cdf /= cdf[-1]

    def draw(size: int) -> np.ndarray:
        return cdf.searchsorted(random_state.random_sample(size), side="right")

    chosen = np.empty(n_clusters, dtype=np.int64)
    chosen[0] = draw(1)[0]
    centers = rows(chosen[:1]).astype(np.float64)
    for center in range(1, n_clusters):
        candidates = draw(min(KMC2_CHAIN_LENGTH, len(weights)))
        x = rows(candidates).astype(np.float64)
        squared = (
            np.square(x).sum(axis=1)[:, np.newaxis]
            - 2 * x @ centers.T
            + np.square(centers).sum(axis=1)[np.newaxis, :]
        )
        distances = np.maximum(squared.min(axis=1), 0).astype(np.float32)
        pick = chain(distances, int(random_state.randint(np.iinfo(np.int32).max)))
        chosen[center] = candidates[pick]
        centers = np.vstack([centers, x[pick : pick + 1]])
    return chosen
