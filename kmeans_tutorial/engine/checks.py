"""The estimator's input checks, once, at the public boundary (scikit-learn's rules).

Every method of the estimators passes its input through here before a core sees it, so
the cores trust their input. Messages follow scikit-learn's ``check_array`` and
``validate_data`` (its own estimator checks match on them), and add the offending value
and where it is. Errors are ``InvalidParameterError`` (a ``ValueError`` and a
``TypeError``), as everywhere in this project, except ``NotFittedError``.

scipy is imported only when a sparse matrix arrives, so a dense user never loads it.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError, all_finite
from kmeans_tutorial.engine.data import SparseRows
from kmeans_tutorial.engine.errors import NotFittedError, sklearn_class
from kmeans_tutorial.engine.sharing import aligned_empty


def check_is_fitted(estimator) -> None:
    """Raise ``NotFittedError`` unless ``estimator.fit`` has run."""
    if not hasattr(estimator, "cluster_centers_"):
        raise sklearn_class(NotFittedError)(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            f"appropriate arguments before using this estimator."
        )


def is_sparse(X) -> bool:
    """Whether ``X`` is a scipy sparse matrix or array (told without importing scipy)."""
    return type(X).__module__.startswith("scipy.sparse") and hasattr(X, "tocsr")


def _finite_error(
    values: np.ndarray, where: Callable[[int], str], name: str
) -> InvalidParameterError:
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
    n_samples, n_features = X.shape
    return SparseRows(X.data, indices, indptr, (int(n_samples), int(n_features)))


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
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and 0 <= int(seed) < 2**32:
        return np.random.RandomState(int(seed))
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
