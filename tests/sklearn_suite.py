"""A pytest plugin: scikit-learn's own ``sklearn/cluster/tests/test_k_means.py`` and
``test_bisect_k_means.py``, run unmodified against one of our packages (``nox -s sklearn``).

The test files ship inside the scikit-learn wheel. Before pytest imports them, this plugin
puts the chosen package's ``BisectingKMeans``, ``KMeans``, ``MiniBatchKMeans``,
``kmeans_plusplus`` and ``k_means`` into ``sklearn.cluster``, so that the files'
``from sklearn.cluster import ...`` takes ours (scikit-learn's own modules import their
classes from ``sklearn.cluster._kmeans`` and are unaffected). The package is named by
``KMEANS_SUITE_IMPL`` (``tf1`` or ``tf2``).

``LEFT_OUT`` is the one list of what is not run, each with its reason; every other test
of the files must pass, on scikit-learn's default seed and on any
``SKLEARN_TESTS_GLOBAL_RANDOM_SEED``. With ``KMEANS_SUITE_SEEDED_ONLY=1`` only the tests
that take ``global_random_seed`` run (a run on other seeds after the default one).
"""

import importlib
import os

import pytest

PACKAGES = {"tf1": "tf1_graph", "tf2": "tf2_eager"}
REPLACED = ("BisectingKMeans", "KMeans", "MiniBatchKMeans", "kmeans_plusplus", "k_means")

PRIVATE = "calls scikit-learn's private helpers directly, not an estimator"

# Test functions left out whole, and why.
LEFT_OUT = {
    "test_relocate_empty_clusters": PRIVATE + " (_relocate_empty_clusters_dense/_sparse)",
    "test_minibatch_update_consistency": PRIVATE + " (_mini_batch_step, _labels_inertia)",
    "test_minibatch_reassign": PRIVATE + " (_mini_batch_step, _labels_inertia)",
    "test_euclidean_distance": PRIVATE + " (_euclidean_dense_dense_wrapper, ...)",
    "test_inertia": PRIVATE + " (_inertia_dense, _inertia_sparse)",
    "test_is_same_clustering": PRIVATE + " (_is_same_clustering)",
}


def reason_left_out(item) -> str | None:
    """Why ``item`` is not run, or ``None`` if it runs."""
    return LEFT_OUT.get(item.originalname)


def pytest_configure(config):
    impl = os.environ.get("KMEANS_SUITE_IMPL")
    if impl not in PACKAGES:
        raise pytest.UsageError(f"KMEANS_SUITE_IMPL={impl!r} should be one of {list(PACKAGES)}.")
    import sklearn.cluster

    package = importlib.import_module(PACKAGES[impl])
    for name in REPLACED:
        setattr(sklearn.cluster, name, getattr(package, name))


def pytest_collection_modifyitems(config, items):
    # A run on other seeds (``KMEANS_SUITE_SEEDED_ONLY``) keeps the tests that take the seed.
    seeded_only = os.environ.get("KMEANS_SUITE_SEEDED_ONLY") == "1"
    kept, left_out = [], []
    for item in items:
        unseeded = "global_random_seed" not in getattr(item, "fixturenames", ())
        (left_out if reason_left_out(item) or (seeded_only and unseeded) else kept).append(item)
    items[:] = kept
    config.hook.pytest_deselected(items=left_out)


def pytest_report_header(config):
    impl = os.environ.get("KMEANS_SUITE_IMPL")
    return [f"scikit-learn's k-means tests against {PACKAGES.get(impl)}"]
