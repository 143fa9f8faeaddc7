"""The estimator's input checks, once, at the public boundary (scikit-learn's rules).

Every method of ``BaseKMeans`` passes its input through here before a core sees it, so
the cores trust their input. Messages follow scikit-learn's ``check_array`` and
``validate_data`` (its own estimator checks match on them), and add the offending value
and where it is. Errors are ``InvalidParameterError`` (a ``ValueError`` and a
``TypeError``), as everywhere in this project, except ``NotFittedError``.

scipy is imported only when a sparse matrix arrives, so a dense user never loads it.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import sys
import warnings

import numpy as np

from kmeans_tutorial.engine._sharing import aligned_empty
from kmeans_tutorial.validation import InvalidParameterError, all_finite


class NotFittedError(ValueError, AttributeError):
    """A fitted attribute was asked of an estimator that has not been fitted.

    A ``ValueError`` and an ``AttributeError``, as scikit-learn's ``NotFittedError``. When
    scikit-learn is loaded in the process, the error raised is also an instance of its
    class, so that code catching scikit-learn's error catches ours (``sklearn_class``);
    scikit-learn is never imported for it.
    """


class ConvergenceWarning(UserWarning):
    """The fit found fewer distinct clusters than asked for (scikit-learn warns alike).

    As ``NotFittedError``: with scikit-learn loaded, the warning is also an instance of
    scikit-learn's ``ConvergenceWarning``, so its filters and ``pytest.warns`` catch it.
    """


def sklearn_class(ours: type) -> type:
    """``ours``, or, when ``sklearn.exceptions`` is loaded, one class made once that
    subclasses both ``ours`` and scikit-learn's class of the same name.

    Loaded, not importable: code that names scikit-learn's class (to catch or filter it)
    has imported it, and a user without scikit-learn never pays for its import.
    """
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    if sklearn_exceptions is None:
        return ours
    return _with_sklearn_base(ours, getattr(sklearn_exceptions, ours.__name__))


@functools.cache
def _with_sklearn_base(ours: type, theirs: type) -> type:
    return type(ours.__name__, (ours, theirs), {"__module__": __name__})


def check_is_fitted(estimator) -> None:
    """Raise ``NotFittedError`` unless ``estimator.fit`` has run."""
    if not hasattr(estimator, "cluster_centers_"):
        raise sklearn_class(NotFittedError)(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            f"appropriate arguments before using this estimator."
        )


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


def is_sparse(X) -> bool:
    """Whether ``X`` is a scipy sparse matrix or array (told without importing scipy)."""
    return type(X).__module__.startswith("scipy.sparse") and hasattr(X, "tocsr")


def _finite_error(values: np.ndarray, where: str, name: str) -> InvalidParameterError:
    first = np.flatnonzero(~np.isfinite(values))[0]
    value = values[first]
    kind = "NaN" if np.isnan(value) else f"infinity or a value too large for {values.dtype!r}"
    return InvalidParameterError(f"Input {name} contains {kind}: {value} at {where(first)}.")


def check_float_dtype(dtype, name: str) -> np.dtype:
    """float32 and float64 are kept; other real numbers become float64."""
    if np.issubdtype(dtype, np.complexfloating):
        raise InvalidParameterError(f"Complex data not supported: {name} has dtype {dtype}.")
    if dtype in (np.float32, np.float64):
        return np.dtype(dtype)
    if np.issubdtype(dtype, np.number) or dtype == np.bool_:
        return np.dtype(np.float64)
    raise InvalidParameterError(f"{name} must hold numbers, got dtype {dtype}.")


def _check_shape(shape: tuple, name: str, estimator_name: str) -> None:
    if shape[0] == 0:
        raise InvalidParameterError(
            f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 is required "
            f"by {estimator_name}."
        )
    if shape[1] == 0:
        raise InvalidParameterError(
            f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 is required "
            f"by {estimator_name}."
        )


def _as_sparse_rows(X, name: str, estimator_name: str) -> SparseRows:
    """Any scipy sparse matrix or array as canonical CSR (sums duplicates, sorts columns)."""
    if len(X.shape) != 2:
        raise InvalidParameterError(f"{name} must be 2-D, got a sparse shape {X.shape}.")
    _check_shape(X.shape, name, estimator_name)
    if X.shape[1] >= 2**31:
        raise InvalidParameterError(
            f"{name} has {X.shape[1]} features; sparse input takes fewer than 2**31."
        )
    dtype = check_float_dtype(X.dtype, name)
    X = X.tocsr()  # as scikit-learn's KMeans: no copy if it is CSR already
    if X.dtype != dtype:
        X = X.astype(dtype)
    if not X.has_canonical_format:  # duplicates would count twice in |x|²
        X = X.copy()
        X.sum_duplicates()
    if not all_finite(X.data):
        indptr = X.indptr

        def where(position):
            row = int(np.searchsorted(indptr, position, side="right")) - 1
            return f"row {row}, column {X.indices[position]}"

        raise _finite_error(X.data, where, name)
    # Column numbers fit in int32 (TensorFlow's gathers take either); row offsets may not.
    indices = X.indices.astype(np.int32, copy=False)
    indptr = X.indptr.astype(np.int64, copy=False)
    return SparseRows(X.data, indices, indptr, tuple(int(n) for n in X.shape))


def feature_names(X) -> np.ndarray | None:
    """A dataframe's column names, when all are strings (scikit-learn's rule); else None."""
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "shape") or len(getattr(X, "shape", ())) != 2:
        return None
    names = np.asarray(list(columns), dtype=object)
    if len(names) == 0:
        return None
    types = sorted({type(name).__qualname__ for name in names})
    if len(types) > 1 and "str" in types:
        raise InvalidParameterError(
            f"Feature names are only supported if all input features have string names, but "
            f"your input has {types} as feature name / column name types. Convert them all "
            f"to strings (X.columns = X.columns.astype(str)) or none of them."
        )
    return names if types == ["str"] else None


def check_feature_names(estimator, X, *, reset: bool) -> None:
    """Set ``feature_names_in_`` (``reset``) or check ``X``'s names against it."""
    names = feature_names(X)
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    own = type(estimator).__name__
    if fitted is None and names is None:
        return
    if fitted is None:
        warnings.warn(
            f"X has feature names, but {own} was fitted without feature names",
            UserWarning,
            stacklevel=4,
        )
        return
    if names is None:
        warnings.warn(
            f"X does not have valid feature names, but {own} was fitted with feature names",
            UserWarning,
            stacklevel=4,
        )
        return
    if len(fitted) == len(names) and (fitted == names).all():
        return
    message = "The feature names should match those that were passed during fit.\n"
    unseen = sorted(set(names) - set(fitted))
    missing = sorted(set(fitted) - set(names))
    for title, listed in (
        ("Feature names unseen at fit time", unseen),
        ("Feature names seen at fit time, yet now missing", missing),
    ):
        if listed:
            shown = [f"- {name}\n" for name in listed[:5]]
            message += f"{title}:\n{''.join(shown)}" + ("- ...\n" if len(listed) > 5 else "")
    if not unseen and not missing:
        message += "Feature names must be in the same order as they were in fit.\n"
    raise InvalidParameterError(message)


def check_data(X, name: str = "X", estimator_name: str = "KMeans") -> np.ndarray | SparseRows:
    """``X`` as a C-ordered float32/float64 array, or as ``SparseRows`` if it is sparse.

    float32 and float64 are kept; other real numbers, and object arrays of numbers,
    become float64.
    """
    if isinstance(X, SparseRows):  # checked already
        return X
    if is_sparse(X):
        return _as_sparse_rows(X, name, estimator_name)
    if hasattr(X, "dtype") and hasattr(X, "__array__"):
        array = np.asarray(X)
    else:
        try:
            array = np.asarray(X)
        except ValueError as error:  # a ragged list
            raise InvalidParameterError(f"{name} must be a 2-D array: {error}") from None
    if array.dtype == object:
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise InvalidParameterError(f"{name} must hold numbers: {error}") from None
    dtype = check_float_dtype(array.dtype, name)
    if array.ndim != 2:
        if array.ndim == 1:
            raise InvalidParameterError(
                f"Expected a 2-D {name}, got a 1-D array of shape {array.shape} instead. "
                f"Reshape your data either using array.reshape(-1, 1) if your data has a "
                f"single feature or array.reshape(1, -1) if it contains a single sample."
            )
        raise InvalidParameterError(
            f"{name} must be 2-D, of shape (n_samples, n_features), got shape {array.shape}."
        )
    _check_shape(array.shape, name, estimator_name)
    array = np.ascontiguousarray(array, dtype=dtype)
    if not all_finite(array):
        n_features = array.shape[1]
        raise _finite_error(
            array.reshape(-1),
            lambda flat: f"row {flat // n_features}, column {flat % n_features}",
            name,
        )
    return array


def check_random_state(seed) -> np.random.RandomState:
    """A ``RandomState`` from ``None``, an integer or a ``RandomState`` (as scikit-learn)."""
    if seed is None:
        return np.random.RandomState()
    if isinstance(seed, np.random.RandomState):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and 0 <= seed < 2**32:
        return np.random.RandomState(seed)
    raise InvalidParameterError(
        f"random_state={seed!r} should be None, an integer in [0, 2**32 - 1] or a RandomState."
    )


def first_bad_weight(weights: np.ndarray) -> int | None:
    """The index of the first weight that is not finite or is negative, else None (the one
    rule for weights, held whole or read a batch at a time)."""
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    return int(bad[0]) if bad.size else None


def check_sample_weight(sample_weight, n_samples: int, dtype) -> np.ndarray:
    """One finite, non-negative weight per sample, not all zero (``None``: all ones)."""
    if sample_weight is None:
        ones = aligned_empty(n_samples, dtype)  # shareable with TensorFlow as it is
        ones.fill(1)
        return ones
    if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        sample_weight = np.full(n_samples, sample_weight)  # scikit-learn takes a scalar
    try:
        weights = np.asarray(sample_weight, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(f"sample_weight must hold numbers: {error}") from None
    if weights.shape != (n_samples,):
        raise InvalidParameterError(
            f"sample_weight must have shape ({n_samples},), one per sample, got {weights.shape}."
        )
    bad = first_bad_weight(weights)
    if bad is not None:
        raise InvalidParameterError(
            f"sample_weight must be finite and >= 0, got {weights[bad]} at {bad}."
        )
    if not weights.any():
        raise InvalidParameterError("sample_weight must not be all zero.")
    return np.ascontiguousarray(weights)
