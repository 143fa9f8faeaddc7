"""Fits of nearby shapes share programs (``kmeans_tutorial.engine.buckets``): a sweep over
``n_clusters`` and cross-validation folds make a handful of compiled programs, not one per
fit, and small data's uncompiled programs are made once for any shape; a padded fit equals
an unpadded one within float rounding; TF1 still equals TF2 bit for bit.
"""

import collections
import functools
import importlib

import numpy as np
import pytest

from kmeans_tutorial.engine import buckets, dense_core, lloyd_ops

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def built(monkeypatch):
    """Counts the dense programs each package builds, by name and padded shape: a program's
    function runs when TF2 traces it and when TF1 builds it into a graph, not when either
    runs it."""
    counts = collections.Counter()

    def counting(name, function):
        def build(X, w, offset, *inputs, chunk):
            # The number of centres: the centres' rows, or the seeding's draws' rows + 1;
            # None for a program made for any shape.
            k = inputs[1].shape[0] if name == "kmeans_plus_plus" else inputs[0].shape[0]
            if name == "kmeans_plus_plus" and k is not None:
                k += 1
            counts[(name, X.shape[0], k)] += 1
            return function(X, w, offset, *inputs, chunk=chunk)

        return build

    for name, function in list(dense_core.PROGRAMS.items()):
        monkeypatch.setitem(dense_core.PROGRAMS, name, counting(name, function))
    return counts


@pytest.fixture
def fresh_programs(impl, monkeypatch):
    """The package's caches of programs emptied for the test (and restored after it), so
    that no program another test made hides a build."""
    module = importlib.import_module(f"{impl.__name__}.engine.kmeans")
    if impl.__name__ == "tf2_eager":
        for name in ("_compiled", "_any_shape"):
            cached = getattr(module, name)
            size = cached.cache_info().maxsize
            monkeypatch.setattr(module, name, functools.lru_cache(maxsize=size)(cached.__wrapped__))
    else:
        monkeypatch.setattr(module._ShapeGraph, "_cache", {})


def blobs(n_samples, n_features, seed=0):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples, n_features, centers=6, random_state=seed)
    return X.astype(np.float32)


def test_a_sweep_over_n_clusters_and_folds_compiles_a_handful_of_programs(
    impl, built, fresh_programs, monkeypatch
):
    """Compiled (as larger data is): six values of k on two folds of nearby sizes, 12 fits,
    each a k-means++ and a Lloyd program, for one number of rows (2,432): Lloyd compiled for
    2 numbers of centres (8, 16), k-means++ for one (64, every small k): 3 programs (one
    each per fit before: 24)."""
    monkeypatch.setattr(lloyd_ops, "UNCOMPILED_WORK", -1)
    X = blobs(2411, 7)
    for fold in (1, 2):
        for k in (2, 5, 8, 9, 13, 16):
            impl.KMeans(k, random_state=0).fit(X[: len(X) - 37 * fold])
    assert sorted(built) == [
        ("kmeans_plus_plus", 2432, 64),
        ("lloyd", 2432, 8),
        ("lloyd", 2432, 16),
    ]
    assert all(count == 1 for count in built.values()), built  # each built once


def test_small_data_makes_each_program_once_for_any_shape(impl, built, fresh_programs):
    """Uncompiled (small data, ``lloyd_ops.compiles``): k = 2..20 on data of three sizes and
    widths, 57 fits, make one k-means++ and one Lloyd program in all, traced (TF2) or built
    into a graph (TF1) once, for sizes known only when they run."""
    for n_samples, n_features in [(611, 3), (1000, 5), (1500, 7)]:
        X = blobs(n_samples, n_features)
        assert not lloyd_ops.compiles(n_samples, n_features, 24)
        for k in range(2, 21):
            impl.KMeans(k, random_state=0).fit(X)
    assert built == {("kmeans_plus_plus", None, None): 1, ("lloyd", None, None): 1}


@pytest.fixture
def unpadded(monkeypatch):
    """Turns the padding off: every fit's programs made for its own shape."""

    def unpadded_shapes():
        monkeypatch.setattr(buckets, "program_rows", lambda n_samples, row_bytes: n_samples)
        monkeypatch.setattr(buckets, "program_clusters", lambda n_clusters, n_features: n_clusters)

    return unpadded_shapes


@pytest.mark.parametrize("case", ["blobs", "weights with zeros", "more centres than points"])
def test_a_padded_fit_equals_an_unpadded_one_within_rounding(impl, unpadded, case):
    """The same fit with its rows and centres padded and without: the same labels and
    iterations, centres and inertia within float32 rounding. 'more centres than points'
    relocates empty clusters every iteration, where padding rows must never be taken and
    padding centres never given a point; zero weights are real rows, which padding rows
    must not be mistaken for."""
    X = blobs(1001, 5)
    weights = None
    k = 9
    if case == "weights with zeros":
        weights = np.random.RandomState(0).randint(0, 3, len(X)).astype(np.float32)
    elif case == "more centres than points":
        X = np.repeat(X[:7], 5, axis=0)  # 7 distinct points, 35 rows, 10 centres
        k = 10
    assert buckets.program_rows(len(X), X.shape[1] * 4) > len(X)
    assert buckets.program_clusters(k, X.shape[1]) > k

    def fit(**params):
        return impl.KMeans(k, random_state=0, n_init=2, **params).fit(X, sample_weight=weights)

    padded, padded_steps = fit(), fit(verbose=1)  # the compiled loop, and single steps
    unpadded()
    plain = fit()
    for model in (padded, padded_steps):
        np.testing.assert_array_equal(model.labels_, plain.labels_)
        assert model.n_iter_ == plain.n_iter_
        np.testing.assert_allclose(model.cluster_centers_, plain.cluster_centers_, rtol=1e-5)
        np.testing.assert_allclose(model.inertia_, plain.inertia_, rtol=1e-5)
    np.testing.assert_array_equal(padded.predict(X[:13]), plain.predict(X[:13]))
    np.testing.assert_allclose(padded.transform(X[:13]), plain.transform(X[:13]), rtol=1e-5)


@pytest.mark.parity
def test_tf1_and_tf2_sweep_bit_identically(tf1, tf2):
    """Each k of a sweep over padded shapes: TF1's fit is TF2's, bit for bit."""
    X = blobs(1777, 3, seed=1)
    for k in (2, 5, 9, 14, 17):
        first, second = (pkg.KMeans(k, random_state=0).fit(X) for pkg in (tf1, tf2))
        np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)
        np.testing.assert_array_equal(first.labels_, second.labels_)
        assert first.inertia_ == second.inertia_ and first.n_iter_ == second.n_iter_


def test_the_lloyd_program_compiles_beside_the_seeding_and_changes_nothing(impl, monkeypatch):
    """A compiled fit's first k-means++ starts the Lloyd program's compilation on another
    thread (``DenseCore._warm_up``), once a shape; its fit equals one without it, bit for
    bit, and a second fit starts none. Shapes no other test uses."""
    from kmeans_tutorial.engine import lloyd_ops
    from kmeans_tutorial.engine.dense_core import DenseCore

    monkeypatch.setattr(lloyd_ops, "UNCOMPILED_WORK", -1)  # every program compiled
    started = []
    warm_up = DenseCore._warm_up

    def counted(self, n_clusters):
        before = len(self._warming)
        warm_up(self, n_clusters)
        started.extend([n_clusters] * (len(self._warming) - before))

    monkeypatch.setattr(DenseCore, "_warm_up", counted)
    X = blobs(1531, 6, seed=2)
    warmed = impl.KMeans(11, random_state=0, n_init=2).fit(X)
    assert started == [16]  # one warm-up, for the first of the two runs
    again = impl.KMeans(11, random_state=0, n_init=2).fit(X)
    assert started == [16]
    monkeypatch.setattr(DenseCore, "_warm_up", lambda self, n_clusters: None)
    monkeypatch.setattr(buckets, "program_rows", lambda n_samples, row_bytes: n_samples + 3)
    cold = impl.KMeans(11, random_state=0, n_init=2).fit(X)  # new programs, none warmed
    for model in (again, cold):
        np.testing.assert_allclose(model.cluster_centers_, warmed.cluster_centers_, rtol=1e-5)
        np.testing.assert_array_equal(model.labels_, warmed.labels_)
    np.testing.assert_array_equal(again.cluster_centers_, warmed.cluster_centers_)
