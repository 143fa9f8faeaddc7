"""What scikit-learn's ``KMeans`` and ``MiniBatchKMeans`` share (its ``_BaseKMeans``), for
both packages: the parameter protocol, the checks every fit makes, the fitted model's uses
(``predict``, ``transform``, ``score``, export), checkpoints and summaries of streamed fits,
and a fit spread over processes.

The estimators are siblings on it: ``kmeans.KMeans``, ``minibatch.MiniBatchKMeans`` and
``bisecting.BisectingKMeans``.
For TensorFlow's work every estimator asks its class's ``driver`` (``driver.Driver``): the
package's cores, checkpoint and summary writers, and the plan of a distributed fit.
"""

from __future__ import annotations

import copy
import functools
import html
import importlib.util
import inspect
import numbers
import os
import sys
import warnings
from typing import ClassVar, cast

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError, check_int
from kmeans_tutorial.engine import checkpoints, sources, streamed
from kmeans_tutorial.engine.batch_core import batch_rows, padded
from kmeans_tutorial.engine.checks import (
    check_data,
    check_feature_names,
    check_is_fitted,
    check_random_state,
    check_sample_weight,
)
from kmeans_tutorial.engine.coordinates import DataCore
from kmeans_tutorial.engine.data import SparseRows, offset_of, shareable_data, unit_rows
from kmeans_tutorial.engine.driver import Driver, Model
from kmeans_tutorial.engine.errors import ConvergenceWarning, sklearn_class
from kmeans_tutorial.engine.init import INITS, checked_init, initial_centers, seed_of
from kmeans_tutorial.engine.sharing import shareable
from kmeans_tutorial.engine.sources import is_stream

METRICS = ("euclidean", "cosine")
# What ``transform`` returns (``set_output``): scikit-learn's choices.
OUTPUTS = ("default", "pandas", "polars")


def keeps_state_on_failure(method):
    """``method`` (``fit``, ``partial_fit``) leaves the estimator as it was when it raises:
    a fit that fails on the 37th batch of a stream, or is interrupted, changes no fitted
    attribute. A fit replaces its arrays, never writes into them, so the old ones are put
    back as they are; a random generator it advances in place is put back as a copy."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        before = {
            name: copy.deepcopy(value) if isinstance(value, np.random.RandomState) else value
            for name, value in vars(self).items()
        }
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    return wrapper


class BaseKMeans:
    """What ``KMeans`` and ``MiniBatchKMeans`` share; a package's class names its ``driver``.

    Subclasses set their parameters in ``__init__`` and nothing else (scikit-learn's rule);
    these are read here by name: ``n_clusters``, ``init``, ``n_init``, ``max_iter``, ``tol``,
    ``verbose``, ``random_state``, ``metric``, ``checkpoint_dir``, ``log_dir``.
    """

    # The package's TensorFlow runtime (``tf1_graph.engine.kmeans``, ``tf2_eager.engine.kmeans``).
    driver: ClassVar[Driver]
    # The names ``init`` takes (``init.checked_init``).
    _inits: ClassVar[tuple[str, ...]] = INITS
    n_clusters: int
    init: object
    n_init: object
    max_iter: int
    tol: float
    verbose: int
    random_state: object
    metric: str
    checkpoint_dir: object
    log_dir: object
    # Set by the CLI: told each pass's progress (pass, rows done, seconds, inertia).
    _progress: streamed.Progress | None = None

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
                raise InvalidParameterError(
                    f"invalid parameter {name!r} for {type(self).__name__}; valid: {valid}."
                )
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags: a clusterer, sparse input, keeps float32.

        Only scikit-learn (>= 1.6) calls this, so importing it here adds no dependency.
        """
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type="clusterer",
            input_tags=InputTags(sparse=True),
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]),
        )

    def set_output(self, *, transform=None):
        """scikit-learn's output API: ``transform="pandas"`` (or ``"polars"``) makes
        ``transform`` and ``fit_transform`` return a dataframe whose columns are
        ``get_feature_names_out()`` (a pandas input's index kept), ``"default"`` NumPy
        arrays, ``None`` leaves the choice as it is; returns self. Without a choice of its
        own, the estimator follows ``sklearn.set_config(transform_output=...)`` when
        scikit-learn is in use, as scikit-learn's estimators do."""
        if transform is None:
            return self
        if transform not in OUTPUTS:
            raise InvalidParameterError(
                f"transform={transform!r} should be 'default', 'pandas', 'polars' or None."
            )
        if transform != "default" and importlib.util.find_spec(transform) is None:
            raise InvalidParameterError(
                f"transform={transform!r} needs {transform}, which is not installed."
            )
        # scikit-learn's attribute name: its ``clone`` copies it to the clones.
        self._sklearn_output_config = {"transform": transform}
        return self

    def _output(self, values: np.ndarray, X) -> object:
        """``transform``'s ``values`` as ``set_output`` chose (``X``: the rows given)."""
        chosen = getattr(self, "_sklearn_output_config", {}).get("transform")
        sklearn = sys.modules.get("sklearn")
        if chosen is None and sklearn is not None:  # scikit-learn's global choice
            chosen = sklearn.get_config().get("transform_output", "default")
        if chosen in (None, "default"):
            return values
        columns = [str(name) for name in self.get_feature_names_out()]
        if chosen == "polars":
            import polars

            return polars.DataFrame(values, schema=columns, orient="row")
        import pandas

        index = X.index if isinstance(X, pandas.DataFrame) else None
        return pandas.DataFrame(values, columns=columns, index=index)

    def _repr_html_(self) -> str:
        """The estimator as a notebook shows it: its class and the parameters that differ
        from their defaults (its ``repr``), marked fitted once fitted, in a box, as
        scikit-learn's estimators show themselves, without scikit-learn."""
        state = "fitted" if hasattr(self, "cluster_centers_") else "not fitted"
        return (
            '<div class="kmeans-tutorial-estimator" style="display:inline-block;'
            'border:1px solid #999;border-radius:4px;padding:4px 8px">'
            f'<pre style="margin:0">{html.escape(repr(self))}</pre>'
            f'<small style="color:#666">{type(self).__module__.split(".")[0]}, {state}</small>'
            "</div>"
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

    # -- checks and parts every fit uses --

    @property
    def _cosine(self) -> bool:
        if not (isinstance(self.metric, str) and self.metric in METRICS):
            raise InvalidParameterError(
                f"metric={self.metric!r} should be 'euclidean' or 'cosine'."
            )
        return self.metric == "cosine"

    def _no_stream_for_cosine(self):
        if self._cosine:
            raise InvalidParameterError(
                "metric='cosine' takes an array or a sparse matrix, not a stream (a dataset, "
                "memmap or array-like): its rows are scaled to length 1 in memory."
            )

    def _check_params(self, n_samples: int, n_features: int, dtype):
        """The checked ``init`` (a name, a callable, or centres of ``dtype``) and the
        number of runs; sets ``_n_init`` to it, as scikit-learn does."""
        self._check_sizes(n_samples)
        init = checked_init(self.init, self.n_clusters, n_features, dtype, self._inits)
        if isinstance(self.n_init, str) and self.n_init == "auto":
            by_draw = callable(init) or (isinstance(init, str) and init == "random")
            n_init = self._auto_n_init() if by_draw else 1
        else:
            check_int("n_init", self.n_init, 1)
            n_init = cast(int, self.n_init)
        if isinstance(init, np.ndarray) and n_init != 1:
            warnings.warn(
                f"Explicit initial center position passed: performing only one init in "
                f"{type(self).__name__} instead of n_init={n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            n_init = 1
        self._n_init = n_init
        return init, n_init

    def _check_sizes(self, n_samples: int) -> None:
        """``n_clusters`` (at most ``n_samples``), ``max_iter`` and ``tol``, checked."""
        check_int("n_clusters", self.n_clusters, 1)
        if n_samples < self.n_clusters:
            raise InvalidParameterError(
                f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}."
            )
        check_int("max_iter", self.max_iter, 1)
        if (
            isinstance(self.tol, bool)
            or not isinstance(self.tol, numbers.Real)
            or not (0 <= self.tol < float("inf"))
        ):
            raise InvalidParameterError(f"tol={self.tol!r} should be a finite number >= 0.")

    def _auto_n_init(self) -> int:
        """``n_init="auto"``'s runs for ``"random"`` and callable inits (scikit-learn's)."""
        raise NotImplementedError

    def _core(self, X, sample_weight: np.ndarray, offset: np.ndarray) -> DataCore:
        """The driver's core on ``X`` (aligned for TensorFlow, or ``SparseRows``) and its
        weights, computing around ``offset``; centres in the data's coordinates."""
        return DataCore(self.driver.core(X, sample_weight, offset), offset)

    def _folder(self, name: str, writes: bool):
        """The folder parameter ``name`` (``checkpoint_dir``, ``log_dir``), checked, and
        made if this process ``writes`` there; None if not given."""
        folder = getattr(self, name)
        if folder is None:
            return None
        if not isinstance(folder, str | os.PathLike):
            raise InvalidParameterError(
                f"{name}={folder!r} should be a folder's path, a str or os.PathLike."
            )
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise InvalidParameterError(f"{name}={folder!r} is a file, not a folder.")
        if writes:
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as error:
                raise InvalidParameterError(
                    f"{name}={folder!r} cannot be made: {error.strerror}."
                ) from None
        return folder

    def _summary_writer(self, writes: bool = True):
        """A writer of scalars to ``log_dir`` (``None`` without one, or on a distributed
        fit's process that is not the chief)."""
        folder = self._folder("log_dir", writes)
        return None if folder is None or not writes else self.driver.summary_writer(folder)

    def _open_checkpoint(self, kind: type[checkpoints.Checkpoint], writes: bool = True):
        """The fit's ``kind`` of checkpoint in ``checkpoint_dir`` (the saved one read, if
        any), or None without ``checkpoint_dir``. ``writes``: whether this process saves
        (a distributed fit's chief; every process reads)."""
        folder = self._folder("checkpoint_dir", writes)
        if folder is None:
            return None
        return kind(self.driver.checkpoint_writer(os.fspath(folder)), folder, writes)

    def _fit_distributed(self, X, sample_weight, fit_stream) -> bool:
        """Whether the driver took the fit over many devices or processes (its plan), and
        fitted: ``fit_stream(stream, core, chief)`` on this process's part, or the model
        another process fitted."""
        plan = self.driver.distributed_plan(
            X, sample_weight, type(self).__name__, self.checkpoint_dir
        )
        if plan is None:
            return False
        with plan.errors():
            if plan.stream is None or plan.core is None:
                model = plan.take_model()
                self.cluster_centers_, self.labels_ = model.centers, model.labels
                self.inertia_, self.n_iter_ = model.inertia, model.n_iter
                self.n_features_in_ = model.centers.shape[1]
                return True
            fit_stream(plan.stream, plan.core, plan.chief)
            fitted = Model(self.cluster_centers_, self.inertia_, self.n_iter_, self.labels_)
            self.labels_ = plan.publish(fitted)
        return True

    def _set_fitted(self, labels, inertia, centers, n_iter, n_features):
        distinct = np.count_nonzero(np.bincount(labels, minlength=self.n_clusters))
        if distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points in X.",
                sklearn_class(ConvergenceWarning),
                stacklevel=3,
            )
        self.cluster_centers_ = centers
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        self.n_features_in_ = n_features
        return self

    def _init_centroids(
        self, X, x_squared_norms, init, random_state, sample_weight, init_size=None,
        n_centroids=None,
    ):  # fmt: skip
        """Initial centres of ``X`` by ``init``, as scikit-learn's private method of this
        name (its own tests call it): ``init_size`` random rows, if fewer than X's, are
        seeded instead. ``x_squared_norms`` is not needed here (the cores compute what
        they need)."""
        X = check_data(X, "X")
        weights = check_sample_weight(sample_weight, len(X), X.dtype)
        random_state = check_random_state(random_state)
        n_clusters = self.n_clusters if n_centroids is None else n_centroids
        if init_size is not None and init_size < len(X):
            rows = random_state.randint(0, len(X), init_size)
            X = X.rows(rows) if isinstance(X, SparseRows) else X[rows]
            weights = np.ascontiguousarray(weights[rows])
        if not isinstance(init, str) and not callable(init):
            return np.asarray(init)
        core = self._core(shareable_data(X), shareable(weights), offset_of(X))
        return initial_centers(init, core, n_clusters, random_state, X)

    def _kmeans_plusplus(self, X, sample_weight, random_state, x_squared_norms=None):
        """``kmeans_plusplus``: the centres the first run of ``fit`` would start from.
        ``x_squared_norms`` is checked as scikit-learn checks it, then not needed."""
        X = check_data(X, "X")
        check_int("n_clusters", self.n_clusters, 1, len(X))
        if x_squared_norms is not None and len(np.ravel(x_squared_norms)) != len(X):
            raise InvalidParameterError(
                f"The length of x_squared_norms {len(np.ravel(x_squared_norms))} should be "
                f"equal to the length of n_samples {len(X)}."
            )
        weights = check_sample_weight(sample_weight, len(X), X.dtype)
        seed = seed_of(check_random_state(random_state))
        core = self._core(shareable_data(X), shareable(weights), offset_of(X))
        rows = np.asarray(core.plus_plus_rows(self.n_clusters, seed), dtype=np.int64)
        return core.rows(rows), rows

    # -- using a fitted model --

    def _check_fitted_data(self, X) -> np.ndarray | SparseRows:
        check_is_fitted(self)
        check_feature_names(self, X, reset=False)
        X = check_data(X, estimator_name=type(self).__name__)
        if X.shape[1] != self.n_features_in_:
            raise InvalidParameterError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return X

    def _core_for(self, X, sample_weight=None):
        """A core for new data, the centres in its dtype, and the number of samples.

        Dense data is taken around the centres' mean (the data's own mean would cost a
        pass over it) and padded to one of a few sizes (``batch_core.batch_rows``), so that
        data of nearby sizes shares one program; sparse data is taken around 0.
        """
        X = self._check_fitted_data(X)
        if self._cosine:
            X = unit_rows(X)
        weights = check_sample_weight(sample_weight, len(X), X.dtype)
        centers = self.cluster_centers_.astype(X.dtype)
        return self._core_near(X, weights, centers), centers, len(X)

    def _core_near(self, X, weights: np.ndarray, centers: np.ndarray) -> DataCore:
        """A core for checked rows ``X`` (``_core_for``) to be compared with ``centers``."""
        if isinstance(X, SparseRows):  # its programs take any number of rows
            return self._core(X, shareable(weights), np.zeros_like(centers[0]))
        padded_X, weights = padded(X, weights, batch_rows(len(X)))
        return self._core(padded_X, weights, centers.mean(axis=0))

    def _stream_for(self, X, sample_weight=None):
        """A stream of new data, checked against the fit, and the centres in its dtype."""
        check_is_fitted(self)
        self._no_stream_for_cosine()
        stream = sources.as_stream(X, sample_weight, n_clusters=len(self.cluster_centers_))
        if stream.n_features != self.n_features_in_:
            raise InvalidParameterError(
                f"X has {stream.n_features} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return stream, self.cluster_centers_.astype(stream.dtype)

    def _labels_inertia(self, X, sample_weight=None):
        if is_stream(X):
            stream, centers = self._stream_for(X, sample_weight)
            return streamed.assign(self.driver.batch_core(), stream, centers, centers.mean(axis=0))
        core, centers, n_samples = self._core_for(X, sample_weight)
        labels, inertia = core.labels_inertia(centers)
        return labels[:n_samples], inertia / 2 if self._cosine else inertia

    def predict(self, X, sample_weight=None):
        """Index of the nearest centre for each sample, shape (n_samples,)."""
        return self._labels_inertia(X, sample_weight)[0]

    def fit(self, X, y=None, sample_weight=None) -> BaseKMeans:
        """Compute the clustering; returns self (each estimator's own)."""
        raise NotImplementedError

    def fit_predict(self, X, y=None, sample_weight=None):
        """``fit(X)``, then the labels of ``X``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Euclidean distance of each sample to each centre, shape (n_samples, n_clusters);
        ``1 - cos`` for the cosine metric."""
        if is_stream(X):
            stream, centers = self._stream_for(X)
            distances = streamed.distances(
                self.driver.batch_core(), stream, centers, centers.mean(axis=0)
            )
            return self._output(distances, X)
        core, centers, n_samples = self._core_for(X)
        distances = core.distances(centers)[:n_samples]
        return self._output(np.square(distances) / 2 if self._cosine else distances, X)

    def fit_transform(self, X, y=None, sample_weight=None):
        """``fit(X)``, then ``transform(X)``."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of ``transform``'s columns, one a centre: ``kmeans0``, ``kmeans1``, ... (the
        class's name in lower case, as scikit-learn names them), an object array.

        ``input_features``, if given, must be the names seen in ``fit``
        (``feature_names_in_``), or as many names as ``fit`` saw features.
        """
        check_is_fitted(self)
        if input_features is not None:
            given = np.asarray(input_features, dtype=object)
            fitted = getattr(self, "feature_names_in_", None)
            if fitted is not None and not np.array_equal(given, fitted):
                raise InvalidParameterError("input_features is not equal to feature_names_in_")
            if fitted is None and len(given) != self.n_features_in_:
                raise InvalidParameterError(
                    f"input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(given)}"
                )
        prefix = type(self).__name__.lower()
        n_centers = len(self.cluster_centers_)
        return np.asarray([f"{prefix}{i}" for i in range(n_centers)], dtype=object)

    def score(self, X, y=None, sample_weight=None):
        """Negative inertia of ``X`` against the fitted centres (higher is better)."""
        return -float(self._labels_inertia(X, sample_weight)[1])

    def export_saved_model(self, path) -> str:
        """Write the fitted model as a SavedModel in the folder ``path`` (returned): the
        signatures ``cluster_index``, ``distances``, ``score`` and ``serving_default``,
        each taking ``x`` (batch, n_features); ``tf.saved_model.load`` and TF Serving read
        it without this project (``engine.saved_model``)."""
        from kmeans_tutorial.engine import saved_model

        return saved_model.export_saved_model(self, path)
