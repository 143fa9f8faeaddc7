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
looked up in it (``steps.StepRows``).

On a ``tf.data.Dataset`` the mini-batches are the dataset's own elements, in its order
(shuffle and batch it as you like), and ``max_iter`` counts passes over it; the initial
centres are drawn from ``init_size`` of its rows sampled from a whole pass
(``sources.Reservoir``). Its first pass reassigns no centre and does not stop for lack of
improvement (``steps.DatasetBatches.in_order``): data stored in order would otherwise
undo the initial centres of the clusters still to come.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError, check_int
from kmeans_tutorial.engine import checkpoints, sources, steps, streamed
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
        bit-identical to a fit never stopped (``KMeans``'s; ``partial_fit`` ignores it);
        with a larger ``max_iter``, a finished fit continues to it.
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
            weights = X.weights if X.weights is not None else steps.Ones(X.n_samples, X.dtype)
            n_samples, n_features, dtype = X.n_samples, X.n_features, X.dtype
        else:
            X = check_data(X, estimator_name=type(self).__name__)
            if self._cosine:
                X = unit_rows(X)
            (n_samples, n_features), dtype = X.shape, X.dtype
            weights = (
                steps.Ones(n_samples, dtype)
                if sample_weight is None
                else check_sample_weight(sample_weight, n_samples, dtype)
            )
        init, n_init, batch_size, init_size = self._check_minibatch_params(
            n_samples, n_features, dtype
        )
        random_state = check_random_state(self.random_state)
        checkpoint = self._open_steps_checkpoint(random_state)
        summaries = self._summary_writer()
        rows = steps.Rows(X)
        validation = random_state.randint(0, n_samples, init_size)
        X_valid, weights_valid = rows[validation], weights[validation]
        offset = column_mean(X_valid)
        pool = steps.InitPool(rows, weights, init_size)
        centers = self._best_init(
            pool, (X_valid, weights_valid), offset, init, n_init, random_state
        )
        tol = 0.0 if self.tol == 0 else self._variance(X, offset) * self.tol
        state = steps.State(self.n_clusters, dtype, n_samples, batch_size, self.verbose)
        state.max_no_improvement = self.max_no_improvement
        core = self.driver.batch_core()
        step, converged = -1, False
        if checkpoint is not None:
            checkpoint.check(checkpoints.fingerprint(self, n_features, dtype, X_valid, n_samples))
            resumed = checkpoint.resume(state)
            if resumed is not None:
                step, centers, converged, *_ = resumed
        n_steps = (self.max_iter * n_samples) // batch_size
        # A fit saved at its max_iter's last step goes on to a larger max_iter's.
        first = n_steps if converged else min(step + 1, n_steps)
        draw = steps.StepRows(weights, random_state)
        batches = steps.DrawnBatches(rows, draw, batch_size, n_steps, first, dtype)
        batches.progress = self._progress
        step, centers, _ = self._steps(
            core, state, batches, centers, offset, random_state, tol, checkpoint, summaries, step
        )
        self._set_steps_fitted(step, batch_size, state, centers + offset, n_features)
        if self.compute_labels:
            self.labels_, self.inertia_ = self._assign_all(X, weights)
        else:
            self.inertia_ = float(state.smoothed_inertia() * weights.sum(dtype=np.float64))
            self.inertia_ /= 2 if self._cosine else 1
        return self

    def _steps(
        self, core, state, batches, centers, offset, random_state, tol, checkpoint, summaries,
        step,
    ):  # fmt: skip
        """The mini-batch steps on ``batches`` (drawn rows, or a dataset's elements), from
        step ``step + 1``: each one step, a convergence test, and when due a checkpoint and
        a pass's summary. Returns the last step, the centres, and whether it converged."""
        stopped = False
        for x, w in batches:
            step += 1
            centers, batch_inertia, shift = self._step(
                core, state, x, w, centers, offset, random_state, tol, not batches.in_order
            )
            finished_pass = batches.stepped(step, state)
            stopped = state.converged(
                step, batches.n_steps, shift, batch_inertia, tol, patient=batches.in_order
            )
            if summaries is not None and finished_pass is not None:
                summaries.scalar(
                    "inertia", finished_pass, state.smoothed_inertia() * state.n_samples
                )
            last = batches.is_last(step)
            if checkpoint is not None and (
                stopped or last or (step + 1) % self.checkpoint_steps == 0
            ):
                checkpoint.save_step(step, centers, state, stopped, **batches.where())
            if stopped:
                break
        return step, centers, stopped

    def _set_steps_fitted(self, step, batch_size, state, centers, n_features) -> None:
        """The fitted attributes a fit of ``step + 1`` steps sets, but the labels."""
        self.n_steps_ = step + 1
        self.n_iter_ = math.ceil(self.n_steps_ * batch_size / state.n_samples)
        self._counts, self._n_since_last_reassign = state.counts, state.n_since_last_reassign
        self.cluster_centers_ = centers
        self.n_features_in_ = n_features

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

    def _best_init(self, pool: steps.InitPool, judge: tuple, offset, init, n_init, random_state):
        """Initial centres in the steps' coordinates (around ``offset``; on the unit sphere
        for cosine): ``init`` given, or the best of ``n_init`` drawn from samples of
        ``pool``, judged by their inertia on the rows and weights ``judge``."""
        if isinstance(init, np.ndarray):
            centers = init
        else:
            best_inertia = None
            judging = self._core(shareable(judge[0]), shareable(judge[1]), offset)
            for run in range(n_init):
                sample, sample_weights = pool.draw(random_state)
                core = self._core(shareable(sample), shareable(sample_weights), offset)
                drawn = initial_centers(init, core, self.n_clusters, random_state, sample)
                _, inertia = judging.labels_inertia(drawn)
                if self.verbose:
                    print(f"Inertia for init {run + 1}/{n_init}: {inertia}")
                if best_inertia is None or inertia < best_inertia:
                    centers, best_inertia = drawn, inertia
        centers = centers - offset
        return unit_centers(centers, offset) if self._cosine else centers

    def _step(self, core, state, x, w, centers, offset, random_state, tol, may_reassign=True):
        """One mini-batch step on batch ``x``: (new centres, batch inertia, squared shift);
        ``may_reassign``: whether small centres may move onto rows of the batch."""
        on_host = isinstance(x, np.ndarray)
        rows = len(x) if on_host else self.batch_size  # a distributed batch: its size
        due = state.random_reassign(rows)
        reassign = due and may_reassign and self.reassignment_ratio > 0
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
        weights = None if isinstance(weights, steps.Ones) else weights
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
        rows = steps.Rows(sample)
        validation = random_state.randint(0, len(sample), init_size)
        offset = column_mean(sample)
        pool = steps.InitPool(rows, sample_weights, init_size)
        judge = (sample[validation], sample_weights[validation])
        centers = self._best_init(pool, judge, offset, init, n_init, random_state)
        tol = 0.0 if self.tol == 0 else mean_variance(sample, offset) * self.tol
        n_rows = len(sample) if stream.n_samples is None else stream.n_samples
        state = steps.State(self.n_clusters, dtype, n_rows, self.batch_size, self.verbose)
        state.max_no_improvement = self.max_no_improvement
        step, done, first_pass, skip = -1, False, 0, 0
        if checkpoint is not None:
            checkpoint.check(checkpoints.fingerprint(self, n_features, dtype, sample, None))
            resumed = checkpoint.resume(state)
            if resumed is not None:
                step, centers, done, first_pass, skip, stream.n_samples = resumed
        # Saved after its max_iter's last pass (not converged), a fit goes on to a larger's.
        passes = range(first_pass, 0 if done else self.max_iter)
        batches = steps.DatasetBatches(stream, passes, skip)
        if summaries is not None:
            batches.pass_ended = lambda number: summaries.scalar(
                "inertia", number, state.smoothed_inertia() * state.n_samples
            )
        step, centers, stopped = self._steps(
            core, state, batches, centers, offset, random_state, tol, checkpoint, summaries, step
        )
        if checkpoint is not None and not (done or stopped) and len(passes):  # the last ended
            checkpoint.save_step(step, centers, state, False, self.max_iter, 0, stream.n_samples)
        self._set_steps_fitted(step, self.batch_size, state, centers + offset, n_features)
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
        rows = steps.Rows(X)
        if not fitted:
            n_samples, n_features = X.shape
            init, _, _, init_size = self._check_minibatch_params(n_samples, n_features, X.dtype)
            offset = np.zeros(X.shape[1], X.dtype)
            pool = steps.InitPool(rows, weights, init_size)
            judge = (rows[np.arange(len(rows))], weights)
            centers = self._best_init(pool, judge, offset, init, 1, random_state)
            self.n_steps_ = 0
            self._counts = np.zeros(self.n_clusters, X.dtype)
            self._n_since_last_reassign = 0
            self.n_features_in_ = X.shape[1]
        else:
            centers = self.cluster_centers_.astype(X.dtype)
        state = steps.State(self.n_clusters, X.dtype, X.shape[0], X.shape[0])
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
