"""The checks every layer shares, below the lesson and the engine alike: the project's one
error class for bad input, integer parameters, and finiteness.

``kmeans_tutorial.validation`` (the lesson's argument checks) and ``kmeans_tutorial.engine``
(the estimators' input checks) both build on these; neither imports the other.
"""

from __future__ import annotations

import numbers

import numpy as np


class InvalidParameterError(ValueError, TypeError):
    """A parameter (an argument, a flag, the data) is of the wrong type or out of range.

    The one error class of every check in this project, lesson and estimator alike, as
    scikit-learn's ``InvalidParameterError``: a ``ValueError`` and a ``TypeError`` both, so
    that callers catching either (as scikit-learn's own checks do) still catch it. The CLI
    turns exactly this class into one line on stderr; anything else is a bug and keeps its
    traceback.
    """


def check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> None:
    """``value`` is an integer (not a bool) in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(
            f"{name} must be an integer, got {value!r} of type {type(value).__name__}."
        )
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise InvalidParameterError(f"{name}={value!r} should be {bound}.")


def all_finite(array: np.ndarray) -> bool:
    """Whether every value is finite: a finite sum says so without an array of flags.

    scikit-learn's fast path: only when the sum is not finite (a nan or inf, or an
    overflow) are the values looked at one by one.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(array.sum()):
            return True
    return bool(np.isfinite(array).all())
