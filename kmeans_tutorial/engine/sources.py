"""Data that is never held whole, as streams of checked batches: memmaps, other array-likes,
``tf.data`` datasets.

A *stream* is read one batch at a time, every pass: an ``np.memmap`` (or any 2-D
array-like that is not a NumPy array, such as an HDF5 dataset) in chunks of rows, a
``tf.data.Dataset`` element by element. The streamed fits (``streamed``, ``minibatch``)
read them; each batch is checked on its way (``checks.check_batch``).

Initial centres of a streamed fit are drawn from an *init sample* (``Stream.init_sample``):
rows drawn at random from an array-like, which can be read at any row, as scikit-learn's
``MiniBatchKMeans`` draws its own; or, from a dataset, which can only be read in order, a
sample of all its rows kept as one pass reads them (``Reservoir``), so that data stored in
order (sorted by cluster, by day) starts from every cluster, not the first ones.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError
from kmeans_tutorial.engine.checks import check_batch, check_float_dtype, check_weights, is_sparse

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


def chunk_rows_for(n_features: int, n_clusters: int) -> int:
    """Rows of an array-like read at once: a power of two within ``CHUNK_NUMBERS`` and
    ``lloyd_ops.CHUNK_BUDGET``, at least ``MIN_CHUNK_ROWS``."""
    from kmeans_tutorial.engine.lloyd_ops import CHUNK_BUDGET

    most = min(CHUNK_NUMBERS // n_features, CHUNK_BUDGET // n_clusters)
    return max(MIN_CHUNK_ROWS, 1 << max(0, most.bit_length() - 1))


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
    but writeable, so that TensorFlow can read its chunks in place (``sharing``) instead
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
    """An array-like read ``chunk_rows`` rows at a time (``chunk_rows_for`` its width and the
    fit's ``n_clusters``); its weights are held whole (one number a row)."""

    def __init__(self, X, sample_weight, name: str = "X", n_clusters: int = 1):
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
        self.n_rows, self.n_features = shape
        self.n_samples = self.n_rows
        self.dtype = check_float_dtype(np.dtype(X.dtype), name)
        self.weights = (
            None if sample_weight is None else check_weights(sample_weight, 0, shape[0], self.dtype)
        )
        if self.weights is not None and not self.weights.any():
            raise InvalidParameterError("sample_weight must not be all zero.")
        self.chunk_rows = chunk_rows_for(self.n_features, n_clusters)
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
        for start in range(0, self.n_rows, self.chunk_rows):
            stop = min(start + self.chunk_rows, self.n_rows)
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
        rows = np.unique(random_state.randint(0, self.n_rows, size))
        self._check_file(int(rows[-1]) + 1)
        x = check_batch(self.X[rows], 0, self.n_features, self.dtype, self.name)
        w = np.ones(len(rows), self.dtype) if self.weights is None else self.weights[rows]
        return x, w


class Reservoir:
    """A sample of up to ``size`` rows of a stream without replacement, each row drawn in
    proportion to its weight, kept as the batches go by: one pass, ``size`` rows of memory.

    Efraimidis and Spirakis's A-Res: each row gets the key ``log(u) / w`` (``u`` uniform in
    (0, 1]), and the rows of the ``size`` largest keys are the sample; a row of weight 0 is
    never drawn. The uniforms are the fit's generator's, a batch at a time, so both
    packages, and every process of a distributed fit, draw the same rows.
    """

    def __init__(self, size: int, n_features: int, dtype: np.dtype):
        self.size, self.seen = size, 0
        self.keys, self.numbers = np.empty(0), np.empty(0, np.int64)
        self.x, self.w = np.empty((0, n_features), dtype), np.empty(0, dtype)

    def add(self, x: np.ndarray, w: np.ndarray, random_state: np.random.RandomState) -> None:
        """Offer the rows of one batch, and their weights."""
        uniforms = 1.0 - random_state.random_sample(len(x))
        keys, drawn = np.full(len(x), -np.inf), w > 0  # weight 0: never drawn
        keys[drawn] = np.log(uniforms[drawn]) / w[drawn]
        numbers = np.arange(self.seen, self.seen + len(x))
        self.seen += len(x)
        if len(self.keys) >= self.size:  # only rows that beat the sample's least key
            enter = keys > self.keys.min()
            keys, numbers, x, w = keys[enter], numbers[enter], x[enter], w[enter]
        keys = np.concatenate([self.keys, keys])
        numbers = np.concatenate([self.numbers, numbers])
        keep = np.lexsort((numbers, -keys))[: self.size]  # equal keys: the earlier row
        self.keys, self.numbers = keys[keep], numbers[keep]
        self.x, self.w = np.concatenate([self.x, x])[keep], np.concatenate([self.w, w])[keep]

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows drawn and their weights, in the stream's order."""
        if not self.seen:
            raise InvalidParameterError("the dataset is empty: it has no rows to fit.")
        drawn = np.isfinite(self.keys)
        if not drawn.any():
            raise InvalidParameterError("sample_weight must not be all zero.")
        order = np.argsort(self.numbers[drawn], kind="stable")
        return self.x[drawn][order], self.w[drawn][order]


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
        # A dataset is read in order, and data stored in order (by class, by day) would
        # give its first rows' clusters only: the sample is drawn from a whole pass.
        reservoir = Reservoir(size, self.n_features, self.dtype)
        for x, w in self:
            reservoir.add(x, w, random_state)
        return reservoir.sample()


def as_stream(X, sample_weight=None, name: str = "X", n_clusters: int = 1) -> Stream:
    """``X`` (a dataset, or an array-like read in chunks sized for ``n_clusters`` centres)
    as a ``Stream``."""
    if is_dataset(X):
        return DatasetStream(X, sample_weight, name)
    return ArrayStream(X, sample_weight, name, n_clusters)
