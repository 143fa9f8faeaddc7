"""Parameters are validated once, at the edge, with messages that name the value."""

import pytest

from kmeans_tutorial import LessonParams

BAD = [
    ({"n_clusters": 0}, ValueError, "n_clusters=0 should be >= 1."),
    ({"n_clusters": 2.5}, TypeError, "n_clusters must be an integer, got 2.5 of type float."),
    ({"n_clusters": True}, TypeError, "n_clusters must be an integer, got True of type bool."),
    ({"n_samples_per_cluster": -3}, ValueError, "n_samples_per_cluster=-3 should be >= 1."),
    ({"n_features": 0}, ValueError, "n_features=0 should be >= 1."),
    ({"seed": -1}, ValueError, "seed=-1 should be in [0, 4294967295]."),
    ({"seed": 2**32}, ValueError, "seed=4294967296 should be in [0, 4294967295]."),
    ({"seed": "700"}, TypeError, "seed must be an integer, got '700' of type str."),
    ({"centroid_seed": -5}, ValueError, "centroid_seed=-5 should be in [0, 4294967295]."),
    ({"n_iterations": -1}, ValueError, "n_iterations=-1 should be >= 0."),
    ({"embiggen_factor": float("inf")}, ValueError, "embiggen_factor=inf should be finite"),
    ({"embiggen_factor": -1}, ValueError, "embiggen_factor=-1 should be finite and >= 0."),
    ({"embiggen_factor": "70"}, TypeError, "embiggen_factor must be a real number, got '70'"),
    ({"tol": -0.5}, ValueError, "tol=-0.5 should be finite and >= 0."),
]


@pytest.mark.parametrize(("overrides", "error", "message"), BAD, ids=lambda v: str(v)[:40])
def test_bad_params_are_refused_with_the_value_named(overrides, error, message):
    with pytest.raises(error) as info:
        LessonParams(**overrides)
    assert message in str(info.value)


def test_centroid_seed_defaults_to_the_seed():
    assert LessonParams(seed=3).initial_centroid_seed == 3
    assert LessonParams(seed=3, centroid_seed=0).initial_centroid_seed == 0
