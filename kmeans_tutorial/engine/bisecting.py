"""scikit-learn's ``BisectingKMeans``, shared by both packages.

Start from one cluster of all the rows; ``n_clusters - 1`` times, choose a leaf of the tree
of clusters (``bisecting_strategy``: the one of largest inertia, or of most rows) and split
it in two by a 2-means run on its rows alone (the best of ``n_init``, each from ``init``'s
two centres). The leaves, read left to right, are the clusters: ``labels_`` and
``cluster_centers_`` number them in that order, and ``predict`` goes down the tree, at each
split to the nearer of its two centres, as scikit-learn's does.

Each split is a fit in memory of the package's core (``driver.KMeansCore``): its rows are
gathered once (a sparse leaf stays sparse), its programs those of any ``KMeans`` fit of
that size (small leaves share one uncompiled program of any shape; ``buckets``). The tree's
bookkeeping (which leaf, the per-cluster inertia) is NumPy's, the same in both packages.
"""

from __future__ import annotations

import dataclasses
from typing import cast

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError, check_int
from kmeans_tutorial.engine.base import BaseKMeans, keeps_state_on_failure
from kmeans_tutorial.engine.checks import (
    check_data,
    check_feature_names,
    check_random_state,
    check_sample_weight,
)
from kmeans_tutorial.engine.data import SparseRows, offset_of, shareable_data
from kmeans_tutorial.engine.init import checked_init, initial_centers
from kmeans_tutorial.engine.kmeans import check_algorithm
from kmeans_tutorial.engine.sharing import shareable
from kmeans_tutorial.engine.sources import is_dataset, is_stream

STRATEGIES = ("biggest_inertia", "largest_cluster")
INITS = ("k-means++", "random")
# A split is kept over an earlier one only if its inertia is lower by more than this
# fraction (scikit-learn's allowance for rounding, so that equal splits keep the first).
BETTER = 1e-6


@dataclasses.dataclass(eq=False)
class Node:
    """A cluster of the tree: its centre, its score (what ``bisecting_strategy`` compares),
    its rows while it is a leaf of the fit, its two halves once split, and, a leaf of the
    fitted tree, its label."""

    center: np.ndarray
    score: float
    rows: np.ndarray | None = None
    left: Node | None = None
    right: Node | None = None
    label: int = -1

    def leaves(self):
        """The leaves under this node, left to right."""
        if self.left is None or self.right is None:
            yield self
            return
        yield from self.left.leaves()
        yield from self.right.leaves()

    def to_split(self) -> Node:
        """The leaf of highest score, the first of equals."""
        best = None
        for leaf in self.leaves():
            if best is None or leaf.score > best.score:
                best = leaf
        assert best is not None
        return best


def own_squared_distances(X, centers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each row's squared distance to its own centre, in float64 (residuals, for dense)."""
    if isinstance(X, SparseRows):
        return X.squared_distances_to(centers, labels)
    residual = X.astype(np.float64) - centers.astype(np.float64)[labels]
    return np.einsum("ij,ij->i", residual, residual)


class BisectingKMeans(BaseKMeans):
    """Bisecting k-means with scikit-learn's interface; a package's subclass names its driver.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters: leaves of the tree.
    init : {"k-means++", "random"} or callable, default="random"
        Each split's two initial centres, from the rows of the cluster split: ``"random"``
        two of them (the lesson's seeded shuffle; weighted, drawn by weight), ``"k-means++"``
        greedy k-means++, a callable called as ``init(X, 2, random_state=random_state)``
        with the cluster's rows.
    n_init : int, default=1
        2-means runs a split; the one of lowest inertia is kept.
    random_state : None, int or RandomState
    max_iter : int, default=300
        Lloyd iterations at most, per 2-means run.
    verbose : int, default=0
        Print each split's two centres.
    tol : float, default=1e-4
        A run stops when the summed squared centre shift is at most ``tol``: an absolute
        shift here, as scikit-learn's ``BisectingKMeans`` passes it (its ``KMeans`` makes it
        relative to the data's variance); 0 stops only when the labels stop changing.
    copy_x : bool, default=True
        scikit-learn's, accepted for its users: ``X`` is never modified either way.
    algorithm : {"lloyd", "elkan"}, default="lloyd"
        Each 2-means run's (``KMeans``'s ``algorithm``).
    bisecting_strategy : {"biggest_inertia", "largest_cluster"}, default="biggest_inertia"
        The leaf split next: the one of largest inertia (weighted squared distances to its
        centre), or of most rows (counted, not weighted, as scikit-learn counts them).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        The leaves' centres, left to right.
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
        Sum of (weighted) squared distances of the samples to their cluster's centre.
    n_iter_ : int
        The Lloyd iterations of every split's kept run, summed (scikit-learn's has none).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,), object

    Sparse data stays sparse. A memmap or other array-like is read into memory once; a
    ``tf.data.Dataset`` is refused: each split fits one cluster's rows, which a dataset
    read in order would give only by a whole pass an iteration of every split.
    """

    metric = "euclidean"  # what BaseKMeans reads; bisecting is Euclidean only
    checkpoint_dir = None
    log_dir = None
    _inits = INITS

    def __init__(
        self,
        n_clusters=8,
        *,
        init="random",
        n_init=1,
        random_state=None,
        max_iter=300,
        verbose=0,
        tol=1e-4,
        copy_x=True,
        algorithm="lloyd",
        bisecting_strategy="biggest_inertia",
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.random_state = random_state
        self.max_iter = max_iter
        self.verbose = verbose
        self.tol = tol
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.bisecting_strategy = bisecting_strategy

    def _check_bisecting(self, n_samples: int, n_features: int, dtype) -> str:
        """The checked parameters; the algorithm each split runs."""
        self._check_sizes(n_samples)
        check_int("n_init", self.n_init, 1)
        if not (isinstance(self.init, str) or callable(self.init)):
            raise InvalidParameterError(
                f"init should be 'k-means++', 'random' or a callable, not "
                f"{type(self.init).__name__}: a split always starts from two centres of "
                f"the cluster it splits, so given centres cannot serve."
            )
        checked_init(self.init, 2, n_features, dtype, self._inits)
        algorithm = check_algorithm(self.algorithm, self.copy_x)
        if not (isinstance(self.bisecting_strategy, str) and self.bisecting_strategy in STRATEGIES):
            raise InvalidParameterError(
                f"bisecting_strategy={self.bisecting_strategy!r} should be 'biggest_inertia' "
                f"or 'largest_cluster'."
            )
        self._n_init = cast(int, self.n_init)
        return "lloyd" if self.n_clusters == 1 else algorithm

    @keeps_state_on_failure
    def fit(self, X, y=None, sample_weight=None):
        """Compute the bisecting clustering; returns self.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float32 and float64 are kept; other numbers become float64. Sparse data is
            used as CSR.
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
        """
        if is_dataset(X):
            raise InvalidParameterError(
                f"BisectingKMeans takes rows it can pick: an array, a sparse matrix, a "
                f"memmap or another array-like, not a dataset ({type(X).__name__}), which "
                f"is read in order: each split is a fit on one cluster's rows, a pass over "
                f"the whole dataset an iteration. Fit KMeans on it, or give its rows."
            )
        if is_stream(X):  # a memmap or array-like: read whole, once (the root's split)
            X = np.asarray(X)
        check_feature_names(self, X, reset=True)
        X = check_data(X, estimator_name=type(self).__name__)
        n_samples, n_features = X.shape
        algorithm = self._check_bisecting(n_samples, n_features, X.dtype)
        weights = check_sample_weight(sample_weight, n_samples, X.dtype)
        random_state = check_random_state(self.random_state)
        root = Node(self._mean(X), 0.0, np.arange(n_samples))
        n_iter = 0
        for _ in range(int(self.n_clusters) - 1):
            n_iter += self._bisect(X, weights, root.to_split(), algorithm, random_state)
        labels = np.empty(n_samples, np.int32)
        centers = np.empty((self.n_clusters, n_features), X.dtype)
        for label, leaf in enumerate(root.leaves()):
            labels[leaf.rows] = label
            centers[label] = leaf.center
            leaf.label, leaf.rows = label, None  # the fitted tree keeps no rows
        self._tree = root
        inertia = np.dot(weights.astype(np.float64), own_squared_distances(X, centers, labels))
        self.cluster_centers_, self.labels_ = centers, labels
        self.inertia_, self.n_iter_, self.n_features_in_ = float(inertia), n_iter, n_features
        return self

    @staticmethod
    def _mean(X) -> np.ndarray:
        """The unweighted mean of the rows: the root's centre, as scikit-learn's."""
        if isinstance(X, SparseRows):
            sums = np.bincount(X.indices, X.data.astype(np.float64), minlength=X.shape[1])
            return (sums / len(X)).astype(X.dtype)
        return X.mean(axis=0, dtype=np.float64).astype(X.dtype)

    def _bisect(self, X, weights, leaf: Node, algorithm: str, random_state) -> int:
        """Split ``leaf`` in two by the best of ``n_init`` 2-means runs on its rows; the
        kept run's iterations."""
        assert leaf.rows is not None
        rows = leaf.rows
        part = X.subset(rows) if isinstance(X, SparseRows) else X[rows]
        part_weights = shareable(weights[rows])
        if len(rows) < 2:  # a single row (or none) cannot be split: an empty half beside it
            labels, centers, n_iter = np.zeros(len(rows), np.int32), np.stack([leaf.center] * 2), 0
        else:
            core = self._core(shareable_data(part), part_weights, offset_of(part))
            best = None
            for _ in range(self._n_init):
                start = initial_centers(self.init, core, 2, random_state, part)
                run = core.lloyd(start, self.max_iter, float(self.tol), algorithm)
                if best is None or run[1] < best[1] * (1 - BETTER):
                    best = run
            assert best is not None
            labels, _, centers, n_iter = best
        if self.verbose:
            print(f"New centroids from bisection: {centers}")
        if self.bisecting_strategy == "biggest_inertia":
            distances = own_squared_distances(part, centers, labels)
            scores = np.bincount(labels, part_weights * distances, minlength=2)
        else:
            scores = np.bincount(labels, minlength=2).astype(np.float64)
        leaf.left = Node(centers[0], float(scores[0]), rows[labels == 0])
        leaf.right = Node(centers[1], float(scores[1]), rows[labels == 1])
        leaf.rows = None
        return int(n_iter)

    def predict(self, X, sample_weight=None):
        """The leaf each sample reaches going down the tree, at each split to the nearer of
        its two centres (the first on ties): shape (n_samples,), int32. ``sample_weight``
        is accepted as ``KMeans.predict`` takes it, and changes nothing.

        This is not always the nearest of ``cluster_centers_`` (``transform`` and ``score``
        use those, as scikit-learn's do)."""
        X = self._check_fitted_data(X)
        labels = np.empty(len(X), np.int32)
        self._descend(X, np.arange(len(X)), self._tree, labels)
        return labels

    def _descend(self, X, rows: np.ndarray, node: Node, labels: np.ndarray) -> None:
        """Label ``rows`` of ``X``, which reached ``node``, with the leaves they reach."""
        if node.left is None or node.right is None:
            labels[rows] = node.label
            return
        if len(rows) == 0:
            return
        part = X.subset(rows) if isinstance(X, SparseRows) else X[rows]
        centers = np.stack([node.left.center, node.right.center]).astype(X.dtype)
        ones = check_sample_weight(None, len(rows), X.dtype)
        sides, _ = self._core_near(part, ones, centers).labels_inertia(centers)
        sides = sides[: len(rows)]
        self._descend(X, rows[sides == 0], node.left, labels)
        self._descend(X, rows[sides == 1], node.right, labels)

    def export_saved_model(self, path) -> str:
        """Refused: a SavedModel of this package serves the nearest of
        ``cluster_centers_``, where ``predict`` goes down the tree."""
        raise InvalidParameterError(
            "BisectingKMeans cannot be exported as a SavedModel: its predict goes down the "
            "tree of splits, and the exported signatures serve the nearest of "
            "cluster_centers_, which would label some points otherwise."
        )
