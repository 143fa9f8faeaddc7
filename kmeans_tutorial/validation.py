"""Input checks shared by both packages: same checks, same messages, before any TF op.

Scalars are checked by type and range. Arrays may be NumPy arrays, array-likes, eager
tensors (checked in full) or graph tensors (only their static dtype and shape are known
before a ``Session`` runs). Every message names the argument and the offending value.
"""

from __future__ import annotations

import numbers

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError, all_finite, check_int

# numpy's legacy seeding (np.random.seed, as the lesson uses) accepts 0 <= seed < 2**32.
MAX_SEED = 2**32 - 1


def check_seed(name: str, value: object, allow_none: bool = False) -> None:
    """``value`` is a seed numpy and TensorFlow both accept (or ``None`` where allowed)."""
    if value is None and allow_none:
        return
    check_int(name, value, 0, MAX_SEED)


def check_real(name: str, value: object) -> None:
    """``value`` is a finite real number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(
            f"{name} must be a real number, got {value!r} of type {type(value).__name__}."
        )
    if not 0 <= value < float("inf"):
        raise InvalidParameterError(f"{name}={value!r} should be finite and >= 0.")


def check_create_samples_args(n_clusters, n_samples_per_cluster, n_features, embiggen_factor, seed):
    """The arguments of the lesson's ``create_samples`` (``seed`` may be ``None``, unseeded)."""
    check_int("n_clusters", n_clusters, 1)
    check_int("n_samples_per_cluster", n_samples_per_cluster, 1)
    check_int("n_features", n_features, 1)
    check_real("embiggen_factor", embiggen_factor)
    check_seed("seed", seed, allow_none=True)


def _inspect(name: str, value):
    """``(shape, dtype, values)``; shape entries and values are ``None`` where not yet known."""
    dtype = getattr(value, "dtype", None)
    if hasattr(dtype, "as_numpy_dtype"):  # a TensorFlow tensor
        if hasattr(value, "numpy"):  # eager: its values are here
            array = value.numpy()
            return array.shape, array.dtype, array
        shape = value.shape
        dims = None if shape.rank is None else tuple(shape.as_list())
        return dims, np.dtype(dtype.as_numpy_dtype), None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(
            f"{name} must be an array, got {type(value).__name__} ({error})."
        ) from None
    return array.shape, array.dtype, array


def check_points(name: str, value, n_features: int | None = None, dtype=None) -> tuple:
    """A non-empty, finite, floating-point array of shape (n_points, n_features).

    Returns ``(shape, dtype)``. ``n_features`` and ``dtype``, when given, must match.
    """
    shape, found, array = _inspect(name, value)
    if not np.issubdtype(found, np.floating):
        raise InvalidParameterError(f"{name} must hold floating-point numbers, got dtype {found}.")
    if dtype is not None and found != dtype:
        raise InvalidParameterError(
            f"{name} must have the samples' dtype {dtype}, got dtype {found}."
        )
    if shape is not None and len(shape) != 2:
        raise InvalidParameterError(
            f"{name} must be 2-D, of shape (n, n_features), got shape {shape}."
        )
    if shape is not None and 0 in shape:
        raise InvalidParameterError(f"{name} must not be empty, got shape {shape}.")
    if n_features is not None and shape is not None and shape[1] not in (None, n_features):
        raise InvalidParameterError(
            f"{name} must have n_features={n_features} columns, got shape {shape}."
        )
    if array is not None and not all_finite(array):
        row, column = np.argwhere(~np.isfinite(array))[0]
        raise InvalidParameterError(
            f"{name} must be finite, got {array[row, column]} at row {row}, column {column}."
        )
    return shape, found


def check_labels(name: str, value, n_samples: int | None, n_clusters: int) -> None:
    """A 1-D integer array with one entry per sample, each in ``[0, n_clusters)``."""
    shape, dtype, array = _inspect(name, value)
    if not np.issubdtype(dtype, np.integer):
        raise InvalidParameterError(f"{name} must hold integers, got dtype {dtype}.")
    if shape is not None and len(shape) != 1:
        raise InvalidParameterError(f"{name} must be 1-D, one label per sample, got shape {shape}.")
    if shape is not None and None not in (n_samples, shape[0]) and shape[0] != n_samples:
        raise InvalidParameterError(
            f"{name} must have one entry per sample (n_samples={n_samples}), got shape {shape}."
        )
    if array is not None:
        outside = np.flatnonzero((array < 0) | (array >= n_clusters))
        if outside.size:
            raise InvalidParameterError(
                f"{name} must be in [0, n_clusters={n_clusters}), "
                f"got {array[outside[0]]} at position {outside[0]}."
            )


def check_n_clusters(n_clusters, n_samples: int | None) -> None:
    """An integer >= 1, and no more than the samples it is chosen from (when known)."""
    check_int("n_clusters", n_clusters, 1)
    if n_samples is not None and n_clusters > n_samples:
        raise InvalidParameterError(f"n_samples={n_samples} should be >= n_clusters={n_clusters}.")


def check_choose_random_centroids_args(samples, n_clusters, seed) -> None:
    """The arguments of the lesson's ``choose_random_centroids``."""
    shape, _ = check_points("samples", samples)
    check_n_clusters(n_clusters, None if shape is None else shape[0])
    check_seed("seed", seed, allow_none=True)


def check_assign_to_nearest_args(samples, centroids) -> None:
    """The arguments of the lesson's ``assign_to_nearest``."""
    shape, dtype = check_points("samples", samples)
    check_points("centroids", centroids, None if shape is None else shape[1], dtype)


def check_update_centroids_args(samples, nearest_indices, n_clusters) -> None:
    """The arguments of the lesson's ``update_centroids``."""
    shape, _ = check_points("samples", samples)
    check_int("n_clusters", n_clusters, 1)
    check_labels(
        "nearest_indices", nearest_indices, None if shape is None else shape[0], n_clusters
    )
