"""The scikit-learn-style ``KMeans`` interface, shared by both packages.

``BaseKMeans`` does everything that is not TensorFlow: parameters, input validation
(``_checks``), ``n_init`` restarts and their seeds, picking the best run, warnings, and
the fitted attributes. A package subclasses it with ``_make_core``, which returns a core
(``core.KMeansCore``) that builds and runs the TensorFlow computation and trusts its
input (scikit-learn's own split between ``KMeans`` and ``_kmeans_single_lloyd``):

- ``tf1_graph.KMeans``: one graph per data shape, the Lloyd loop a ``tf.while_loop``
  compiled by XLA, run by a ``Session``;
- ``tf2_eager.KMeans``: the same loop in a ``tf.function(jit_compile=True)``.

Semantics follow scikit-learn's ``KMeans(algorithm="lloyd")``: ``tol`` is relative to the
mean per-feature variance of ``X``; a run stops early when the labels stop changing (strict
convergence) or when the summed squared centre shift is at most that tolerance; empty
clusters are given the points farthest from their centres. ``init="random"`` is the lesson's
seeded shuffle; ``"k-means++"`` is scikit-learn's greedy k-means++, weighted: one compiled
program on dense data (``seeding_ops``), a NumPy-driven loop on sparse data (``seeding``).
"""

from __future__ import annotations

import copy
import functools
import inspect
import numbers
import os
import warnings
from functools import partial

import numpy as np

from kmeans_tutorial.engine import checkpoints, streaming
from kmeans_tutorial.engine._checks import (
    ConvergenceWarning,
    SparseRows,
    check_data,
    check_feature_names,
    check_is_fitted,
    check_random_state,
    check_sample_weight,
    sklearn_class,
)
from kmeans_tutorial.engine._memory import return_freed_memory
from kmeans_tutorial.engine._sharing import shareable
from kmeans_tutorial.engine.core import BatchCore, KMeansCore
from kmeans_tutorial.engine.data import (
    column_mean,
    mean_variance,
    offset_of,
    shareable_data,
    unit_centers,
    unit_rows,
)
from kmeans_tutorial.engine.streaming import batch_rows, is_stream, padded
from kmeans_tutorial.validation import InvalidParameterError, check_int

INITS = ("k-means++", "random", "kmc2")
# scikit-learn's algorithm names: "lloyd" is what runs; "elkan" (an exact acceleration of
# Lloyd's iterations, giving its result) is not implemented; "auto" and "full" were
# scikit-learn's aliases of these until 1.3, which removed them.
ALGORITHMS = ("lloyd",)
REMOVED_ALGORITHMS = ("auto", "full")
METRICS = ("euclidean", "cosine")
# Rows of a stream the initial centres are drawn from (``streaming``): at least this many,
# and 3 per cluster; k-means++ on them is one program of a few milliseconds.
STREAM_INIT_SIZE = 2**16


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


def _is_same_clustering(labels1, labels2, n_clusters: int) -> bool:
    """Whether two labelings are the same partition up to a renaming of the clusters: each
    cluster of ``labels1`` renamed to the label ``labels2`` gives its first member."""
    labels1, labels2 = np.asarray(labels1), np.asarray(labels2)
    if labels1.shape != labels2.shape:
        return False
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    clusters, first = np.unique(labels1, return_index=True)
    mapping[clusters] = labels2[first]
    return bool(np.array_equal(mapping[labels1], labels2))


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


def called_init(init, X, n_clusters: int, random_state) -> np.ndarray:
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


def log_convergence(iteration: int, strict: bool, shift: float, tol: float) -> None:
    """Why a verbose fit stopped, in scikit-learn's words (iterations counted from 0)."""
    if strict:
        print(f"Converged at iteration {iteration - 1}: strict convergence.")
    else:
        print(
            f"Converged at iteration {iteration - 1}: center shift {shift} within tolerance {tol}."
        )


class BaseKMeans:
    """K-means clustering with scikit-learn's interface; subclasses supply the TF core.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters, and of centroids.
    init : {"k-means++", "random", "kmc2"}, callable or array of shape (n_clusters, n_features)
        ``"k-means++"``: greedy k-means++ (``2 + log(k)`` trials a centre, drawn in
        proportion to weight x squared distance), as scikit-learn's.
        ``"random"``: ``n_clusters`` distinct samples; unweighted, the lesson's way (a
        seeded shuffle); weighted, drawn in proportion to their weights, as scikit-learn
        draws them (a row of weight 0 is never a centre).
        ``"kmc2"``: k-MC2, k-means++ approximated by Markov chains of 200 candidates a
        centre, run by TensorFlow's ``KMC2ChainInitialization`` op (``seeding.kmc2_rows``).
        An array: these initial centres, used as given. A callable: called as
        ``init(X, n_clusters, random_state=random_state)`` once a run (``X`` as given, a
        CSR matrix if sparse; ``random_state`` a ``RandomState``), returning the centres.
    n_init : "auto" or int, default="auto"
        Runs from different initialisations; the one with the lowest inertia is kept.
        ``"auto"``: 10 for ``"random"`` and a callable, 1 otherwise.
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
    copy_x : bool, default=True
        scikit-learn's, accepted for its users: ``X`` is never modified either way, since
        distances are taken around the data's mean without centring ``X`` in place.
    algorithm : {"lloyd"}, default="lloyd"
        Lloyd's iterations. ``"elkan"`` is refused: it is not implemented here.
    metric : {"euclidean", "cosine"}, default="euclidean"
        ``"cosine"``: TensorFlow's KMeans estimator's cosine distance, ``1 - cos``. Rows
        are scaled to length 1 (a row of zeros is refused), each update's centres too
        (spherical k-means); ``inertia_`` and ``score`` sum ``1 - cos``, ``transform``
        gives ``1 - cos``. Arrays and sparse matrices only, not streams.
    checkpoint_dir : str or os.PathLike, default=None
        For a streamed fit (a dataset, memmap or array-like; ``tf.distribute`` and TF1
        clusters too): save a checkpoint there after every pass, and resume from the last
        one when the fit is started again with the same arguments, ending bit-identical
        to a fit never stopped (``engine.checkpoints``). A checkpoint of other parameters
        or data is refused. A finished fit's last checkpoint stays: fitting again returns
        its result after one labelling pass.
    log_dir : str or os.PathLike, default=None
        For a streamed fit: write each pass's inertia there as a TensorBoard scalar, a
        curve a run (``inertia/run 1``, ...), its step the pass.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
        Sum of (weighted) squared distances of the samples to their centre.
    n_iter_ : int
        Iterations of the kept run.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,), object
        The column names of a dataframe ``X`` whose names are all strings.
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
        copy_x=True,
        algorithm="lloyd",
        metric="euclidean",
        checkpoint_dir=None,
        log_dir=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.metric = metric
        self.checkpoint_dir = checkpoint_dir
        self.log_dir = log_dir

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

    def _make_core(
        self, X: np.ndarray | SparseRows, sample_weight: np.ndarray, offset: np.ndarray
    ) -> KMeansCore:
        """A core bound to ``X``, its weights, and the point its distances are taken around.

        ``X`` is a dense array aligned for TensorFlow to use in place (``_sharing``), or
        ``SparseRows``. The core computes with ``X - offset`` (row block by row block, no
        copy of ``X``); the centres it takes and returns are in those coordinates.
        """
        raise NotImplementedError

    # -- fitting --

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
        self._check_algorithm()
        if isinstance(self.init, str):
            if self.init not in INITS:
                raise InvalidParameterError(
                    f"init={self.init!r} should be 'k-means++', 'random', 'kmc2', a callable "
                    f"or an array."
                )
            init = str(self.init)
        elif callable(self.init):
            init = self.init
        else:
            init = check_data(self.init, "init")
            if isinstance(init, SparseRows):
                init = init.rows(np.arange(len(init)))
            init = init.astype(dtype)
            check_center_shape(init, self.n_clusters, n_features)
        if isinstance(self.n_init, str) and self.n_init == "auto":
            by_draw = callable(init) or (isinstance(init, str) and init == "random")
            n_init = self._auto_n_init() if by_draw else 1
        else:
            check_int("n_init", self.n_init, 1)
            n_init = self.n_init
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

    def _auto_n_init(self) -> int:
        """``n_init="auto"``'s runs for ``"random"`` and callable inits (scikit-learn's)."""
        return 10

    def _check_algorithm(self) -> None:
        algorithm, copy_x = getattr(self, "algorithm", "lloyd"), getattr(self, "copy_x", True)
        if algorithm == "elkan":
            raise InvalidParameterError(
                "algorithm='elkan' is not implemented here; use algorithm='lloyd' (the "
                "default), which gives the same clustering (Elkan's algorithm only skips "
                "distance computations)."
            )
        if algorithm in REMOVED_ALGORITHMS:
            raise InvalidParameterError(
                f"algorithm={algorithm!r} was removed in scikit-learn 1.3 (it meant 'lloyd' "
                f"or 'elkan'); use algorithm='lloyd'."
            )
        if not (isinstance(algorithm, str) and algorithm in ALGORITHMS):
            raise InvalidParameterError(f"algorithm={algorithm!r} should be 'lloyd'.")
        if not isinstance(copy_x, bool | np.bool_):
            raise InvalidParameterError(f"copy_x={copy_x!r} should be True or False.")

    @keeps_state_on_failure
    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering; returns self.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float32 and float64 are kept; other numbers become float64. A scipy sparse
            matrix or array is used as CSR, never made dense.
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional

        ``X`` may also be a stream, read batch by batch and never held whole: a
        ``tf.data.Dataset`` of float batches (batch, n_features) or of (x, sample_weight)
        pairs, an ``np.memmap``, or any 2-D array-like that is not a NumPy array (an HDF5
        dataset, say). Each Lloyd iteration is one pass over it; the initial centres are
        drawn from its first ``STREAM_INIT_SIZE`` rows (a dataset) or from as many random
        rows (an array-like).
        """
        fitted = self._fit_distributed(X, sample_weight)
        if fitted is not None:
            return fitted
        check_feature_names(self, X, reset=True)
        if is_stream(X):
            return self._fit_stream(streaming.as_stream(X, sample_weight))
        for name in ("checkpoint_dir", "log_dir"):
            if getattr(self, name) is not None:
                raise InvalidParameterError(
                    f"{name} is for fits that read X a pass at a time: a tf.data.Dataset, "
                    f"an np.memmap or another array-like; a fit of {type(X).__name__} in "
                    f"memory is one TensorFlow program a run. Give X as one of those, or "
                    f"drop {name}."
                )
        X = check_data(X, estimator_name=type(self).__name__)
        if self._cosine:
            X = unit_rows(X)
        n_samples, n_features = X.shape
        init, n_init = self._check_params(n_samples, n_features, X.dtype)
        weights = check_sample_weight(sample_weight, n_samples, X.dtype)
        random_state = check_random_state(self.random_state)
        X_offset = offset_of(X)
        absolute_tol = 0.0 if self.tol == 0 else mean_variance(X, X_offset) * self.tol
        core = self._make_core(shareable_data(X), shareable(weights), X_offset)
        # The algorithm, chosen once: spherical for cosine, logged step by step when verbose,
        # else the package's whole compiled loop.
        if self._cosine:
            lloyd = partial(
                self._spherical_lloyd, core, tol=absolute_tol, n_samples=len(X), offset=X_offset
            )
        elif self.verbose:
            lloyd = partial(self._lloyd_logged, core, tol=absolute_tol, n_samples=len(X))
        else:
            lloyd = partial(core.lloyd, max_iter=self.max_iter, tol=absolute_tol)
        start = partial(self._initial_centers, init, core, X_offset, random_state, X)
        best = self._best_of_runs(n_init, start, lloyd)
        del core  # and with it the aligned copy of X, if one was made
        return_freed_memory()
        return self._set_fitted(*best, X_offset, n_features)

    def _batch_core(self) -> BatchCore:
        """The package's core for streamed fits, one batch at a time (``core.BatchCore``)."""
        raise NotImplementedError

    # The package's module for fits on many devices or processes (``tf1_graph.engine.
    # distributed``, ``tf2_eager.engine.distributed``): its ``distributed_fit`` fits when it
    # takes the fit (a TF_CONFIG cluster in TF1, a strategy's scope in TF2), else says None.
    _distribution = None

    def _fit_distributed(self, X, sample_weight):
        """The fitted estimator if the package's ``_distribution`` fitted it, else None."""
        if self._distribution is None:
            return None
        return self._distribution.distributed_fit(self, X, sample_weight)

    _progress: streaming.Progress | None = None  # set by the CLI: a progress bar per pass

    # The package's checkpoint module (``tf1_graph.engine.checkpoint``,
    # ``tf2_eager.engine.checkpoint``): its ``Writer`` saves with TensorFlow's machinery.
    _checkpoint_module = None
    # Its summaries module (``*.engine.summaries``): its ``Writer`` writes TensorBoard scalars.
    _summaries_module = None

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
        return None if folder is None or not writes else self._summaries_module.Writer(folder)

    def _open_checkpoint(self, kind=checkpoints.RunsCheckpoint, writes: bool = True):
        """The fit's ``kind`` of checkpoint in ``checkpoint_dir`` (the saved one read, if
        any), or None without ``checkpoint_dir``. ``writes``: whether this process saves
        (a distributed fit's chief; every process reads)."""
        folder = self._folder("checkpoint_dir", writes)
        if folder is None:
            return None
        return kind(self._checkpoint_module.Writer(folder), folder, writes)

    def _init_from_sample(self, stream, random_state):
        """The init sample of a stream (``streaming``), its offset, and a core on it."""
        check_int("n_clusters", self.n_clusters, 1)
        size = max(STREAM_INIT_SIZE, 3 * self.n_clusters)
        sample, sample_weights = stream.init_sample(size, random_state)
        n_samples = stream.n_samples if stream.n_samples is not None else len(sample)
        init, n_init = self._check_params(n_samples, stream.n_features, stream.dtype)
        offset = column_mean(sample)
        core = self._make_core(shareable(sample), shareable(sample_weights), offset)
        return init, n_init, offset, sample, core

    def _fit_stream(self, stream, batch_core: BatchCore | None = None):
        """``fit`` on a stream: exact Lloyd, one pass an iteration (``streaming.lloyd``)."""
        self._no_stream_for_cosine()
        random_state = check_random_state(self.random_state)
        batch_core = batch_core or self._batch_core()
        chief = getattr(batch_core, "writes_checkpoints", True)
        checkpoint = self._open_checkpoint(writes=chief)
        summaries = self._summary_writer(chief)
        if checkpoint is not None:
            checkpoint.begin(random_state)
        init, n_init, offset, sample, sample_core = self._init_from_sample(stream, random_state)
        if checkpoint is not None:
            checkpoint.check(
                checkpoints.fingerprint(
                    self, stream.n_features, stream.dtype, sample, stream.n_samples
                )
            )
        stream.rows = streaming.chunk_rows(stream.n_features, self.n_clusters)
        runs = iter(range(n_init))

        def lloyd(centers):
            # Each run's passes are a curve of their own, numbered from 1; a resumed run
            # is the checkpoint's.
            number = next(runs) if checkpoint is None else checkpoint.run
            log = (
                None
                if summaries is None
                else partial(summaries.scalar, f"inertia/run {number + 1}")
            )
            return run_lloyd(centers, log=log)

        run_lloyd = partial(
            streaming.lloyd,
            batch_core,
            stream,
            offset=offset,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            progress=self._progress,
            checkpoint=checkpoint,
        )
        start = partial(self._initial_centers, init, sample_core, offset, random_state, sample)
        relabel = partial(streaming.assign, batch_core, stream, offset=offset)
        best = self._best_of_runs(n_init, start, lloyd, checkpoint, relabel)
        return self._set_fitted(*best, offset, stream.n_features)

    def _best_of_runs(self, n_init: int, start, lloyd, checkpoint=None, relabel=None):
        """``(labels, inertia, centers, n_iter)`` of the best of ``n_init`` runs, in memory or
        streamed alike: each from ``start()``'s centres, run by ``lloyd(centers)``. A later
        run is kept if its inertia is lower and its clustering another (scikit-learn's
        rule: a rounding difference in the inertia of one partition changes nothing).

        A streamed fit's ``checkpoint`` (``checkpoints.RunsCheckpoint``) says where to
        resume: the runs done, the best of them (its labels made again by
        ``relabel(centers)``), and the run in progress, which ``lloyd`` resumes from its
        saved pass (``None`` centres: not drawn again). It is saved after every run."""
        first, best = (0, None) if checkpoint is None else checkpoint.resume(relabel)
        if self.verbose and checkpoint is not None and checkpoint.saved is not None:
            print(f"Resumed from {checkpoint.path}")
        for run_number in range(first, n_init):
            if checkpoint is not None:
                checkpoint.run, checkpoint.best = run_number, best
            if checkpoint is not None and checkpoint.pending is not None:
                centers = None
            else:
                centers = start()
                if self.verbose:
                    print("Initialization complete")
            run = lloyd(centers)
            labels, inertia = run[0], run[1]
            if best is None or (
                inertia < best[1] and not _is_same_clustering(labels, best[0], self.n_clusters)
            ):
                best = run
            if checkpoint is not None:
                checkpoint.save_run(run_number + 1, best)
        return best

    def _set_fitted(self, labels, inertia, centers, n_iter, offset, n_features):
        distinct = np.count_nonzero(np.bincount(labels, minlength=self.n_clusters))
        if distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points in X.",
                sklearn_class(ConvergenceWarning),
                stacklevel=3,
            )
        self.cluster_centers_ = centers + offset
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        self.n_features_in_ = n_features
        return self

    def _initial_centers(self, init, core, offset, random_state, X, n_clusters=None):
        """A run's initial centres, around ``offset``: drawn by ``core`` with a seed from
        ``random_state``, made by a callable ``init`` from ``X``, or the given array."""
        n_clusters = self.n_clusters if n_clusters is None else n_clusters
        if isinstance(init, str):
            seed = int(random_state.randint(np.iinfo(np.int32).max))
            return core.init_centroids(init, n_clusters, seed)
        if callable(init):
            return called_init(init, X, n_clusters, random_state) - offset
        return init - offset

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
        offset = offset_of(X)
        core = self._make_core(shareable_data(X), shareable(weights), offset)
        return self._initial_centers(init, core, offset, random_state, X, n_clusters) + offset

    def _lloyd_logged(self, core, centers, tol, n_samples):
        """The Lloyd loop one compiled step at a time, logged in scikit-learn's words."""
        labels = np.full(n_samples, -1, dtype=np.int32)
        for iteration in range(1, self.max_iter + 1):
            previous = labels
            centers, labels, stop, shift, inertia = core.step(centers, labels, tol)
            print(f"Iteration {iteration - 1}, inertia {inertia}.")
            if stop:
                log_convergence(iteration, np.array_equal(labels, previous), shift, tol)
                break
        else:
            print(f"Stopped after max_iter={self.max_iter} iterations without converging.")
        labels, inertia = core.labels_inertia(centers)
        return labels, inertia, centers, iteration

    def _spherical_lloyd(self, core, centers, tol, n_samples, offset):
        """Lloyd for the cosine metric on unit rows: each update's centres scaled to length
        1 (on the host, so both packages scale alike); stops when the labels stop changing
        or the scaled centres move by at most ``tol``. The inertia is the sum of
        ``1 - cos``, half the squared distance between unit vectors."""
        centers = unit_centers(centers, offset)
        labels = np.full(n_samples, -1, dtype=np.int32)
        for iteration in range(1, self.max_iter + 1):
            new_centers, new_labels, _, _, inertia = core.step(centers, labels, tol)
            new_centers = unit_centers(new_centers, offset)
            shift = float(np.sum(np.square(new_centers - centers, dtype=np.float64)))
            unchanged = np.array_equal(new_labels, labels)
            centers, labels = new_centers, new_labels
            if self.verbose:
                print(f"Iteration {iteration - 1}, inertia {inertia / 2}.")
            if streaming.stopped(unchanged, shift, tol):
                if self.verbose:
                    log_convergence(iteration, unchanged, shift, tol)
                break
        labels, inertia = core.labels_inertia(centers)
        return labels, inertia / 2, centers, iteration

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
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        core = self._make_core(shareable_data(X), shareable(weights), offset_of(X))
        rows = np.asarray(core.plus_plus_rows(self.n_clusters, seed), dtype=np.int64)
        return (X.rows(rows) if isinstance(X, SparseRows) else X[rows]), rows

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
        """A core for new data, the centres in its coordinates, and the number of samples.

        Dense data is taken around the centres' mean (the data's own mean would cost a
        pass over it), sparse data around 0.
        """
        X = self._check_fitted_data(X)
        if self._cosine:
            X = unit_rows(X)
        weights = check_sample_weight(sample_weight, len(X), X.dtype)
        centers = self.cluster_centers_.astype(X.dtype)
        if isinstance(X, SparseRows):  # its programs take any number of rows
            core = self._make_core(X, shareable(weights), np.zeros_like(centers[0]))
            return core, centers, len(X)
        offset = centers.mean(axis=0)
        padded_X, weights = padded(X, weights, batch_rows(len(X)))
        return self._make_core(padded_X, weights, offset), centers - offset, len(X)

    def _stream_for(self, X, sample_weight=None):
        """A stream of new data, checked against the fit, and the centres around their mean."""
        check_is_fitted(self)
        self._no_stream_for_cosine()
        stream = streaming.as_stream(X, sample_weight)
        if stream.n_features != self.n_features_in_:
            raise InvalidParameterError(
                f"X has {stream.n_features} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        centers = self.cluster_centers_.astype(stream.dtype)
        stream.rows = streaming.chunk_rows(stream.n_features, self.n_clusters)
        offset = centers.mean(axis=0)
        return stream, centers - offset, offset

    def _labels_inertia(self, X, sample_weight=None):
        if is_stream(X):
            stream, centers, offset = self._stream_for(X, sample_weight)
            return streaming.assign(self._batch_core(), stream, centers, offset)
        core, centers, n_samples = self._core_for(X, sample_weight)
        labels, inertia = core.labels_inertia(centers)
        return labels[:n_samples], inertia / 2 if self._cosine else inertia

    def predict(self, X, sample_weight=None):
        """Index of the nearest centre for each sample, shape (n_samples,)."""
        return self._labels_inertia(X, sample_weight)[0]

    def fit_predict(self, X, y=None, sample_weight=None):
        """``fit(X)``, then the labels of ``X``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Euclidean distance of each sample to each centre, shape (n_samples, n_clusters);
        ``1 - cos`` for the cosine metric."""
        if is_stream(X):
            stream, centers, offset = self._stream_for(X)
            return streaming.distances(self._batch_core(), stream, centers, offset)
        core, centers, n_samples = self._core_for(X)
        distances = core.distances(centers)[:n_samples]
        return np.square(distances) / 2 if self._cosine else distances

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


def k_means(
    estimator: type[BaseKMeans], X, n_clusters, *, sample_weight=None, return_n_iter=False, **params
):
    """scikit-learn's ``k_means`` function on a package's ``KMeans`` class: fit, then
    ``(cluster_centers_, labels_, inertia_)``, and ``n_iter_`` if ``return_n_iter``."""
    fitted = estimator(n_clusters, **params).fit(X, sample_weight=sample_weight)
    result = fitted.cluster_centers_, fitted.labels_, fitted.inertia_
    return (*result, fitted.n_iter_) if return_n_iter else result
