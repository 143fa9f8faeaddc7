"""Fits on data that is never held whole: memmaps, other array-likes, ``tf.data`` datasets.

A *stream* is read one batch at a time, every pass: an ``np.memmap`` (or any 2-D
array-like that is not a NumPy array, such as an HDF5 dataset) in chunks of rows, a
``tf.data.Dataset`` element by element. Each package's batch core (``core.BatchCore``)
runs ``batch_ops`` on one batch; this module adds up what the batches return, on the host,
in float64, in the same order in both packages, so their fits stay bit-identical.

``lloyd`` is exact Lloyd: each iteration is one pass over the whole stream, and the
centres move to the means of all their members, as ``lloyd_ops.lloyd`` moves them on an
array (the sums are added batch by batch instead of chunk by chunk, so the two agree to
rounding, not bit for bit). Initial centres are drawn from an *init sample*
(``init_sample``): the first ``init_size`` rows of a dataset, which can only be read in
order, or ``init_size`` rows drawn at random from an array-like, as scikit-learn's
``MiniBatchKMeans`` draws its own.
"""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Callable, Iterator

import numpy as np

from kmeans_tutorial.engine._checks import check_float_dtype, first_bad_weight, is_sparse
from kmeans_tutorial.engine._sharing import aligned_empty, shareable
from kmeans_tutorial.engine.core import BatchCore
from kmeans_tutorial.validation import InvalidParameterError, all_finite

# A chunk of an array-like holds at most this many numbers (16 MiB in float32), and its
# distance matrix at most ``lloyd_ops.CHUNK_BUDGET``: the same cache-sized work as a chunk
# of an in-memory fit, and a few MiB of memory whatever the file's size.
CHUNK_NUMBERS = 2**22
MIN_CHUNK_ROWS = 256


def is_dataset(X) -> bool:
    """Whether ``X`` is a ``tf.data.Dataset`` (told without importing TensorFlow)."""
    return any(
        cls.__module__.startswith("tensorflow") and cls.__name__.startswith("Dataset")
        for cls in type(X).__mro__
    )


def is_stream(X) -> bool:
    """Whether ``X`` is read in batches: a dataset, an ``np.memmap``, or a 2-D array-like
    that is not in memory (not a NumPy array, tensor, dataframe, sparse matrix or list)."""
    if is_dataset(X) or isinstance(X, np.memmap):
        return True
    if isinstance(X, np.ndarray | list | tuple) or is_sparse(X) or hasattr(X, "columns"):
        return False
    module = type(X).__module__
    return (
        not module.startswith(("tensorflow", "numpy", "pandas", "torch", "jax"))
        and hasattr(X, "__getitem__")
        and hasattr(X, "dtype")
        and len(getattr(X, "shape", ())) == 2
    )


def batch_rows(n_samples: int) -> int:
    """Rows a batch is padded to, so that batches of nearby sizes share one program.

    Dense programs are compiled for one number of rows; padding to one of 8 sizes per
    power of two (at most a quarter more rows) bounds how many there are.
    """
    if n_samples <= 16:
        return 16
    step = 1 << ((n_samples - 1).bit_length() - 3)
    return -(-n_samples // step) * step


def padded(x: np.ndarray, w: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``w`` aligned for TensorFlow, with rows of zeros of weight 0 after them up
    to ``rows`` (they add nothing to sums or inertia; their labels are cut off)."""
    if rows == len(x):
        return shareable(x), shareable(w)
    padded_x, padded_w = aligned_empty((rows, x.shape[1]), x.dtype), np.zeros(rows, x.dtype)
    padded_x[: len(x)], padded_x[len(x) :] = x, 0
    padded_w[: len(x)] = w
    return padded_x, shareable(padded_w)


# A stream is read many times, in many batches: its programs are compiled when this many
# batches of their size would be worth compiling for (``lloyd_ops.compiles``).
STREAMED_BATCHES = 8


def compiles(rows: int, n_features: int, n_clusters: int) -> bool:
    """Whether a batch program for this batch shape is compiled by XLA, in both drivers."""
    from kmeans_tutorial.engine import lloyd_ops

    return lloyd_ops.compiles(STREAMED_BATCHES * rows, n_features, n_clusters)


class LocalBatchCore(BatchCore):
    """A batch core of one process: each batch padded to a size its programs are made for
    (``batch_rows``), run by the package's ``_run``, and its rows' results cut back."""

    def _run(self, name: str, x: np.ndarray, centers: np.ndarray, *inputs) -> list:
        """Program ``batch_ops.<name>`` for ``x``'s shape and ``len(centers)`` on
        ``(x, *inputs)``: a list of NumPy arrays."""
        raise NotImplementedError

    def batch_stats(self, x, w, centers, offset, with_moments=False):
        rows = len(x)
        x, w = padded(x, w, batch_rows(rows))
        name = "first_pass_stats" if with_moments else "batch_stats"
        labels, *stats = self._run(name, x, centers, w, centers, offset, rows)
        if not with_moments:
            stats.append(None)
        return labels[:rows], *stats, rows

    def batch_farthest(self, x, w, centers, offset):
        rows = len(x)
        x, w = padded(x, w, batch_rows(rows))
        return (*self._run("farthest", x, centers, w, centers, offset, rows), rows)

    def batch_labels_inertia(self, x, w, centers, offset):
        rows = len(x)
        x, w = padded(x, w, batch_rows(rows))
        labels, inertia = self._run("labels_inertia", x, centers, w, centers, offset)
        return labels[:rows], float(inertia)

    def batch_distances(self, x, centers, offset):
        rows = len(x)
        x, _ = padded(x, np.zeros(rows, x.dtype), batch_rows(rows))
        return self._run("transform", x, centers, centers, offset)[0][:rows]

    def minibatch_step(self, x, w, centers, counts, offset, reassign, ratio, uniforms):
        rows = len(x)
        x, w = padded(x, w, batch_rows(rows))
        drawn = np.full(len(x), 2.0)  # rows of padding are never drawn
        drawn[:rows] = uniforms
        inputs = (w, centers, counts, offset, reassign, ratio, drawn, rows)
        return self._run("minibatch_step", x, centers, *inputs)

    def sum_over_processes(self, value: int) -> int:
        return value


def chunk_rows(n_features: int, n_clusters: int) -> int:
    """Rows of an array-like read at once: a power of two within ``CHUNK_NUMBERS`` and
    ``lloyd_ops.CHUNK_BUDGET``, at least ``MIN_CHUNK_ROWS``."""
    from kmeans_tutorial.engine.lloyd_ops import CHUNK_BUDGET

    most = min(CHUNK_NUMBERS // n_features, CHUNK_BUDGET // n_clusters)
    return max(MIN_CHUNK_ROWS, 1 << max(0, most.bit_length() - 1))


def check_batch(
    x, start: int, n_features: int | None, dtype, name: str, finite: bool = True, batch=None
) -> np.ndarray:
    """One batch as a C-ordered float array; errors name the row in the whole stream (and
    ``batch``, a dataset's element number from 0, if given). ``finite``: also check that
    every value is finite. Nothing of a fit has changed when one is raised: a fit sets its
    attributes only at its end."""
    where = f"row {start}" if batch is None else f"row {start} (batch {batch})"
    x = np.asarray(x)
    if x.ndim != 2:
        raise InvalidParameterError(
            f"{name} must yield batches of shape (batch, n_features), got a batch of shape "
            f"{x.shape} at {where}; batch a dataset of rows with dataset.batch(n)."
        )
    if n_features is not None and x.shape[1] != n_features:
        raise InvalidParameterError(
            f"{name} has {x.shape[1]} features at {where}, {n_features} before."
        )
    x = np.ascontiguousarray(x, dtype=dtype)
    if finite and not all_finite(x):
        flat = int(np.flatnonzero(~np.isfinite(x.reshape(-1)))[0])
        row, column = start + flat // x.shape[1], flat % x.shape[1]
        value = x.reshape(-1)[flat]
        kind = "NaN" if np.isnan(value) else "infinity"
        within = "" if batch is None else f" (batch {batch})"
        raise InvalidParameterError(
            f"Input {name} contains {kind}: {value} at row {row}, column {column}{within}."
        )
    return x


def check_weights(w, start: int, rows: int, dtype) -> np.ndarray:
    w = np.asarray(w, dtype=dtype).reshape(-1) if w is not None else np.ones(rows, dtype)
    if w.shape != (rows,):
        raise InvalidParameterError(
            f"sample_weight must be one per row: {w.shape[0]} for {rows} rows at row {start}."
        )
    bad = first_bad_weight(w)
    if bad is not None:
        raise InvalidParameterError(
            f"sample_weight must be finite and >= 0, got {w[bad]} at row {start + bad}."
        )
    return w


class Stream:
    """A re-iterable source of checked batches ``(x, w)``, the same ones every pass.

    Attributes: ``n_features``, ``dtype``, ``n_samples`` (``None`` for a dataset until a
    pass has counted them), ``name``; ``checked``, once a whole pass has found every
    value finite (later passes read the same values, and skip that check).
    """

    n_features: int
    dtype: np.dtype
    n_samples: int | None
    name = "X"
    checked = False

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError

    def init_sample(self, size: int, random_state) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``size`` rows and their weights for the initial centres (module docstring)."""
        raise NotImplementedError


def _copy_on_write(X):
    """A read-only memmap of a whole file, mapped again copy-on-write: the same pages,
    but writeable, so that TensorFlow can read its chunks in place (``_sharing``) instead
    of copying each (nothing writes to it, so no page is ever copied)."""
    if (
        isinstance(X, np.memmap)
        and isinstance(X.base, mmap.mmap)  # the whole mapping, whose offset is its own
        and not X.flags.writeable
        and X.flags.c_contiguous
        and getattr(X, "filename", None)
    ):
        return np.memmap(X.filename, X.dtype, mode="c", offset=X.offset, shape=X.shape)
    return X


class ArrayStream(Stream):
    """An array-like read ``rows`` at a time; its weights are held whole (one number a row)."""

    def __init__(self, X, sample_weight, name: str = "X"):
        shape = tuple(X.shape)
        if len(shape) != 2:
            raise InvalidParameterError(
                f"{name} must be 2-D, of shape (n_samples, n_features), got shape {shape}."
            )
        if shape[0] == 0 or shape[1] == 0:
            raise InvalidParameterError(
                f"Found array with {'0 sample(s)' if shape[0] == 0 else '0 feature(s)'} "
                f"(shape={shape}) while a minimum of 1 is required."
            )
        self.X, self.name = _copy_on_write(X), name
        self.n_samples, self.n_features = shape
        self.dtype = check_float_dtype(np.dtype(X.dtype), name)
        self.weights = (
            None if sample_weight is None else check_weights(sample_weight, 0, shape[0], self.dtype)
        )
        if self.weights is not None and not self.weights.any():
            raise InvalidParameterError("sample_weight must not be all zero.")
        self.rows = MIN_CHUNK_ROWS
        self._file = _mapped_file(X)

    def _check_file(self, stop: int) -> None:
        """A memmapped file still holds the rows up to ``stop``: reading a page that a
        truncation removed would kill the process (SIGBUS), so that is told first."""
        if self._file is None:
            return
        path, offset, row_bytes = self._file
        try:
            size = os.stat(path).st_size
        except OSError as error:
            raise InvalidParameterError(
                f"{self.name}'s file {str(path)!r} cannot be read during the fit: {error}"
            ) from None
        if size < offset + stop * row_bytes:
            held = max(0, (size - offset) // row_bytes)
            raise InvalidParameterError(
                f"{self.name}'s file {str(path)!r} was truncated during the fit: it holds "
                f"{held} whole rows of {self.n_samples}, and the fit was reading up to row "
                f"{stop}."
            )

    def __iter__(self):
        for start in range(0, self.n_samples, self.rows):
            stop = min(start + self.rows, self.n_samples)
            self._check_file(stop)
            x = check_batch(self.X[start:stop], start, self.n_features, self.dtype, self.name)
            w = (
                np.ones(stop - start, self.dtype)
                if self.weights is None
                else self.weights[start:stop]
            )
            yield x, w

    def init_sample(self, size, random_state):
        # Drawn with replacement, as scikit-learn's MiniBatchKMeans draws its init rows:
        # without, NumPy would shuffle all n row numbers (8 bytes a row) to draw a few.
        rows = np.unique(random_state.randint(0, self.n_samples, size))
        self._check_file(int(rows[-1]) + 1)
        x = check_batch(self.X[rows], 0, self.n_features, self.dtype, self.name)
        w = np.ones(len(rows), self.dtype) if self.weights is None else self.weights[rows]
        return x, w


def _mapped_file(X):
    """``(path, offset, bytes a row)`` of a C-ordered ``np.memmap`` of a file, else None."""
    if not isinstance(X, np.memmap) or getattr(X, "filename", None) is None:
        return None
    if not X.flags.c_contiguous:
        return None
    return X.filename, X.offset, X.shape[1] * X.dtype.itemsize


def _dataset_parts(spec) -> tuple:
    """The element spec's (x, w-or-None) specs, or a clear error."""
    import tensorflow as tf

    def is_tensor(part):
        return isinstance(part, tf.TensorSpec)

    if is_tensor(spec):
        x_spec, w_spec = spec, None
    elif isinstance(spec, tuple) and len(spec) == 2 and all(map(is_tensor, spec)):
        x_spec, w_spec = spec
    else:
        raise InvalidParameterError(
            f"a dataset's elements must be float batches of shape (batch, n_features), or "
            f"(x, sample_weight) pairs of them, got elements {spec}."
        )
    if x_spec.shape.rank != 2:
        raise InvalidParameterError(
            f"a dataset's elements must be batches of shape (batch, n_features), got shape "
            f"{x_spec.shape}; batch a dataset of rows with dataset.batch(n)."
        )
    if w_spec is not None and w_spec.shape.rank not in (None, 1):
        raise InvalidParameterError(
            f"a dataset's sample weights must have shape (batch,), got shape {w_spec.shape}."
        )
    return x_spec, w_spec


def check_finite_dataset(dataset) -> None:
    """Refuse a dataset TensorFlow knows is infinite (``dataset.repeat()``): a pass over it
    would never end. One of unknown cardinality (a filter, a file reader) is read to its end."""
    import tensorflow as tf

    if int(dataset.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        raise InvalidParameterError(
            "the dataset is infinite (dataset.cardinality() is INFINITE_CARDINALITY): every "
            "pass of a fit reads it to its end; drop its .repeat(), or take a finite part "
            "with .take(n)."
        )


class DatasetStream(Stream):
    """A ``tf.data.Dataset`` of batches or ``(x, sample_weight)`` pairs, iterated eagerly."""

    def __init__(self, dataset, sample_weight=None, name: str = "X"):
        if sample_weight is not None:
            raise InvalidParameterError(
                "sample_weight must be given inside a dataset, as (x, sample_weight) "
                "elements, not as an argument."
            )
        check_finite_dataset(dataset)
        x_spec, self.w_spec = _dataset_parts(dataset.element_spec)
        self.dataset, self.name = dataset, name
        self.dtype = check_float_dtype(np.dtype(x_spec.dtype.as_numpy_dtype), name)
        self.n_features = x_spec.shape[1]
        self.n_samples = None
        if self.n_features is None:  # known once the first batch is read
            first = next(iter(self), None)
            self.n_features = None if first is None else first[0].shape[1]
        if self.n_features is None:
            raise InvalidParameterError("the dataset is empty: it has no rows to fit.")
        if self.n_features == 0:
            raise InvalidParameterError("Found array with 0 feature(s): the dataset's batches.")

    def __iter__(self):
        start = 0
        for batch, element in enumerate(self.dataset):
            x, w = (element, None) if self.w_spec is None else element
            finite = not self.checked
            x = check_batch(x.numpy(), start, self.n_features, self.dtype, self.name, finite, batch)
            w = check_weights(None if w is None else w.numpy(), start, len(x), self.dtype)
            start += len(x)
            yield x, w
        self.n_samples, self.checked = start, True

    def init_sample(self, size, random_state):
        xs, ws, taken = [], [], 0
        for x, w in self:
            xs.append(x[: size - taken])
            ws.append(w[: size - taken])
            taken += len(xs[-1])
            if taken >= size:
                break
        if not xs:
            raise InvalidParameterError("the dataset is empty: it has no rows to fit.")
        return np.concatenate(xs), np.concatenate(ws)


def as_stream(X, sample_weight=None, name: str = "X") -> Stream:
    """``X`` (a dataset or an array-like read in chunks) as a ``Stream``."""
    if is_dataset(X):
        return DatasetStream(X, sample_weight, name)
    return ArrayStream(X, sample_weight, name)


class Pass:
    """What one pass over a stream adds up, in float64, batch by batch in stream order."""

    def __init__(self, n_clusters: int, n_features: int):
        self.sums = np.zeros((n_clusters, n_features))
        self.weights = np.zeros(n_clusters)
        self.moments = np.zeros((2, n_features))
        self.inertia = 0.0
        self.n_samples = 0
        self.changed = 0

    def relocated(self, far: Farthest | None) -> tuple[np.ndarray, np.ndarray]:
        """Sums and weights with each empty cluster given one of the farthest rows, as
        ``lloyd_ops._relocate_empty_clusters`` gives them: the row leaves its cluster."""
        sums, weights = self.sums.copy(), self.weights.copy()
        empty = np.flatnonzero(weights == 0)
        # Every row on its centre: nothing to move (``lloyd_ops.empty_and_farthest``).
        if far is None or not len(empty) or not (far.distances > 0).any():
            return sums, weights
        for cluster, value, weight, label in zip(
            empty, far.values, far.weights, far.labels, strict=False
        ):
            moved = value * weight
            sums[label] -= moved
            weights[label] -= weight
            sums[cluster], weights[cluster] = moved, weight
        return sums, weights

    def mean_variance(self) -> float:
        """The mean over the features of each feature's variance (``base._mean_variance``)."""
        n = self.n_samples
        return float(np.mean(self.moments[1] / n - (self.moments[0] / n) ** 2))


class Farthest:
    """The ``n_clusters`` rows of a stream farthest from their own centre: larger distance
    first, earlier row on ties (``tf.math.top_k``'s order, the in-memory relocation's)."""

    def __init__(self, n_clusters: int, n_features: int):
        self.n_clusters = n_clusters
        self.distances, self.rows = np.empty(0), np.empty(0, np.int64)
        self.values, self.weights = np.empty((0, n_features)), np.empty(0)
        self.labels = np.empty(0, np.int64)

    def add(self, distances, rows, values, weights, labels, first_row: int) -> None:
        found = distances >= 0
        parts = [
            (self.distances, distances[found].astype(np.float64)),
            (self.rows, rows[found].astype(np.int64) + first_row),
            (self.values, values[found].astype(np.float64)),
            (self.weights, weights[found].astype(np.float64)),
            (self.labels, labels[found].astype(np.int64)),
        ]
        joined = [np.concatenate(pair) for pair in parts]
        keep = np.lexsort((joined[1], -joined[0]))[: self.n_clusters]
        self.distances, self.rows, self.values, self.weights, self.labels = (
            part[keep] for part in joined
        )


def farthest_pass(core, stream: Stream, centers, offset) -> Farthest:
    """One more pass, when a pass left a cluster empty: the rows to give it (rare, so the
    Lloyd pass itself never pays for finding them)."""
    far, first_row = Farthest(*centers.shape), 0
    for x, w in stream:
        result = core.batch_farthest(x, w, centers, offset)
        if result is None:
            break
        *candidates, rows = result
        far.add(*candidates, first_row)
        first_row += rows
    return far


Progress = Callable[[int, int, float, float], None]  # pass, rows done, seconds, inertia


def one_pass(
    core, stream: Stream, centers, offset, labels: list, progress: Progress | None, number: int
) -> Pass:
    """Assign every batch to ``centers`` and add it up.

    ``labels`` holds the previous pass's labels (empty on the first) and is given this
    pass's: one array for all rows when their number is known (a list of one array per
    batch would cost the same again in small arrays), else one array per batch. Under
    ``tf.distribute`` the core all-reduces what the batches add up, and the labels are
    those of the rows this process read.
    """
    n_clusters, n_features = centers.shape
    total = Pass(n_clusters, n_features)
    started, local = time.perf_counter(), 0
    for index, (x, w) in enumerate(stream):
        result = core.batch_stats(x, w, centers, offset, number == 1)
        if result is None:  # the core read the end of the data (its workers read it)
            break
        batch_labels, sums, weights, inertia, moments, rows = result
        if index == 0 and stream.n_samples is not None and len(labels) != 1:
            # One array from now on: all -1 before the first pass, else the first pass's.
            whole = np.concatenate(labels) if labels else np.full(stream.n_samples, -1, np.int32)
            labels[:] = [whole]
        n_local = len(batch_labels)
        if stream.n_samples is not None:
            previous = labels[0][local : local + n_local]
        else:
            previous = labels[index] if index < len(labels) else None
        if previous is None:
            total.changed += n_local
            labels.append(batch_labels)
        else:
            total.changed += int(np.count_nonzero(previous != batch_labels))
            previous[...] = batch_labels
        total.sums += sums
        total.weights += weights
        total.inertia += float(inertia)
        if moments is not None:
            total.moments += moments
        total.n_samples += int(rows)
        local += n_local
        if progress is not None:
            progress(number, local, time.perf_counter() - started, total.inertia)
    total.changed = core.sum_over_processes(total.changed)
    return total


def stopped(unchanged: bool, shift: float, tol: float) -> bool:
    """``lloyd_ops.stopped`` on the host: the labels did not change, or the summed squared
    centre shift is at most ``tol``."""
    return unchanged or shift <= tol


def lloyd(
    core,
    stream: Stream,
    centers,
    offset,
    max_iter: int,
    tol: float,
    verbose=0,
    progress=None,
    checkpoint=None,
    log=None,
):
    """Exact Lloyd on a stream from ``centers`` (in ``X - offset`` coordinates).

    scikit-learn's rules, as ``lloyd_ops.lloyd``: stop when the labels are those of the
    previous pass, or the summed squared centre shift is at most ``tol`` times the data's
    mean per-feature variance (known after the first pass), or after ``max_iter`` passes;
    then assign once more, to the final centres.

    ``checkpoint`` (``checkpoints.RunsCheckpoint``) is saved after every pass; if it holds
    a pass of this run, the run resumes after it (``centers`` is then ``None``), making
    that pass's labels again first, with the centres that made them. ``log(iteration,
    inertia)`` is told each pass's inertia (of its rows to the centres they were assigned).

    Returns
    -------
    labels (n_samples,) int32, inertia, centers (k, d) of the stream's dtype, n_iter
    """
    labels: list = []
    absolute_tol, first, last = None, 1, max_iter
    resumed = None if checkpoint is None else checkpoint.take_pass()
    if resumed is not None:
        centers, absolute_tol = resumed.centers, resumed.absolute_tol
        first = resumed.iteration + 1
        if resumed.stopped:
            last = resumed.iteration
        else:
            one_pass(core, stream, resumed.previous, offset, labels, None, resumed.iteration)
    iteration = first - 1
    for iteration in range(first, last + 1):
        started = time.perf_counter()
        total = one_pass(core, stream, centers, offset, labels, progress, iteration)
        if absolute_tol is None:
            absolute_tol = total.mean_variance() * tol
        far = farthest_pass(core, stream, centers, offset) if (total.weights == 0).any() else None
        sums, weights = total.relocated(far)
        new_centers = average_centers(sums, weights).astype(centers.dtype)
        shift = float(np.sum(np.square(new_centers.astype(np.float64) - centers)))
        previous, centers = centers, new_centers
        if verbose:
            print(
                f"  pass {iteration}: inertia {total.inertia:.6g}, shift {shift:.3g}, "
                f"{time.perf_counter() - started:.3f} s"
            )
        stop = stopped(iteration > 1 and total.changed == 0, shift, absolute_tol)
        if log is not None:
            log(iteration, total.inertia)
        if checkpoint is not None:
            checkpoint.save_pass(
                iteration, centers, previous, absolute_tol, stop or iteration == max_iter
            )
        if stop:
            break
    del labels  # this pass's labels are made afresh: never two copies at once
    labels, inertia = assign(core, stream, centers, offset, progress, iteration + 1)
    return labels, inertia, centers, iteration


def average_centers(sums: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``lloyd_ops.average_centers`` on the host: the weighted means, a cluster of weight 0
    on the heaviest cluster's centre, never ``nan``."""
    filled = weights > 0
    means = sums / np.where(filled, weights, 1)[:, np.newaxis]
    return np.where(filled[:, np.newaxis], means, means[np.argmax(weights)])


def assign(
    core, stream: Stream, centers, offset, progress=None, number=0
) -> tuple[np.ndarray, float]:
    """Nearest-centre labels of every row of the stream, and their weighted inertia.

    Written into one array when the number of rows is known, so labels are never held
    twice (a list of parts, then their concatenation) at the end of a large fit.
    """
    known = stream.n_samples
    out = np.empty(known, np.int32) if known is not None else None
    parts, inertia, done, started = [], 0.0, 0, time.perf_counter()
    for x, w in stream:
        result = core.batch_labels_inertia(x, w, centers, offset)
        if result is None:
            break
        labels, batch_inertia = result
        rows = len(labels)
        if out is None:
            parts.append(labels)
        else:
            out[done : done + rows] = labels
        inertia += float(batch_inertia)
        done += rows
        if progress is not None:
            progress(number, done, time.perf_counter() - started, inertia)
    return (np.concatenate(parts) if out is None else out), inertia


def distances(core, stream: Stream, centers, offset) -> np.ndarray:
    """Euclidean distances of every row of the stream to ``centers``: (n_samples, k)."""
    return np.concatenate([core.batch_distances(x, centers, offset) for x, _ in stream])
