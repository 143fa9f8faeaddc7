"""``MiniBatchKMeans``: scikit-learn's mini-batch k-means, shared by both packages.

Semantics follow scikit-learn's ``MiniBatchKMeans``: each step draws ``batch_size`` rows
(with probability in proportion to their weight, then counted with weight 1), assigns
them, and moves each centre to the weighted mean of its old position, counted as many
times as the centre's members so far, and its new members; every ``10 * n_clusters`` rows
(or while a centre has no member), centres of count below ``reassignment_ratio`` times the
largest move onto random rows of the batch. A fit stops after ``max_iter`` passes' worth of
steps, when the summed squared centre shift is at most ``tol`` (relative to the data's
variance), or when the smoothed batch inertia has not improved for ``max_no_improvement``
steps.

The random numbers come from NumPy's ``RandomState`` (the rows of each step, the rows a
reassigned centre moves to), and one step is one program of ``batch_ops.minibatch_step``
run by the package's batch core: both packages fit bit-identically. Where scikit-learn
redraws rows through ``RandomState.choice`` (a cumulative sum over all ``n_samples``
weights every step), the cumulative sum is made once per fit and the same draws are
looked up in it (``_StepRows``).

On a ``tf.data.Dataset`` the mini-batches are the dataset's own elements, in its order
(shuffle and batch it as you like), and ``max_iter`` counts passes over it; the initial
centres are drawn from its first ``init_size`` rows.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError, check_int
from kmeans_tutorial.engine import checkpoints, checks, sources, streamed
from kmeans_tutorial.engine.base import BaseKMeans, keeps_state_on_failure
from kmeans_tutorial.engine.checks import (
    check_data,
    check_feature_names,
    check_random_state,
    check_sample_weight,
)
from kmeans_tutorial.engine.data import (
    SparseRows,
    column_mean,
    mean_variance,
    unit_centers,
    unit_rows,
)
from kmeans_tutorial.engine.driver import BatchCore
from kmeans_tutorial.engine.init import initial_centers
from kmeans_tutorial.engine.sharing import shareable
from kmeans_tutorial.engine.sources import is_dataset, is_stream


class _Rows:
    """Rows of the data by index, as a dense float array: an array, CSR or an array-like."""

    def __init__(self, X):
        self.X = X

    def __len__(self) -> int:
        return self.X.shape[0] if not isinstance(self.X, sources.ArrayStream) else self.X.n_samples

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        if isinstance(self.X, SparseRows):
            return self.X.rows(rows)
        if isinstance(self.X, sources.ArrayStream):
            order = np.argsort(rows, kind="stable")  # an array-like reads best in order
            values = np.empty((len(rows), self.X.n_features), self.X.dtype)
            values[order] = checks.check_batch(
                self.X.X[rows[order]], 0, self.X.n_features, self.X.dtype, self.X.name
            )
            return values
        return self.X[rows]


class MiniBatchKMeans(BaseKMeans):
    """Mini-batch k-means with scikit-learn's interface; a package's subclass names its
    driver.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {"k-means++", "random"} or array of shape (n_clusters, n_features)
        As ``KMeans``'s, on ``init_size`` rows drawn at random.
    max_iter : int, default=100
        Passes over the data at most (``max_iter * n_samples // batch_size`` steps).
    batch_size : int, default=1024
        Rows a step.
    verbose : int, default=0
    compute_labels : bool, default=True
        Whether to assign every row once the centres are fitted (``labels_``, ``inertia_``).
    random_state : None, int or RandomState
    tol : float, default=0.0
        Stop when the summed squared centre shift of a step is at most ``tol`` times the
        data's mean per-feature variance; 0 turns this test off.
    max_no_improvement : int or None, default=10
        Stop after this many steps without a new lowest smoothed batch inertia.
    init_size : int, default=None
        Rows the initial centres are drawn from (``3 * batch_size``, and at least
        ``3 * n_clusters``); as many rows, drawn apart, judge the ``n_init`` candidates.
    n_init : "auto" or int, default="auto"
        Initialisations tried; the best on the judging rows is kept. "auto": 3 for
        ``"random"``, 1 otherwise.
    reassignment_ratio : float, default=0.01
        Centres whose count is below this fraction of the largest are moved to random rows.
    metric : {"euclidean", "cosine"}, default="euclidean"
        As ``KMeans``'s: for ``"cosine"`` the rows are scaled to length 1 and the centres
        after every step (arrays and sparse matrices only).
    checkpoint_dir : str or os.PathLike, default=None
        Save a checkpoint there every ``checkpoint_steps`` steps and when the fit stops;
        a fit started again with the same arguments resumes from the last one, ending
        bit-identical to a fit never stopped (``KMeans``'s; ``partial_fit`` ignores it).
    checkpoint_steps : int, default=1000
        Steps between checkpoints.
    log_dir : str or os.PathLike, default=None
        Write the smoothed batch inertia, scaled to the data's rows, as a ``tf.summary``
        scalar (``inertia``, step the pass) there after each pass's worth of steps.

    Attributes
    ----------
    cluster_centers_, labels_, inertia_, n_iter_, n_features_in_, feature_names_in_
        As ``KMeans``'s; ``n_iter_`` counts passes' worth of steps.
    n_steps_ : int
        Mini-batch steps done.
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        max_iter=100,
        batch_size=1024,
        verbose=0,
        compute_labels=True,
        random_state=None,
        tol=0.0,
        max_no_improvement=10,
        init_size=None,
        n_init="auto",
        reassignment_ratio=0.01,
        metric="euclidean",
        checkpoint_dir=None,
        checkpoint_steps=1000,
        log_dir=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.metric = metric
        self.batch_size = batch_size
        self.compute_labels = compute_labels
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.reassignment_ratio = reassignment_ratio
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_steps = checkpoint_steps
        self.log_dir = log_dir

    # -- parameters --

    def _check_minibatch_params(self, n_samples: int, n_features: int, dtype):
        init, n_init = self._check_params(n_samples, n_features, dtype)
        check_int("batch_size", self.batch_size, 1)
        if self.max_no_improvement is not None:
            check_int("max_no_improvement", self.max_no_improvement, 0)
        if not isinstance(self.compute_labels, bool | np.bool_):
            raise InvalidParameterError(
                f"compute_labels={self.compute_labels!r} should be True or False."
            )
        ratio = self.reassignment_ratio
        if (
            isinstance(ratio, bool)
            or not isinstance(ratio, int | float)
            or not 0 <= ratio < math.inf
        ):
            raise InvalidParameterError(
                f"reassignment_ratio={ratio!r} should be a finite number >= 0."
            )
        batch_size = min(self.batch_size, n_samples)
        init_size = self.init_size
        if init_size is None:
            init_size = 3 * batch_size
            if init_size < self.n_clusters:
                init_size = 3 * self.n_clusters
        else:
            check_int("init_size", init_size, 1)
            if init_size < self.n_clusters:
                warnings.warn(
                    f"init_size={init_size} should be larger than n_clusters="
                    f"{self.n_clusters}. Setting it to min(3*n_clusters, n_samples)",
                    RuntimeWarning,
                    stacklevel=3,
                )
                init_size = 3 * self.n_clusters
        self._init_size = min(init_size, n_samples)
        return init, n_init, batch_size, self._init_size

    def _auto_n_init(self) -> int:
        return 3  # scikit-learn's "auto" for MiniBatchKMeans

    # -- fitting --

    @keeps_state_on_failure
    def fit(self, X, y=None, sample_weight=None):
        """Fit the centres on mini-batches of ``X``; returns self.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), an ``np.memmap``
            or array-like read in chunks, or a ``tf.data.Dataset`` of batches (``KMeans``).
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
        """
        if self._fit_distributed(X, sample_weight, self._fit_dataset):
            return self
        check_feature_names(self, X, reset=True)
        if is_dataset(X):
            stream = sources.as_stream(X, sample_weight)
            return self._fit_dataset(stream, self.driver.batch_core())
        if is_stream(X):
            self._no_stream_for_cosine()
            check_int("n_clusters", self.n_clusters, 1)
            X = sources.as_stream(X, sample_weight, n_clusters=self.n_clusters)
            weights = X.weights if X.weights is not None else _Ones(X.n_samples, X.dtype)
            n_samples, n_features, dtype = X.n_samples, X.n_features, X.dtype
        else:
            X = check_data(X, estimator_name=type(self).__name__)
            if self._cosine:
                X = unit_rows(X)
            (n_samples, n_features), dtype = X.shape, X.dtype
            weights = (
                _Ones(n_samples, dtype)
                if sample_weight is None
                else check_sample_weight(sample_weight, n_samples, dtype)
            )
        init, n_init, batch_size, init_size = self._check_minibatch_params(
            n_samples, n_features, dtype
        )
        random_state = check_random_state(self.random_state)
        checkpoint = self._open_steps_checkpoint(random_state)
        summaries = self._summary_writer()
        rows = _Rows(X)
        validation = random_state.randint(0, n_samples, init_size)
        X_valid, weights_valid = rows[validation], weights[validation]
        offset = column_mean(X_valid)
        centers = self._best_init(
            rows, weights, X_valid, weights_valid, offset, init, n_init, init_size, random_state
        )
        tol = 0.0 if self.tol == 0 else self._variance(X, offset) * self.tol
        draw = _StepRows(weights, random_state)
        n_steps = (self.max_iter * n_samples) // batch_size
        state = _State(self.n_clusters, dtype, n_samples, batch_size)
        core = self.driver.batch_core()
        step, first, started = -1, 0, time.perf_counter()
        if checkpoint is not None:
            checkpoint.check(checkpoints.fingerprint(self, n_features, dtype, X_valid, n_samples))
            resumed = checkpoint.resume(state)
            if resumed is not None:
                step, centers, stopped, *_ = resumed
                first = n_steps if stopped else step + 1
        for step in range(first, n_steps):
            x = rows[draw(batch_size)]
            centers, batch_inertia, shift = self._step(
                core, state, x, np.ones(batch_size, dtype), centers, offset, random_state, tol
            )
            if self._progress is not None:  # a pass: n_samples rows' worth of steps
                rows_done = (step + 1) * batch_size
                self._progress(
                    rows_done // n_samples + 1,
                    rows_done % n_samples,
                    time.perf_counter() - started,
                    state.smoothed_inertia() * n_samples,
                )
            stop = state.converged(step, n_steps, shift, batch_inertia, tol, self)
            passes = (step + 1) * batch_size // n_samples
            if summaries is not None and passes > step * batch_size // n_samples:
                summaries.scalar("inertia", passes, state.smoothed_inertia() * n_samples)
            if checkpoint is not None and (
                stop or step + 1 == n_steps or (step + 1) % self.checkpoint_steps == 0
            ):
                checkpoint.save_step(step, centers, state, stop or step + 1 == n_steps)
            if stop:
                break
        self.n_steps_ = step + 1
        self.n_iter_ = math.ceil(self.n_steps_ * batch_size / n_samples)
        self._counts, self._n_since_last_reassign = state.counts, state.n_since_last_reassign
        self.cluster_centers_ = centers + offset
        self.n_features_in_ = n_features
        if self.compute_labels:
            self.labels_, self.inertia_ = self._assign_all(X, weights)
        else:
            self.inertia_ = float(state.smoothed_inertia() * weights.sum(dtype=np.float64))
            self.inertia_ /= 2 if self._cosine else 1
        return self

    def _open_steps_checkpoint(self, random_state, writes: bool = True):
        """The fit's ``checkpoints.StepsCheckpoint``, begun, or None without
        ``checkpoint_dir``."""
        if self.checkpoint_dir is None:
            return None
        check_int("checkpoint_steps", self.checkpoint_steps, 1)
        checkpoint = self._open_checkpoint(checkpoints.StepsCheckpoint, writes)
        checkpoint.begin(random_state)
        return checkpoint

    def _variance(self, X, offset) -> float:
        if isinstance(X, sources.ArrayStream):
            total = streamed.Pass(1, X.n_features)
            for x, _ in X:
                centred = (x - offset).astype(np.float64)
                total.moments += [centred.sum(axis=0), np.square(centred).sum(axis=0)]
                total.n_samples += len(x)
            return total.mean_variance()
        return mean_variance(X, offset if not isinstance(X, SparseRows) else 0 * offset)

    def _best_init(
        self, rows, weights, X_valid, weights_valid, offset, init, n_init, init_size, random_state
    ):
        """Initial centres, in the steps' coordinates (around ``offset``; on the unit sphere
        for cosine): the best of ``n_init`` on the judging rows."""
        centers = self._best_init_of(
            rows, weights, X_valid, weights_valid, offset, init, n_init, init_size, random_state
        )
        centers = centers - offset
        return unit_centers(centers, offset) if self._cosine else centers

    def _best_init_of(
        self, rows, weights, X_valid, weights_valid, offset, init, n_init, init_size, random_state
    ):
        if isinstance(init, np.ndarray):
            return init
        best, best_inertia = None, None
        judge = self._core(shareable(X_valid), shareable(weights_valid), offset)
        for run in range(n_init):
            if init_size < len(rows):
                chosen = random_state.randint(0, len(rows), init_size)
                sample, sample_weights = rows[chosen], weights[chosen]
            else:
                every = np.arange(len(rows))
                sample, sample_weights = rows[every], weights[every]
            core = self._core(shareable(sample), shareable(sample_weights), offset)
            centers = initial_centers(init, core, self.n_clusters, random_state, sample)
            _, inertia = judge.labels_inertia(centers)
            if self.verbose:
                print(f"Inertia for init {run + 1}/{n_init}: {inertia}")
            if best_inertia is None or inertia < best_inertia:
                best, best_inertia = centers, inertia
        return best

    def _step(self, core, state, x, w, centers, offset, random_state, tol):
        """One mini-batch step on batch ``x``: (new centres, batch inertia, squared shift)."""
        on_host = isinstance(x, np.ndarray)
        rows = len(x) if on_host else self.batch_size  # a distributed batch: its size
        reassign = state.random_reassign(rows) and self.reassignment_ratio > 0
        if not on_host:  # the rows are on the replicas: a seed for their draws
            uniforms = random_state.randint(2**31, size=2)
        elif reassign:
            uniforms = random_state.random_sample(rows)
        else:
            uniforms = np.full(rows, 2.0)
        new_centers, counts, inertia, n_moved, state.last_rows = core.minibatch_step(
            x, w, centers, state.counts, offset, reassign, self.reassignment_ratio, uniforms
        )
        if self.verbose and n_moved:
            print(f"[MiniBatchKMeans] Reassigning {n_moved} cluster centers.")
        state.counts = counts
        if self._cosine:
            new_centers = unit_centers(new_centers, offset)
        shift = (
            float(np.sum(np.square(new_centers - centers, dtype=np.float64))) if tol > 0 else 0.0
        )
        return new_centers, float(inertia), shift

    def _assign_all(self, X, weights):
        """Labels and inertia of every row against the fitted centres."""
        weights = None if isinstance(weights, _Ones) else weights
        if isinstance(X, SparseRows):
            weights = check_sample_weight(weights, X.shape[0], X.dtype)
            return self._labels_inertia_fitted(X, weights)
        if not isinstance(X, sources.ArrayStream):
            X = sources.ArrayStream(X, weights, n_clusters=self.n_clusters)
        centers = self.cluster_centers_.astype(X.dtype)
        core = self.driver.batch_core()
        labels, inertia = streamed.assign(core, X, centers, centers.mean(axis=0))
        return labels, inertia / 2 if self._cosine else inertia

    def _labels_inertia_fitted(self, X, weights):
        core = self._core(X, shareable(weights), np.zeros(X.shape[1], X.dtype))
        labels, inertia = core.labels_inertia(self.cluster_centers_.astype(X.dtype))
        return labels, float(inertia) / (2 if self._cosine else 1)

    def _fit_dataset(self, stream: sources.Stream, core: BatchCore, chief: bool = True):
        """``fit`` on a dataset: its elements are the mini-batches, ``max_iter`` passes.
        ``chief``: whether this process writes checkpoints and summaries."""
        self._no_stream_for_cosine()
        random_state = check_random_state(self.random_state)
        checkpoint = self._open_steps_checkpoint(random_state, chief)
        summaries = self._summary_writer(chief)
        n_features, dtype = stream.n_features, stream.dtype
        check_int("n_clusters", self.n_clusters, 1)
        sample, sample_weights = stream.init_sample(
            max(
                3 * self.batch_size if isinstance(self.batch_size, int) else 0,
                3 * self.n_clusters,
                self.init_size or 0,
            ),
            random_state,
        )
        init, n_init, _, init_size = self._check_minibatch_params(len(sample), n_features, dtype)
        rows = _Rows(sample)
        validation = random_state.randint(0, len(sample), init_size)
        offset = column_mean(sample)
        centers = self._best_init(
            rows,
            sample_weights,
            sample[validation],
            sample_weights[validation],
            offset,
            init,
            n_init,
            init_size,
            random_state,
        )
        tol = 0.0 if self.tol == 0 else mean_variance(sample, offset) * self.tol
        n_rows = len(sample) if stream.n_samples is None else stream.n_samples
        state = _State(self.n_clusters, dtype, n_rows, self.batch_size)
        step, done, first_pass, skip = -1, False, 0, 0
        if checkpoint is not None:
            checkpoint.check(checkpoints.fingerprint(self, n_features, dtype, sample, None))
            resumed = checkpoint.resume(state)
            if resumed is not None:
                step, centers, done, first_pass, skip, stream.n_samples = resumed
        for pass_number in range(first_pass, 0 if done else self.max_iter):
            # A resumed pass reads the elements its steps have taken (a dataset is read in
            # order), without stepping on them.
            for position, (x, w) in enumerate(stream, start=1):
                if position <= skip:
                    continue
                step += 1
                centers, batch_inertia, shift = self._step(
                    core, state, x, w, centers, offset, random_state, tol
                )
                # The first pass counts the rows as it goes (scikit-learn's smoothing
                # weight needs them); a dataset says how many only at its end.
                rows_so_far = (step + 1) * state.last_rows
                state.n_samples = stream.n_samples or max(state.n_samples, rows_so_far)
                done = state.converged(step, None, shift, batch_inertia, tol, self)
                if checkpoint is not None and (done or (step + 1) % self.checkpoint_steps == 0):
                    checkpoint.save_step(
                        step, centers, state, done, pass_number, position, stream.n_samples
                    )
                if done:
                    break
            skip = 0
            if done:
                break
            if summaries is not None:
                inertia = state.smoothed_inertia() * state.n_samples
                summaries.scalar("inertia", pass_number + 1, inertia)
        if checkpoint is not None and not done:  # the last pass ended: the fit stops
            checkpoint.save_step(step, centers, state, True, self.max_iter, 0, stream.n_samples)
        self.n_steps_ = step + 1
        self.n_iter_ = math.ceil(self.n_steps_ * self.batch_size / state.n_samples)
        self._counts, self._n_since_last_reassign = state.counts, state.n_since_last_reassign
        self.cluster_centers_ = centers + offset
        self.n_features_in_ = n_features
        if self.compute_labels:
            centers = self.cluster_centers_.astype(dtype)
            middle = centers.mean(axis=0)
            self.labels_, self.inertia_ = streamed.assign(core, stream, centers, middle)
        else:
            self.inertia_ = float(state.smoothed_inertia() * state.n_samples)
        return self

    @keeps_state_on_failure
    def partial_fit(self, X, y=None, sample_weight=None):
        """One mini-batch step on ``X`` (the first call also draws the initial centres)."""
        fitted = hasattr(self, "cluster_centers_")
        check_feature_names(self, X, reset=not fitted)
        X = check_data(X, estimator_name=type(self).__name__)
        if fitted and X.shape[1] != self.n_features_in_:
            raise InvalidParameterError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        weights = check_sample_weight(sample_weight, X.shape[0], X.dtype)
        given = X  # checked, as it is before the cosine metric scales it
        if self._cosine:
            X = unit_rows(X)
        if not hasattr(self, "_random_state"):
            self._random_state = check_random_state(self.random_state)
        random_state = self._random_state
        rows = _Rows(X)
        if not fitted:
            init, _, _, init_size = self._check_minibatch_params(*X.shape, X.dtype)
            offset = np.zeros(X.shape[1], X.dtype)
            centers = self._best_init(
                rows,
                weights,
                rows[np.arange(len(rows))],
                weights,
                offset,
                init,
                1,
                init_size,
                random_state,
            )
            self.n_steps_ = 0
            self._counts = np.zeros(self.n_clusters, X.dtype)
            self._n_since_last_reassign = 0
            self.n_features_in_ = X.shape[1]
        else:
            centers = self.cluster_centers_.astype(X.dtype)
        state = _State(self.n_clusters, X.dtype, X.shape[0], X.shape[0])
        state.counts = self._counts.astype(X.dtype)
        state.n_since_last_reassign = self._n_since_last_reassign
        offset = np.zeros(X.shape[1], X.dtype)
        dense = X if not isinstance(X, SparseRows) else rows[np.arange(X.shape[0])]
        centers, _, _ = self._step(
            self.driver.batch_core(), state, dense, weights, centers, offset, random_state, 0.0
        )
        self._counts, self._n_since_last_reassign = state.counts, state.n_since_last_reassign
        self.cluster_centers_ = centers
        self.n_steps_ += 1
        if self.compute_labels:
            self.labels_, self.inertia_ = self._labels_inertia(given, weights)
        return self


class _Ones:
    """The weights of an unweighted array-like: 1 a row, never held (a memmap of 20 million
    rows would need 80 MB for them, and their cumulative sum 160 MB more)."""

    def __init__(self, n_samples: int, dtype):
        self.n_samples, self.dtype = n_samples, dtype

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return np.ones(len(rows), self.dtype)

    def sum(self, dtype=None) -> float:
        return float(self.n_samples)


class _StepRows:
    """The rows of each step: drawn as ``RandomState.choice(n, size, p=weights)`` draws them
    (uniforms looked up in the weights' cumulative sum), the sum made once. Unweighted
    rows are looked up without one: uniform ``u`` draws row ``floor(u * n)``."""

    def __init__(self, weights, random_state):
        self.random_state = random_state
        if isinstance(weights, _Ones):
            self.cdf, self.n_samples = None, weights.n_samples
            return
        self.cdf = np.cumsum(weights / weights.sum(dtype=np.float64))
        self.cdf /= self.cdf[-1]

    def __call__(self, size: int) -> np.ndarray:
        uniforms = self.random_state.random_sample(size)
        if self.cdf is None:
            return np.minimum((uniforms * self.n_samples).astype(np.int64), self.n_samples - 1)
        return self.cdf.searchsorted(uniforms, side="right")


class _State:
    """Counts, and scikit-learn's early-stopping state (``_mini_batch_convergence``)."""

    def __init__(self, n_clusters: int, dtype, n_samples: int, batch_size: int):
        self.counts = np.zeros(n_clusters, dtype)
        self.n_since_last_reassign = 0
        self.n_samples, self.batch_size, self.n_clusters = n_samples, batch_size, n_clusters
        self.ewa_inertia = self.ewa_inertia_min = None
        self.no_improvement = 0
        self.last_rows = batch_size
        self.first_inertia = 0.0

    def smoothed_inertia(self) -> float:
        """The smoothed mean batch inertia (the first batch's, after a single step)."""
        return self.first_inertia if self.ewa_inertia is None else self.ewa_inertia

    def random_reassign(self, rows: int) -> bool:
        """Whether this step may reassign: every ``10 * n_clusters`` rows, or while a
        centre has no member."""
        self.n_since_last_reassign += rows
        if (self.counts == 0).any() or self.n_since_last_reassign >= 10 * self.n_clusters:
            self.n_since_last_reassign = 0
            return True
        return False

    def converged(self, step, n_steps, shift, batch_inertia, tol, estimator) -> bool:
        """scikit-learn's tests: a small shift, or no better smoothed inertia for a while."""
        batch_inertia /= self.batch_size
        step += 1
        of = f"/{n_steps}" if n_steps else ""
        if step == 1:  # the first step's inertia is that of the initial centres
            self.first_inertia = batch_inertia
            if estimator.verbose:
                print(f"Minibatch step {step}{of}: mean batch inertia: {batch_inertia}")
            return False
        if self.ewa_inertia is None:
            self.ewa_inertia = batch_inertia
        else:
            alpha = min(self.batch_size * 2.0 / (self.n_samples + 1), 1)
            self.ewa_inertia = self.ewa_inertia * (1 - alpha) + batch_inertia * alpha
        if estimator.verbose:
            print(
                f"Minibatch step {step}{of}: mean batch inertia: {batch_inertia}, "
                f"ewa inertia: {self.ewa_inertia}"
            )
        if tol > 0 and shift <= tol:
            if estimator.verbose:
                print(f"Converged (small centers change) at step {step}{of}")
            return True
        if self.ewa_inertia_min is None or self.ewa_inertia < self.ewa_inertia_min:
            self.no_improvement = 0
            self.ewa_inertia_min = self.ewa_inertia
        else:
            self.no_improvement += 1
        limit = estimator.max_no_improvement
        if limit is not None and self.no_improvement >= limit:
            if estimator.verbose:
                print(f"Converged (lack of improvement in inertia) at step {step}{of}")
            return True
        return False
