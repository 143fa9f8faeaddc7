"""scikit-learn's ``KMeans`` (Lloyd's algorithm), shared by both packages.

Semantics follow scikit-learn's ``KMeans(algorithm="lloyd")``: ``tol`` is relative to the
mean per-feature variance of ``X``; a run stops early when the labels stop changing (strict
convergence) or when the summed squared centre shift is at most that tolerance; empty
clusters are given the points farthest from their centres. ``init="random"`` is the lesson's
seeded shuffle; ``"k-means++"`` is scikit-learn's greedy k-means++, weighted: one compiled
program on dense data (``seeding_ops``), a NumPy-driven loop on sparse data (``seeding``).

A fit in memory is one compiled program a run (the driver's core: ``tf1_graph``'s a
``tf.while_loop`` in a graph run by a ``Session``, ``tf2_eager``'s a
``tf.function(jit_compile=True)``); a fit on a stream is one pass an iteration
(``streamed.lloyd``); the restarts and their best run are ``loops``'.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError, check_int
from kmeans_tutorial.engine import checkpoints, loops, parallel_init, sources, streamed
from kmeans_tutorial.engine._memory import return_freed_memory
from kmeans_tutorial.engine.base import BaseKMeans, keeps_state_on_failure
from kmeans_tutorial.engine.checks import (
    check_data,
    check_feature_names,
    check_random_state,
    check_sample_weight,
)
from kmeans_tutorial.engine.data import (
    column_mean,
    mean_variance,
    offset_of,
    shareable_data,
    unit_rows,
)
from kmeans_tutorial.engine.driver import BatchCore
from kmeans_tutorial.engine.init import INITS, initial_centers
from kmeans_tutorial.engine.sharing import shareable
from kmeans_tutorial.engine.sources import DatasetStream, Stream, is_stream

# scikit-learn's algorithm names: "lloyd", and "elkan", which gives Lloyd's result with
# distance work skipped where bounds prove it useless (``lloyd_ops.elkan``); "auto" and
# "full" were scikit-learn's aliases of these until 1.3, which removed them.
ALGORITHMS = ("lloyd", "elkan")
REMOVED_ALGORITHMS = ("auto", "full")
# Rows of a stream the initial centres are drawn from (``sources``): at least this many,
# and 3 per cluster; k-means++ on them is one program of a few milliseconds.
STREAM_INIT_SIZE = 2**16


def check_algorithm(algorithm: object, copy_x: object) -> str:
    """``algorithm`` and ``copy_x`` checked, as ``KMeans`` and ``BisectingKMeans`` take them."""
    if algorithm in REMOVED_ALGORITHMS:
        raise InvalidParameterError(
            f"algorithm={algorithm!r} was removed in scikit-learn 1.3 (it meant 'lloyd' "
            f"or 'elkan'); use algorithm='lloyd'."
        )
    if not (isinstance(algorithm, str) and algorithm in ALGORITHMS):
        raise InvalidParameterError(f"algorithm={algorithm!r} should be 'lloyd' or 'elkan'.")
    if not isinstance(copy_x, bool | np.bool_):
        raise InvalidParameterError(f"copy_x={copy_x!r} should be True or False.")
    return algorithm


class KMeans(BaseKMeans):
    """K-means clustering with scikit-learn's interface; a package's subclass names its driver.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters, and of centroids.
    init : {"k-means++", "k-means||", "random", "kmc2"}, callable or array, default="k-means++"
        An array is of shape (n_clusters, n_features).
        ``"k-means++"``: greedy k-means++ (``2 + log(k)`` trials a centre, drawn in
        proportion to weight x squared distance), as scikit-learn's; on a memmap or other
        array-like, on ``STREAM_INIT_SIZE`` rows drawn at random; on a ``tf.data.Dataset``,
        which is read in order, its scalable form ``"k-means||"``.
        ``"k-means||"``: k-means|| (``parallel_init``), Spark's and cuML's default: a few
        passes over all the data, each drawing about ``oversampling_factor * n_clusters``
        candidates in proportion to weight x squared distance, then weighted k-means++ and
        Lloyd on the candidates, the best of 5; ``init_steps + 2`` passes.
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
    algorithm : {"lloyd", "elkan"}, default="lloyd"
        ``"lloyd"``: Lloyd's iterations. ``"elkan"``: the same iterations, stops and result
        (the same labels and ``n_iter_``; centres within float rounding), with each row's
        distances left uncomputed where the triangle inequality proves its centre cannot
        change: per-row bounds (Hamerly's two, not Elkan's n x k), a skipped chunk of rows
        at a time (``lloyd_ops.elkan``). It pays on well-separated clusters in late
        iterations and costs a little elsewhere (docs/KMEANS.md, "Choosing elkan").
        Dense and sparse data in memory (``sparse_ops.elkan``); on a stream, with
        ``verbose`` or the cosine metric, ``"elkan"`` runs Lloyd's iterations, whose result
        it is.
        With one cluster, scikit-learn's warning, and ``"lloyd"``.
    metric : {"euclidean", "cosine"}, default="euclidean"
        ``"cosine"``: TensorFlow's KMeans estimator's cosine distance, ``1 - cos``. Rows
        are scaled to length 1 (a row of zeros is refused), each update's centres too
        (spherical k-means); ``inertia_`` and ``score`` sum ``1 - cos``, ``transform``
        gives ``1 - cos``. Arrays and sparse matrices only, not streams.
    oversampling_factor : float, default=2.0
        ``init="k-means||"``: candidates drawn a round, as a multiple of ``n_clusters``
        (cuML's name and default).
    init_steps : int, default=3
        ``init="k-means||"``: its sampling rounds, one pass each (Spark's ``initSteps``,
        whose default of 2 left a blob of 64 without a centre in 1 seed of 10 here, where
        3 left none: docs/BENCHMARKS.md).
    checkpoint_dir : str or os.PathLike, default=None
        For a streamed fit (a dataset, memmap or array-like; ``tf.distribute`` and TF1
        clusters too): save a checkpoint there after every pass, and resume from the last
        one when the fit is started again with the same arguments, ending bit-identical
        to a fit never stopped (``engine.checkpoints``). A checkpoint of other parameters
        or data is refused. A finished fit's last checkpoint stays: fitting again returns
        its result after one labelling pass; fitting with a larger ``max_iter`` (and
        ``n_init=1``) continues it, as a fit of that value from the start would run.
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
        oversampling_factor=2.0,
        init_steps=3,
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
        self.oversampling_factor = oversampling_factor
        self.init_steps = init_steps
        self.checkpoint_dir = checkpoint_dir
        self.log_dir = log_dir

    _inits = (*INITS, parallel_init.NAME)

    def _check_params(self, n_samples: int, n_features: int, dtype):
        self._algorithm = self._check_algorithm()
        parallel_init.check_params(self.oversampling_factor, self.init_steps)
        return super()._check_params(n_samples, n_features, dtype)

    def _starts(self, init, batches, offset, random_state, dtype, core=None, X=None):
        """The function that gives each run's initial centres: k-means|| over ``batches``
        (the data's rows, batch by batch, around ``offset``), else ``init.initial_centers``
        on ``core``, the in-memory core of ``X`` (a stream's init sample)."""
        if not (isinstance(init, str) and init == parallel_init.NAME):
            return partial(initial_centers, init, core, self.n_clusters, random_state, X)
        factor, steps = parallel_init.check_params(self.oversampling_factor, self.init_steps)

        def local_core(rows, weights):
            return self._core(shareable(rows), shareable(weights), offset_of(rows))

        return partial(
            parallel_init.kmeans_parallel, batches, self.driver.batch_core(), offset,
            local_core, self.n_clusters, factor, steps, random_state, np.dtype(dtype),
        )  # fmt: skip

    def _auto_n_init(self) -> int:
        return 10  # scikit-learn's "auto" for "random" and callable inits

    def _check_algorithm(self) -> str:
        """The algorithm the fit runs (scikit-learn's ``_algorithm``)."""
        algorithm = check_algorithm(self.algorithm, self.copy_x)
        if algorithm == "elkan" and self.n_clusters == 1:
            warnings.warn(
                "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead.",
                RuntimeWarning,
                stacklevel=4,
            )
            return "lloyd"
        return algorithm

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
        dataset, say). Each Lloyd iteration is one pass over it. The initial centres of
        an array-like are drawn from ``STREAM_INIT_SIZE`` rows read at random; a dataset,
        read in order, is seeded by k-means|| over all of it (``init``), and an init sample
        kept from one pass (``sources.Reservoir``) gives the point distances are taken
        around.
        """
        if self._fit_distributed(X, sample_weight, self._fit_stream):
            return self
        check_feature_names(self, X, reset=True)
        if is_stream(X):
            check_int("n_clusters", self.n_clusters, 1)
            stream = sources.as_stream(X, sample_weight, n_clusters=self.n_clusters)
            return self._fit_stream(stream, self.driver.batch_core())
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
        core = self._core(shareable_data(X), shareable(weights), X_offset)
        # The algorithm, chosen once: spherical for cosine, logged step by step when verbose,
        # else the package's whole compiled loop.
        if self._cosine:
            lloyd = partial(
                loops.spherical_lloyd, core, max_iter=self.max_iter, tol=absolute_tol,
                verbose=self.verbose,
            )  # fmt: skip
        elif self.verbose:
            lloyd = partial(loops.lloyd_logged, core, max_iter=self.max_iter, tol=absolute_tol)
        else:
            algorithm = self._algorithm
            lloyd = partial(
                core.lloyd, max_iter=self.max_iter, tol=absolute_tol, algorithm=algorithm
            )
            core.expect(algorithm)  # compiled beside the seeding's program
        factor, steps = parallel_init.check_params(self.oversampling_factor, self.init_steps)
        bound = parallel_init.most_candidates(self.n_clusters, factor, steps)
        chunks = parallel_init.RowChunks(X, weights, bound)
        start = self._starts(init, chunks, X_offset, random_state, X.dtype, core, X)
        best = loops.best_of_runs(n_init, self.n_clusters, start, lloyd, self.verbose)
        del core  # and with it the aligned copy of X, if one was made
        return_freed_memory()
        return self._set_fitted(*best, n_features)

    def _init_from_sample(self, stream: Stream, random_state):
        """The init sample of a stream (``sources``), its offset, and a core on it."""
        size = max(STREAM_INIT_SIZE, 3 * self.n_clusters)
        sample, sample_weights = stream.init_sample(size, random_state)
        n_samples = stream.n_samples if stream.n_samples is not None else len(sample)
        init, n_init = self._check_params(n_samples, stream.n_features, stream.dtype)
        offset = column_mean(sample)
        core = self._core(shareable(sample), shareable(sample_weights), offset)
        return init, n_init, offset, sample, core

    def _fit_stream(self, stream: Stream, batch_core: BatchCore, chief: bool = True):
        """``fit`` on a stream: exact Lloyd, one pass an iteration (``streamed.lloyd``).
        ``chief``: whether this process writes checkpoints and summaries."""
        self._no_stream_for_cosine()
        random_state = check_random_state(self.random_state)
        checkpoint = self._open_checkpoint(checkpoints.RunsCheckpoint, writes=chief)
        summaries = self._summary_writer(chief)
        if checkpoint is not None:
            checkpoint.begin(random_state)
        init, n_init, offset, sample, sample_core = self._init_from_sample(stream, random_state)
        if checkpoint is not None:
            # A larger max_iter continues one run; of several, only the best is kept.
            checkpoint.check(
                checkpoints.fingerprint(
                    self, stream.n_features, stream.dtype, sample, stream.n_samples
                ),
                can_continue=n_init == 1,
            )
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
            streamed.lloyd,
            batch_core,
            stream,
            offset=offset,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            progress=self._progress,
            checkpoint=checkpoint,
        )
        # k-means|| reads the data itself; a distributed fit's every process reads it whole,
        # as for the init sample (``whole``), and draws the same candidates.
        whole = getattr(stream, "whole", stream)
        if isinstance(init, str) and init == "k-means++" and isinstance(whole, DatasetStream):
            # A dataset is read in order: its k-means++ is k-means||, which reads it all
            # (``init``'s documentation; figures: docs/BENCHMARKS.md, "Data stored in order").
            init = parallel_init.NAME
        start = self._starts(init, whole, offset, random_state, stream.dtype, sample_core, sample)
        relabel = partial(streamed.assign, batch_core, stream, offset=offset)
        best = loops.best_of_runs(
            n_init, self.n_clusters, start, lloyd, self.verbose, checkpoint, relabel, self.max_iter
        )
        return self._set_fitted(*best, stream.n_features)


def k_means(
    estimator: type[KMeans], X, n_clusters, *, sample_weight=None, return_n_iter=False, **params
):
    """scikit-learn's ``k_means`` function on a package's ``KMeans`` class: fit, then
    ``(cluster_centers_, labels_, inertia_)``, and ``n_iter_`` if ``return_n_iter``."""
    fitted = estimator(n_clusters, **params).fit(X, sample_weight=sample_weight)
    result = fitted.cluster_centers_, fitted.labels_, fitted.inertia_
    return (*result, fitted.n_iter_) if return_n_iter else result
