"""The lesson's parameters, validated once, at the edge.

Both runners (``tf1_graph.runner`` and ``tf2_eager.runner``) take a ``LessonParams``; the
CLI builds one from its flags. Errors name the offending value, before TensorFlow runs.
"""

from __future__ import annotations

import dataclasses
import numbers

# numpy's legacy seeding (np.random.seed, as the lesson uses) accepts 0 <= seed < 2**32.
MAX_SEED = 2**32 - 1


def _check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}.")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name}={value!r} should be {bound}.")


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
        Assign/update rounds (exercise 2 asks for 10).
    """

    n_clusters: int = 3
    n_samples_per_cluster: int = 500
    n_features: int = 2
    embiggen_factor: float = 70
    seed: int = 700
    centroid_seed: int | None = None
    n_iterations: int = 10

    def __post_init__(self) -> None:
        _check_int("n_clusters", self.n_clusters, 1)
        _check_int("n_samples_per_cluster", self.n_samples_per_cluster, 1)
        _check_int("n_features", self.n_features, 1)
        _check_int("seed", self.seed, 0, MAX_SEED)
        if self.centroid_seed is not None:
            _check_int("centroid_seed", self.centroid_seed, 0, MAX_SEED)
        _check_int("n_iterations", self.n_iterations, 0)
        factor = self.embiggen_factor
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
            raise TypeError(
                f"embiggen_factor must be a real number, got {factor!r} "
                f"of type {type(factor).__name__}."
            )
        if not 0 <= factor < float("inf"):
            raise ValueError(f"embiggen_factor={factor!r} should be finite and >= 0.")

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
