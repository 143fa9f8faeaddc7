"""The scikit-learn-style ``KMeans`` interface, shared by both packages.

``BaseKMeans`` does everything that is not TensorFlow: parameters, input validation,
``n_init`` restarts and their seeds, picking the best run, warnings, and the fitted
attributes. A package subclasses it with a *core*, which builds and runs the TensorFlow
computation and trusts its input (scikit-learn's own split between ``KMeans`` and
``_kmeans_single_lloyd``):

- ``tf1_graph.KMeans``: one graph per data shape, the Lloyd loop a ``tf.while_loop``
  compiled by XLA, run by a ``Session``;
- ``tf2_eager.KMeans``: the same loop in a ``tf.function(jit_compile=True)``.

Semantics follow scikit-learn's ``KMeans(algorithm="lloyd")``: ``tol`` is relative to the
mean per-feature variance of ``X``; a run stops early when the labels stop changing (strict
convergence) or when the summed squared centre shift is at most that tolerance; empty
clusters are given the points farthest from their centres. ``init="random"`` is the lesson's
seeded shuffle; ``"k-means++"`` is TensorFlow's ``KmeansPlusPlusInitialization`` op.
"""

from __future__ import annotations

import inspect
import numbers
import time
import warnings

import numpy as np

from kmeans_tutorial.memory import return_freed_memory
from kmeans_tutorial.sharing import aligned_empty, shareable
from kmeans_tutorial.validation import check_int, check_points

INITS = ("k-means++", "random")


class ConvergenceWarning(UserWarning):
    """The fit found fewer distinct clusters than asked for (scikit-learn warns alike)."""


def check_random_state(seed) -> np.random.RandomState:
    """A ``RandomState`` from ``None``, an integer or a ``RandomState`` (as scikit-learn)."""
    if seed is None:
        return np.random.RandomState()
    if isinstance(seed, np.random.RandomState):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.RandomState(seed)
    raise ValueError(f"random_state={seed!r} should be None, an integer >= 0 or a RandomState.")


def check_data(X, name: str = "X") -> np.ndarray:
    """``X`` as a C-ordered float32 or float64 array (other numbers become float64)."""
    array = np.asarray(X)
    if array.dtype not in (np.float32, np.float64):
        if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
            check_points(name, array)  # raises the shared, value-naming error
        array = array.astype(np.float64)
    check_points(name, array)
    return np.ascontiguousarray(array)


def check_sample_weight(sample_weight, n_samples: int, dtype) -> np.ndarray:
    """One finite, non-negative weight per sample, not all zero (``None``: all ones)."""
    if sample_weight is None:
        ones = aligned_empty(n_samples, dtype)  # shareable with TensorFlow as it is
        ones.fill(1)
        return ones
    weights = np.asarray(sample_weight, dtype=dtype)
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one per sample, got {weights.shape}."
        )
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        raise ValueError(
            f"sample_weight must be finite and >= 0, got {weights[bad[0]]} at {bad[0]}."
        )
    if not weights.any():
        raise ValueError("sample_weight must not be all zero.")
    return np.ascontiguousarray(weights)


def column_mean(X: np.ndarray) -> np.ndarray:
    """The mean of each column, shape (n_features,), summed in ``X``'s dtype.

    ``einsum`` sums along the rows in one loop: on (1e6, 2) float32, 3.9 ms against 18 ms
    for ``X.mean(axis=0)``, and 8.5 ms against 21.6 ms on (1e6, 32). The mean is only the
    point distances are taken around (any point near the data would do), so float32 sums
    are accurate enough.
    """
    return np.einsum("ij->j", X) / X.dtype.type(len(X))


def tolerance(X: np.ndarray, X_mean: np.ndarray, tol: float) -> float:
    """scikit-learn's absolute tolerance: ``tol`` times the mean per-feature variance.

    Summed over row blocks, so that no temporary the size of ``X`` is made.
    """
    if tol == 0:
        return 0.0
    squares = sum(
        ((X[start : start + 65536] - X_mean).astype(np.float64) ** 2).sum(axis=0)
        for start in range(0, len(X), 65536)
    )
    return float(np.mean(squares / len(X)) * tol)


def is_same_clustering(labels1, labels2, n_clusters: int) -> bool:
    """Whether two labelings are the same partition up to a renaming of the clusters."""
    mapping = np.full(n_clusters, -1)
    for a, b in zip(labels1, labels2, strict=True):
        if mapping[a] == -1:
            mapping[a] = b
        elif mapping[a] != b:
            return False
    return True


class BaseKMeans:
    """K-means clustering with scikit-learn's interface; subclasses supply the TF core.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters, and of centroids.
    init : {"k-means++", "random"} or array of shape (n_clusters, n_features)
        ``"k-means++"``: TensorFlow's k-means++ op (greedy, ``2 + log(k)`` trials a centre).
        ``"random"``: the lesson's way, ``n_clusters`` samples picked by a seeded shuffle.
        An array: these initial centres, used as given.
    n_init : "auto" or int, default="auto"
        Runs from different initialisations; the one with the lowest inertia is kept.
        ``"auto"``: 10 for ``"random"``, 1 otherwise.
    max_iter : int, default=300
        Lloyd iterations at most, per run.
    tol : float, default=1e-4
        Stop when the summed squared centre shift is at most ``tol`` times the mean
        per-feature variance of ``X``; 0 stops only when the labels stop changing.
    verbose : int, default=0
        Print a line per iteration: inertia, centre shift and time (the loop then runs
        one compiled iteration at a time, from Python, instead of as one computation).
    random_state : None, int or RandomState
        Seeds of the initialisations.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
        Sum of (weighted) squared distances of the samples to their centre.
    n_iter_ : int
        Iterations of the kept run.
    n_features_in_ : int
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state

    # -- scikit-learn's parameter protocol (so that clone and Pipeline accept it) --

    @classmethod
    def _get_param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(name for name in signature.parameters if name != "self")

    def get_params(self, deep=True) -> dict:
        """The constructor's parameters, by name."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor parameters by name; returns self."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}.")
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags: a clusterer and a transformer that keeps float32.

        Only scikit-learn (>= 1.6) calls this, so importing it here adds no dependency.
        """
        from sklearn.utils import Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type="clusterer",
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]),
        )

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not (
                isinstance(value, str | int | float | type(None))
                and value == defaults[name].default
            )
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # -- what a package supplies --

    def _make_core(self, X: np.ndarray, sample_weight: np.ndarray, offset: np.ndarray):
        """A core bound to ``X``, its weights, and the point its distances are taken around.

        ``X`` is aligned for TensorFlow to use in place (``kmeans_tutorial.sharing``). The
        core computes with ``X - offset`` (row block by row block, no copy of ``X``); the
        centres it takes and returns are in those coordinates. See ``tf2_eager.kmeans``.
        """
        raise NotImplementedError

    # -- fitting --

    def _check_params(self, n_samples: int, n_features: int, dtype):
        check_int("n_clusters", self.n_clusters, 1)
        if n_samples < self.n_clusters:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}.")
        check_int("max_iter", self.max_iter, 1)
        if (
            isinstance(self.tol, bool)
            or not isinstance(self.tol, numbers.Real)
            or not (0 <= self.tol < float("inf"))
        ):
            raise ValueError(f"tol={self.tol!r} should be a finite number >= 0.")
        if isinstance(self.init, str):
            if self.init not in INITS:
                raise ValueError(f"init={self.init!r} should be 'k-means++', 'random' or an array.")
            init = self.init
        else:
            init = check_data(self.init, "init").astype(dtype)
            if init.shape != (self.n_clusters, n_features):
                raise ValueError(
                    f"init must have shape (n_clusters, n_features) = "
                    f"({self.n_clusters}, {n_features}), got {init.shape}."
                )
        if self.n_init == "auto":
            n_init = 10 if isinstance(init, str) and init == "random" else 1
        else:
            check_int("n_init", self.n_init, 1)
            n_init = self.n_init
        if not isinstance(init, str) and n_init != 1:
            warnings.warn(
                f"Explicit initial center position passed: performing only one init in "
                f"{type(self).__name__} instead of n_init={n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            n_init = 1
        return init, n_init

    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering; returns self.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float32 and float64 are kept; other numbers become float64.
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
        """
        X = check_data(X)
        n_samples, n_features = X.shape
        init, n_init = self._check_params(n_samples, n_features, X.dtype)
        weights = check_sample_weight(sample_weight, n_samples, X.dtype)
        random_state = check_random_state(self.random_state)
        # Distances are taken around the mean, as scikit-learn centres X, for accuracy.
        X_mean = column_mean(X)
        core = self._make_core(shareable(X), shareable(weights), X_mean)
        absolute_tol = tolerance(X, X_mean, self.tol)
        best = None
        for run in range(n_init):
            if isinstance(init, str):
                seed = int(random_state.randint(np.iinfo(np.int32).max))
                centers = core.init_centroids(init, self.n_clusters, seed)
            else:
                centers = init - X_mean
            if self.verbose:
                print(f"run {run + 1} of {n_init}:")
                labels, inertia, centers, n_iter = self._lloyd_logged(
                    core, centers, absolute_tol, len(X)
                )
            else:
                labels, inertia, centers, n_iter = core.lloyd(centers, self.max_iter, absolute_tol)
            if best is None or (
                inertia < best[1] and not is_same_clustering(labels, best[0], self.n_clusters)
            ):
                best = labels, inertia, centers, n_iter
        del core  # and with it the aligned copy of X, if one was made
        return_freed_memory()
        labels, inertia, centers, n_iter = best
        distinct = np.count_nonzero(np.bincount(labels, minlength=self.n_clusters))
        if distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.cluster_centers_ = centers + X_mean
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        self.n_features_in_ = n_features
        return self

    def _lloyd_logged(self, core, centers, tol, n_samples):
        """The Lloyd loop one compiled step at a time, with a log line per iteration."""
        labels = np.full(n_samples, -1, dtype=np.int32)
        for iteration in range(1, self.max_iter + 1):
            start = time.perf_counter()
            centers, labels, stop, shift, inertia = core.step(centers, labels, tol)
            print(
                f"  iteration {iteration}: inertia {inertia:.6g}, shift {shift:.3g}, "
                f"{time.perf_counter() - start:.3f} s"
            )
            if stop:
                break
        labels, inertia = core.labels_inertia(centers)
        print(f"  final inertia {inertia:.6g} after {iteration} iterations")
        return labels, inertia, centers, iteration

    # -- using a fitted model --

    def _check_fitted_data(self, X) -> np.ndarray:
        if not hasattr(self, "cluster_centers_"):
            raise AttributeError(f"this {type(self).__name__} is not fitted yet: call fit first.")
        X = check_data(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} was fitted with "
                f"n_features_in_={self.n_features_in_}."
            )
        return X

    def _core_for(self, X, sample_weight=None):
        """A core for new data, around the centres' mean; and the centres around it."""
        X = self._check_fitted_data(X)
        weights = check_sample_weight(sample_weight, len(X), X.dtype)
        centers = self.cluster_centers_.astype(X.dtype)
        offset = centers.mean(axis=0)
        return self._make_core(shareable(X), shareable(weights), offset), centers - offset

    def _labels_inertia(self, X, sample_weight=None):
        core, centers = self._core_for(X, sample_weight)
        return core.labels_inertia(centers)

    def predict(self, X, sample_weight=None):
        """Index of the nearest centre for each sample, shape (n_samples,)."""
        return self._labels_inertia(X, sample_weight)[0]

    def fit_predict(self, X, y=None, sample_weight=None):
        """``fit(X)``, then the labels of ``X``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Euclidean distance of each sample to each centre, shape (n_samples, n_clusters)."""
        core, centers = self._core_for(X)
        return core.distances(centers)

    def fit_transform(self, X, y=None, sample_weight=None):
        """``fit(X)``, then ``transform(X)``."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X, y=None, sample_weight=None):
        """Negative inertia of ``X`` against the fitted centres (higher is better)."""
        return -float(self._labels_inertia(X, sample_weight)[1])
