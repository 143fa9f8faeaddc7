"""Initial centres, chosen in one place for every fit: in memory, streamed (on an init sample),
mini-batch, ``kmeans_plusplus`` and scikit-learn's ``_init_centroids``.

``init`` is a name, a callable or an array (``BaseKMeans``'s parameter). A name draws rows
of the data through the primitives every core has (``driver.KMeansCore``): ``"random"`` the
lesson's seeded shuffle (``shuffled_rows``), or, weighted, rows drawn in proportion to
their weights (``seeding.weighted_random_rows``); ``"k-means++"`` greedy k-means++
(``plus_plus_rows``); ``"kmc2"`` k-MC2's Markov chains (``seeding.kmc2_rows`` over the
core's ``chain``). Centres are in the data's own coordinates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from kmeans_tutorial.common_checks import InvalidParameterError
from kmeans_tutorial.engine import seeding
from kmeans_tutorial.engine.checks import check_data
from kmeans_tutorial.engine.data import SparseRows
from kmeans_tutorial.engine.driver import Seeding

INITS = ("k-means++", "random", "kmc2")


def check_center_shape(centers: np.ndarray, n_clusters: int, n_features: int) -> None:
    """Initial centres must be (n_clusters, n_features); scikit-learn's messages."""
    if centers.ndim != 2 or centers.shape[0] != n_clusters:
        raise InvalidParameterError(
            f"The shape of the initial centers {centers.shape} does not match the number "
            f"of clusters {n_clusters}."
        )
    if centers.shape[1] != n_features:
        raise InvalidParameterError(
            f"The shape of the initial centers {centers.shape} does not match the number "
            f"of features of the data {n_features}."
        )


def checked_init(
    init: object,
    n_clusters: int,
    n_features: int,
    dtype: npt.DTypeLike,
    names: tuple[str, ...] = INITS,
) -> str | Callable[..., Any] | np.ndarray:
    """``init`` checked: one of ``names`` (the estimator's), a callable, or centres of
    ``dtype`` and shape (n_clusters, n_features)."""
    if isinstance(init, str):
        if init not in names:
            named = ", ".join(repr(name) for name in names)
            raise InvalidParameterError(
                f"init={init!r} should be one of {named}, a callable or an array."
            )
        return str(init)
    if callable(init):
        return init
    centers = check_data(init, "init")
    if isinstance(centers, SparseRows):
        centers = centers.rows(np.arange(len(centers)))
    centers = centers.astype(dtype)
    check_center_shape(centers, n_clusters, n_features)
    return centers


def called_init(
    init: Callable[..., Any],
    X: np.ndarray | SparseRows,
    n_clusters: int,
    random_state: np.random.RandomState,
) -> np.ndarray:
    """The centres a callable ``init`` makes of ``X`` (a CSR matrix if ``X`` is sparse),
    checked: numbers of ``X``'s dtype, of shape (n_clusters, n_features)."""
    given = X
    if isinstance(X, SparseRows):
        import scipy.sparse

        given = scipy.sparse.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape)
    centers = check_data(init(given, n_clusters, random_state=random_state), "init")
    if isinstance(centers, SparseRows):
        centers = centers.rows(np.arange(len(centers)))
    centers = centers.astype(X.dtype)
    check_center_shape(centers, n_clusters, X.shape[1])
    return centers


def seed_of(random_state: np.random.RandomState) -> int:
    """A seed for TensorFlow's and NumPy's draws, from the fit's generator."""
    return int(random_state.randint(np.iinfo(np.int32).max))


def drawn_rows(init: str, core: Seeding, n_clusters: int, seed: int) -> np.ndarray:
    """The rows of the core's data that the named ``init`` chooses as centres, seeded."""
    if init == "random":
        weighted = seeding.weighted_random_rows(core.weights, n_clusters, seed)
        return weighted if weighted is not None else core.shuffled_rows(n_clusters, seed)
    if init == "kmc2":
        return seeding.kmc2_rows(core.rows, core.weights, n_clusters, seed, core.chain)
    return core.plus_plus_rows(n_clusters, seed)


def initial_centers(
    init: object,
    core: Seeding,
    n_clusters: int,
    random_state: np.random.RandomState,
    X: np.ndarray | SparseRows,
) -> np.ndarray:
    """A run's initial centres (n_clusters, n_features): drawn from the core's data by a
    named ``init`` with a seed of ``random_state``, made by a callable ``init`` from ``X``
    (the core's data as the user gave it), or the given array."""
    if isinstance(init, str):
        return core.rows(drawn_rows(init, core, n_clusters, seed_of(random_state)))
    if callable(init):
        return called_init(init, X, n_clusters, random_state)
    return np.asarray(init)  # checked (``checked_init``)
