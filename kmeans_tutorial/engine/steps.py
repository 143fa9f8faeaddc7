"""The parts of ``MiniBatchKMeans``'s step loop (``minibatch.MiniBatchKMeans._steps``): the
rows a fit draws from (``Rows``, ``InitPool``, ``StepRows``), the two kinds of batches it
steps on (``DrawnBatches``: rows drawn from data held or read at will; ``DatasetBatches``: a
dataset's elements in order), and scikit-learn's early-stopping state (``State``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from kmeans_tutorial.engine import checks, sources, streamed
from kmeans_tutorial.engine.data import SparseRows


class Rows:
    """Rows of the data by index, as a dense float array: an array, CSR or an array-like."""

    def __init__(self, X):
        self.X = X

    def __len__(self) -> int:
        return self.X.n_rows if isinstance(self.X, sources.ArrayStream) else int(self.X.shape[0])

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


class InitPool:
    """The rows initial centres are drawn from: ``init_size`` of them drawn at random (with
    replacement, as scikit-learn draws them) for each init, or all if there are no more."""

    def __init__(self, rows: Rows, weights, init_size: int):
        self.rows, self.weights, self.init_size = rows, weights, init_size

    def draw(self, random_state) -> tuple[np.ndarray, np.ndarray]:
        """Rows and their weights for one init."""
        n = len(self.rows)
        chosen = random_state.randint(0, n, self.init_size) if self.init_size < n else np.arange(n)
        return self.rows[chosen], self.weights[chosen]


class DrawnBatches:
    """The batches of a fit on rows held or read at will: ``batch_size`` rows drawn for
    each of steps ``first`` to ``n_steps - 1`` (``StepRows``), of weight 1 (the draw was
    weighted); a pass is ``n_samples`` rows' worth of steps."""

    progress: streamed.Progress | None = None
    in_order = False  # the rows are drawn at random

    def __init__(self, rows, draw, batch_size: int, n_steps: int, first: int, dtype):
        self.rows, self.draw, self.batch_size, self.dtype = rows, draw, batch_size, dtype
        self.n_steps, self.first = n_steps, first
        self.n_samples = len(rows)
        self.started = time.perf_counter()

    def __iter__(self):
        ones = np.ones(self.batch_size, self.dtype)
        for _ in range(self.first, self.n_steps):
            yield self.rows[self.draw(self.batch_size)], ones

    def stepped(self, step: int, state: State) -> int | None:
        """After step ``step``: the pass it completed, if it completed one."""
        done, n = (step + 1) * self.batch_size, self.n_samples
        if self.progress is not None:
            self.progress(
                done // n + 1,
                done % n,
                time.perf_counter() - self.started,
                state.smoothed_inertia() * n,
            )
        return done // n if done // n > step * self.batch_size // n else None

    def is_last(self, step: int) -> bool:
        return step + 1 == self.n_steps

    def where(self) -> dict:
        """Where the fit is, for a checkpoint: a step says it all."""
        return {}


class DatasetBatches:
    """The batches of a fit on a dataset: its elements, in its order, for each of
    ``passes``; the first ``skip`` elements of the first pass are read and not stepped on
    (a resumed pass: a dataset is read in order). ``pass_ended(number)`` is told of each
    pass read to its end."""

    n_steps = None  # not known before the dataset ends

    @property
    def in_order(self) -> bool:
        """Whether the rows still come as the dataset stores them, unseen ones to come: in
        its first pass. Data stored in order (sorted by cluster, by day) then makes a
        centre whose rows have not come yet look small, and the batches' inertia change
        with what they hold, not with how well the centres fit; so the first pass moves no
        small centre and does not stop for lack of improvement (``MiniBatchKMeans._steps``).
        """
        return self.pass_number == 0

    def __init__(self, stream: sources.Stream, passes: range, skip: int):
        self.stream, self.passes, self.skip = stream, passes, skip
        self.pass_number, self.position = 0, 0
        self.pass_ended: Callable[[int], None] | None = None

    def __iter__(self):
        for pass_number in self.passes:
            self.pass_number = pass_number
            for position, (x, w) in enumerate(self.stream, start=1):
                self.position = position
                if position > self.skip:
                    yield x, w
            self.skip = 0
            if self.pass_ended is not None:
                self.pass_ended(pass_number + 1)

    def stepped(self, step: int, state: State) -> None:
        # The first pass counts the rows as it goes (scikit-learn's smoothing weight needs
        # them); a dataset says how many only at its end.
        rows_so_far = (step + 1) * state.last_rows
        state.n_samples = self.stream.n_samples or max(state.n_samples, rows_so_far)
        return None

    def is_last(self, step: int) -> bool:
        return False

    def where(self) -> dict:
        """Where the fit is, for a checkpoint: the pass, the element read in it, and the
        dataset's rows once a pass has counted them."""
        return {
            "pass_number": self.pass_number,
            "position": self.position,
            "stream_rows": self.stream.n_samples,
        }


class Ones:
    """The weights of an unweighted array-like: 1 a row, never held (a memmap of 20 million
    rows would need 80 MB for them, and their cumulative sum 160 MB more)."""

    def __init__(self, n_samples: int, dtype):
        self.n_samples, self.dtype = n_samples, dtype

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return np.ones(len(rows), self.dtype)

    def sum(self, dtype=None) -> float:
        return float(self.n_samples)


class StepRows:
    """The rows of each step: drawn as ``RandomState.choice(n, size, p=weights)`` draws them
    (uniforms looked up in the weights' cumulative sum), the sum made once. Unweighted
    rows are looked up without one: uniform ``u`` draws row ``floor(u * n)``."""

    def __init__(self, weights, random_state):
        self.random_state = random_state
        if isinstance(weights, Ones):
            self.cdf, self.n_samples = None, weights.n_samples
            return
        self.cdf = np.cumsum(weights / weights.sum(dtype=np.float64))
        self.cdf /= self.cdf[-1]

    def __call__(self, size: int) -> np.ndarray:
        uniforms = self.random_state.random_sample(size)
        if self.cdf is None:
            return np.minimum((uniforms * self.n_samples).astype(np.int64), self.n_samples - 1)
        return self.cdf.searchsorted(uniforms, side="right")


class State:
    """Counts, and scikit-learn's early-stopping state (``_mini_batch_convergence``)."""

    max_no_improvement: int | None = None

    def __init__(self, n_clusters: int, dtype, n_samples: int, batch_size: int, verbose=0):
        self.verbose = verbose
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

    def converged(self, step, n_steps, shift, batch_inertia, tol, patient=False) -> bool:
        """scikit-learn's tests: a small shift, or no better smoothed inertia for a while;
        ``patient``: not the second (a dataset's first pass: ``DatasetBatches.in_order``)."""
        batch_inertia /= self.batch_size
        step += 1
        of = f"/{n_steps}" if n_steps else ""
        if step == 1:  # the first step's inertia is that of the initial centres
            self.first_inertia = batch_inertia
            if self.verbose:
                print(f"Minibatch step {step}{of}: mean batch inertia: {batch_inertia}")
            return False
        if self.ewa_inertia is None:
            self.ewa_inertia = batch_inertia
        else:
            alpha = min(self.batch_size * 2.0 / (self.n_samples + 1), 1)
            self.ewa_inertia = self.ewa_inertia * (1 - alpha) + batch_inertia * alpha
        if self.verbose:
            print(
                f"Minibatch step {step}{of}: mean batch inertia: {batch_inertia}, "
                f"ewa inertia: {self.ewa_inertia}"
            )
        if tol > 0 and shift <= tol:
            if self.verbose:
                print(f"Converged (small centers change) at step {step}{of}")
            return True
        if patient or self.ewa_inertia_min is None or self.ewa_inertia < self.ewa_inertia_min:
            self.no_improvement = 0
            self.ewa_inertia_min = self.ewa_inertia
        else:
            self.no_improvement += 1
        limit = self.max_no_improvement
        if limit is not None and self.no_improvement >= limit:
            if self.verbose:
                print(f"Converged (lack of improvement in inertia) at step {step}{of}")
            return True
        return False
