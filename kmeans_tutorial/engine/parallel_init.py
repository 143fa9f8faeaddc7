"""k-means|| (Bahmani, Moseley, Vattani, Kumar and Vassilvitskii, 2012): k-means++'s
seeding in a few passes over the data instead of one pass a centre, for data read in
batches, in whatever order it is stored.

As Spark MLlib runs it (``initSteps``, 2 by default) and RAPIDS cuML names it
(``oversampling_factor``, 2 by default):

1. a first centre, one row drawn in proportion to its weight (a pass);
2. ``init_steps`` rounds, each one pass: every row is taken as a candidate with probability
   ``min(1, l * cost / phi)``, where ``cost`` is its weight times its squared distance to
   the nearest candidate so far, ``phi`` the sum of all rows' costs and ``l`` is
   ``oversampling_factor * n_clusters`` (about ``l`` rows a round);
3. one pass weighing each candidate by the weight of the rows nearest to it;
4. in memory, weighted k-means++ on the candidates and Lloyd iterations on them (Spark's
   local step: at most ``LOCAL_ITERATIONS``), the best of ``LOCAL_RUNS`` such runs giving
   the ``n_clusters`` centres.

A round's probabilities need ``phi``, known only at the end of its pass. Each row's draw is
therefore made as the pass reads it, as a key ``cost / u`` (``u`` uniform in (0, 1], the
fit's generator's, a batch at a time): the row is taken if its key exceeds ``phi / l``
once ``phi`` is known, which is the probability above. Only the ``most_kept`` largest keys
are kept on the way (``2 l + 64`` rows; more than that exceed ``phi / l`` with a
probability far below 1e-9), so memory stays a few rows per centre and no cost is held per
row. Distances are taken by the package's batch programs, the rest in NumPy in one order,
so both packages draw the same candidates and end bit-identical.

Passes: ``init_steps + 2``; a round's distances are to every candidate so far, about
``1 + step * l`` of them. Every draw is one uniform a row, in the rows' order, so the same
rows batched another way draw the same candidates (their distances may differ in the last
bits, from programs of other shapes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError
from kmeans_tutorial.engine.batch_core import LocalBatchCore, batch_rows
from kmeans_tutorial.engine.coordinates import DataCore
from kmeans_tutorial.engine.data import SparseRows
from kmeans_tutorial.engine.init import initial_centers
from kmeans_tutorial.engine.sources import CHUNK_NUMBERS, MIN_CHUNK_ROWS, Reservoir

NAME = "k-means||"
# Spark's LocalKMeans runs this many Lloyd iterations on the weighted candidates, once; the
# best of a few runs is kept here, since a run on the candidates costs no pass over the data
# and one run alone lands in a poor local minimum as often as k-means++ on all the data does
# (docs/BENCHMARKS.md, "Data stored in order").
LOCAL_ITERATIONS = 30
LOCAL_RUNS = 5

Batches = Iterable[tuple[np.ndarray, np.ndarray]]


def check_params(oversampling_factor: object, init_steps: object) -> tuple[float, int]:
    """The checked ``oversampling_factor`` (a finite number > 0) and ``init_steps`` (an
    int >= 1)."""
    factor = oversampling_factor
    if (
        isinstance(factor, bool)
        or not isinstance(factor, int | float | np.integer | np.floating)
        or not np.isfinite(factor)
        or factor <= 0
    ):
        raise InvalidParameterError(
            f"oversampling_factor={factor!r} should be a finite number > 0."
        )
    steps = init_steps
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise InvalidParameterError(f"init_steps={steps!r} should be an int >= 1.")
    return float(factor), int(steps)


def most_candidates(n_clusters: int, oversampling_factor: float, init_steps: int) -> int:
    """The most candidates the rounds can keep: the first centre and ``most_kept`` a round."""
    return 1 + init_steps * (int(2 * np.ceil(oversampling_factor * n_clusters)) + 64)


class RowChunks:
    """The rows of data held in memory (a dense array or ``SparseRows``) as dense batches of
    a few MiB with their weights, the same every pass."""

    def __init__(self, X: np.ndarray | SparseRows, weights: np.ndarray, n_candidates: int):
        self.X, self.weights = X, weights
        n_features = X.shape[1]
        most = max(1, min(CHUNK_NUMBERS // n_features, CHUNK_NUMBERS // max(1, n_candidates)))
        self.chunk_rows = max(MIN_CHUNK_ROWS, most)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(self.weights)
        for start in range(0, n, self.chunk_rows):
            stop = min(start + self.chunk_rows, n)
            if isinstance(self.X, SparseRows):
                x = self.X.rows(np.arange(start, stop))
            else:
                x = self.X[start:stop]
            yield x, self.weights[start:stop]


class Candidates:
    """The candidates so far, and the squared distances of a batch's rows to them, taken by
    a batch core's ``nearest`` program around ``offset``. The candidates are padded with
    copies of the first to one of a few sizes (``batch_rows``), so that the rounds share
    programs: a copy changes no nearest distance, and a tie goes to the first."""

    def __init__(self, first: np.ndarray, core: LocalBatchCore, offset: np.ndarray):
        self.rows, self.core, self.offset = first[None, :].astype(np.float64), core, offset
        self.dtype = first.dtype
        self._padded: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, rows: np.ndarray) -> None:
        self.rows = np.concatenate([self.rows, rows.astype(np.float64)])
        self._padded = None

    def padded(self) -> np.ndarray:
        if self._padded is None:
            size = batch_rows(len(self.rows))
            padding = np.repeat(self.rows[:1], size - len(self.rows), axis=0)
            centred = np.concatenate([self.rows, padding]) - self.offset
            self._padded = centred.astype(self.dtype)
        return self._padded

    def nearest(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's squared distance to its nearest candidate (float64) and that
        candidate's number."""
        labels, squared = self.core.batch_nearest(x, self.padded(), self.offset)
        return squared.astype(np.float64), labels


def first_row(batches: Batches, n_features: int, dtype: np.dtype, random_state) -> np.ndarray:
    """One row drawn in proportion to its weight, from a pass (``Reservoir``): the same row
    however the data is held or batched, since the draws are one uniform a row."""
    reservoir = Reservoir(1, n_features, dtype)
    for x, w in batches:
        reservoir.add(x, w, random_state)
    return reservoir.sample()[0][0]


def sampling_round(
    batches: Batches, candidates: Candidates, expected: float, random_state
) -> np.ndarray:
    """One round: the rows drawn with probability ``min(1, expected * cost / phi)``."""
    most_kept = most_candidates(1, expected, 1) - 1
    keys, rows = np.empty(0), None
    numbers, seen, phi = np.empty(0, np.int64), 0, 0.0
    for x, w in batches:
        squared, _ = candidates.nearest(x)
        cost = w.astype(np.float64) * squared
        uniforms = 1.0 - random_state.random_sample(len(x))
        phi += float(cost.sum())
        batch_keys = cost / uniforms
        enter = batch_keys > (keys.min() if len(keys) >= most_kept else 0.0)
        batch_numbers = np.arange(seen, seen + len(x))[enter]
        seen += len(x)
        keys = np.concatenate([keys, batch_keys[enter]])
        numbers = np.concatenate([numbers, batch_numbers])
        rows = x[enter] if rows is None else np.concatenate([rows, x[enter]])
        keep = np.lexsort((numbers, -keys))[:most_kept]  # equal keys: the earlier row
        keys, numbers, rows = keys[keep], numbers[keep], rows[keep]
    if rows is None or phi == 0.0:  # every row on a candidate: nothing left to draw
        return np.empty((0, candidates.rows.shape[1]))
    taken = keys > phi / expected
    order = np.argsort(numbers[taken], kind="stable")  # in the data's order
    return rows[taken][order]


def candidate_weights(batches: Batches, candidates: Candidates) -> np.ndarray:
    """The summed weight of the rows nearest to each candidate (a pass)."""
    weights = np.zeros(len(candidates))
    for x, w in batches:
        _, labels = candidates.nearest(x)
        weights += np.bincount(labels, w.astype(np.float64), minlength=len(weights))[: len(weights)]
    return weights


def kmeans_parallel(
    batches: Batches,
    core: LocalBatchCore,
    offset: np.ndarray,
    local_core: Callable[[np.ndarray, np.ndarray], DataCore],
    n_clusters: int,
    oversampling_factor: float,
    init_steps: int,
    random_state: np.random.RandomState,
    dtype: np.dtype,
) -> np.ndarray:
    """``n_clusters`` initial centres of the data that ``batches`` yields (the same rows every
    pass), in the data's coordinates (module docstring).

    ``core`` runs the distance programs around ``offset``; ``local_core(rows, weights)`` is
    an in-memory core on the candidates, for the last step; ``dtype`` the data's."""
    first = first_row(batches, offset.shape[0], dtype, random_state)
    candidates = Candidates(first, core, offset)
    expected = oversampling_factor * n_clusters
    for _ in range(init_steps):
        drawn = sampling_round(batches, candidates, expected, random_state)
        if not len(drawn):
            break
        candidates.add(drawn)
    rows = candidates.rows.astype(first.dtype)
    if len(rows) <= n_clusters:  # fewer distinct rows than clusters: every one, and repeats
        return rows[np.arange(n_clusters) % len(rows)]
    counts = candidate_weights(batches, candidates).astype(first.dtype)
    # Padded to one of a few sizes with copies of the first candidate of weight 0 (never
    # drawn, adding nothing), so that the local runs of another fit reuse these programs.
    size = batch_rows(len(rows))
    rows = np.concatenate([rows, np.repeat(rows[:1], size - len(rows), axis=0)])
    counts = np.concatenate([counts, np.zeros(size - len(counts), counts.dtype)])
    local = local_core(rows, counts)
    best, best_inertia = rows[:n_clusters], np.inf
    for _ in range(LOCAL_RUNS):
        start = initial_centers("k-means++", local, n_clusters, random_state, rows)
        _, inertia, centers, _ = local.lloyd(start, LOCAL_ITERATIONS, 0.0)
        if inertia < best_inertia:
            best, best_inertia = centers, inertia
    return best
