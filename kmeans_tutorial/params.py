"""The lesson's parameters, validated once, at the edge.

Both runners (``tf1_graph.runner`` and ``tf2_eager.runner``) take a ``LessonParams``; the
CLI builds one from its flags. Errors name the offending value, before TensorFlow runs.
"""

from __future__ import annotations

import dataclasses

from kmeans_tutorial.validation import (
    InvalidParameterError,
    check_create_samples_args,
    check_int,
    check_real,
    check_seed,
)


@dataclasses.dataclass(frozen=True)
class LessonParams:
    """Everything the lesson's scripts set at their top, with the lesson's values.

    Attributes
    ----------
    n_clusters : int
        Clusters generated, and clusters k-means looks for.
    n_samples_per_cluster : int
        Points drawn around each generated centre.
    n_features : int
        Dimensions of each point (2 lets the lesson plot them).
    embiggen_factor : float
        Generated centres are uniform in ``[-embiggen_factor / 2, embiggen_factor / 2)``.
    seed : int
        Seeds numpy (the centres) and the samples' ``random_normal`` op.
    centroid_seed : int or None
        Seeds the shuffle that picks the initial centroids (exercise 1); ``None`` reuses ``seed``.
    n_iterations : int
        Assign/update rounds (exercise 2 asks for 10); the most, when ``tol`` is set.
    tol : float or None
        ``None`` (the lesson's way): run all ``n_iterations``. A number: stop early, as
        scikit-learn does, once the labels stop changing or the summed squared centroid
        shift is at most ``tol`` times the samples' mean per-feature variance.
    """

    n_clusters: int = 3
    n_samples_per_cluster: int = 500
    n_features: int = 2
    embiggen_factor: float = 70
    seed: int = 700
    centroid_seed: int | None = None
    n_iterations: int = 10
    tol: float | None = None

    def __post_init__(self) -> None:
        check_create_samples_args(*self.create_samples_args)
        check_seed("seed", self.seed)
        check_seed("centroid_seed", self.centroid_seed, allow_none=True)
        check_int("n_iterations", self.n_iterations, 0)
        if self.tol is not None:
            check_real("tol", self.tol)

    @property
    def n_samples(self) -> int:
        """Total number of generated points."""
        return self.n_clusters * self.n_samples_per_cluster

    @property
    def create_samples_args(self) -> tuple:
        """``create_samples``'s arguments, in the lesson's order."""
        return (
            self.n_clusters,
            self.n_samples_per_cluster,
            self.n_features,
            self.embiggen_factor,
            self.seed,
        )

    @property
    def initial_centroid_seed(self) -> int:
        """The seed the initial-centroid shuffle actually uses."""
        return self.seed if self.centroid_seed is None else self.centroid_seed


LESSON_DEFAULTS = LessonParams()


def available_memory() -> int | None:
    """Bytes the system can still give this process without swapping (Linux), else None."""
    try:
        with open("/proc/meminfo") as meminfo:
            line = next(line for line in meminfo if line.startswith("MemAvailable:"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) * 1024


def lesson_bytes(params: LessonParams) -> int:
    """Peak bytes of the lesson's ``assign_to_nearest``.

    It broadcasts the samples against the centroids into an n_clusters x n_samples x
    n_features float32 difference, then squares it into a second one before summing.
    """
    return 2 * 4 * params.n_clusters * params.n_samples * params.n_features


def _format_bytes(n_bytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n_bytes < 1024 or unit == "GiB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    raise AssertionError("unreachable")


def check_fits_in_memory(params: LessonParams, available: int | None = None) -> None:
    """An error naming the bytes needed, before any work, if the lesson cannot fit."""
    available = available_memory() if available is None else available
    needed = lesson_bytes(params)
    if available is not None and needed > available:
        raise InvalidParameterError(
            f"the lesson's assign_to_nearest would need {_format_bytes(needed)} (two "
            f"n_clusters x n_samples x n_features = {params.n_clusters} x {params.n_samples} "
            f"x {params.n_features} float32 tensors), and {_format_bytes(available)} is "
            f"available; use fewer clusters, samples or features, or KMeans "
            f"(tf2_eager.KMeans or tf1_graph.KMeans), which assigns in chunks."
        )


def check_params(params: object) -> LessonParams:
    """``params`` itself, if it is a ``LessonParams`` whose lesson fits in memory."""
    if not isinstance(params, LessonParams):
        raise InvalidParameterError(
            f"params must be a LessonParams, got {params!r} of type {type(params).__name__}."
        )
    check_fits_in_memory(params)
    return params
