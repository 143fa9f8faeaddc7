"""What a fit computes of its data before it runs, in one place for every fit (in memory,
streamed, mini-batch): the point distances are taken around (``offset_of``, centring dense
data as scikit-learn does), the variance ``tol`` is relative to (``mean_variance``), unit rows
and centres for the cosine metric, and the data as TensorFlow takes it without a copy.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError
from kmeans_tutorial.engine.sharing import shareable


@dataclasses.dataclass(frozen=True, eq=False)
class SparseRows:
    """A CSR matrix as the cores take it: its three arrays, canonical, never densified.

    Attributes
    ----------
    data : ndarray of shape (nnz,), float32 or float64
        The stored values, row after row.
    indices : ndarray of shape (nnz,), int32 or int64
        The column of each stored value.
    indptr : ndarray of shape (n_samples + 1,), int64
        Row ``i``'s values are ``data[indptr[i]:indptr[i + 1]]``.
    shape : (n_samples, n_features)
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __len__(self) -> int:
        return self.shape[0]

    def rows(self, index: np.ndarray) -> np.ndarray:
        """Rows ``index`` as a dense array of shape (len(index), n_features)."""
        dense = np.zeros((len(index), self.shape[1]), self.dtype)
        for out, row in enumerate(index):
            start, stop = self.indptr[row], self.indptr[row + 1]
            dense[out, self.indices[start:stop]] = self.data[start:stop]
        return dense

    def subset(self, index: np.ndarray) -> SparseRows:
        """Rows ``index``, still sparse: a CSR matrix of their own."""
        lengths = np.diff(self.indptr)[index]
        indptr = np.zeros(len(index) + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        starts = np.repeat(self.indptr[index] - indptr[:-1], lengths)
        taken = starts + np.arange(indptr[-1])
        return SparseRows(
            shareable(self.data[taken]), self.indices[taken], indptr, (len(index), self.shape[1])
        )

    def squared_distances_to(self, centers: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Each row's squared distance to its centre ``centers[labels]``, in float64:
        |x|² - 2 x·c + |c|², over the row's stored values only."""
        row_of = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        values = self.data.astype(np.float64)
        own = centers.astype(np.float64)[labels]
        squares = np.bincount(row_of, np.square(values), self.shape[0])
        products = np.bincount(row_of, values * own[row_of, self.indices], self.shape[0])
        return np.maximum(squares - 2 * products + np.einsum("ij,ij->i", own, own), 0)


_BLOCK_ROWS = 65536  # rows a NumPy temporary covers at once, so none is the size of X


def column_mean(X: np.ndarray) -> np.ndarray:
    """The mean of each column, shape (n_features,), summed in ``X``'s dtype.

    ``einsum`` sums along the rows in one loop, where ``X.mean(axis=0)`` makes several
    passes. The mean is only the point distances are taken around (any point near the
    data would do), so sums in float32 are accurate enough.
    """
    return np.einsum("ij->j", X) / X.dtype.type(len(X))


def offset_of(X: np.ndarray | SparseRows) -> np.ndarray:
    """The point a fit's distances are taken around: the column mean (dense), 0 (sparse).

    Centring dense data keeps |x|² - 2x·c + |c|² accurate, as scikit-learn centres it;
    centring sparse data would fill in its zeros, so it is left as it is (so does
    scikit-learn).
    """
    if isinstance(X, SparseRows):
        return np.zeros(X.shape[1], X.dtype)
    return column_mean(X)


def mean_variance(X: np.ndarray | SparseRows, X_offset: np.ndarray) -> float:
    """The mean over the features of each feature's variance, in float64."""
    n_samples = len(X)
    if isinstance(X, SparseRows):
        columns = X.indices
        column_sums = np.bincount(columns, X.data.astype(np.float64), minlength=X.shape[1])
        column_squares = np.bincount(
            columns, np.square(X.data, dtype=np.float64), minlength=X.shape[1]
        )
        return float(np.mean(column_squares / n_samples - (column_sums / n_samples) ** 2))
    sums = np.zeros(X.shape[1])
    squares = np.zeros(X.shape[1])
    for start in range(0, n_samples, _BLOCK_ROWS):
        block = (X[start : start + _BLOCK_ROWS] - X_offset).astype(np.float64)
        sums += block.sum(axis=0)
        squares += np.square(block).sum(axis=0)
    return float(np.mean(squares / n_samples - (sums / n_samples) ** 2))


def unit_rows(X: np.ndarray | SparseRows) -> np.ndarray | SparseRows:
    """``X`` with every row scaled to length 1 (a copy, in X's dtype), for the cosine
    metric; a row of zeros has no direction, and is refused by its index."""
    if isinstance(X, SparseRows):
        row_of = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        norms = np.sqrt(np.bincount(row_of, np.square(X.data, dtype=np.float64), X.shape[0]))
    else:
        norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
    zero = np.flatnonzero(norms == 0)
    if len(zero):
        raise InvalidParameterError(
            f"metric='cosine' needs rows of nonzero length: row {zero[0]} of X is all zeros "
            f"({len(zero)} such row(s))."
        )
    if isinstance(X, SparseRows):
        data = (X.data / norms[row_of]).astype(X.dtype)
        return SparseRows(data, X.indices, X.indptr, X.shape)
    return (X / norms[:, np.newaxis]).astype(X.dtype)


def unit_centers(centers: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Centres (around ``offset``) scaled to length 1 about the origin, as the estimator's
    cosine metric keeps them; a centre at the origin stays there (``tf.math.l2_normalize``)."""
    absolute = centers.astype(np.float64) + offset
    norms = np.linalg.norm(absolute, axis=1, keepdims=True)
    return (absolute / np.maximum(norms, np.finfo(np.float64).tiny) - offset).astype(centers.dtype)


def shareable_data(X: np.ndarray | SparseRows) -> np.ndarray | SparseRows:
    """Dense ``X`` aligned for TensorFlow to use in place (``sharing``); sparse as it is."""
    return X if isinstance(X, SparseRows) else shareable(X)
