"""``KMeans`` in each package: scikit-learn's interface and results, checked against it.

scikit-learn is an oracle here only; neither package imports it.
"""

import contextlib
import io
import pickle
import warnings

import numpy as np
import pytest

from kmeans_tutorial.engine import ConvergenceWarning, NotFittedError
from kmeans_tutorial.engine.checks import check_data
from kmeans_tutorial.engine.init import drawn_rows
from kmeans_tutorial.engine.sharing import shareable
from kmeans_tutorial.validation import InvalidParameterError

sklearn_cluster = pytest.importorskip("sklearn.cluster")
datasets = pytest.importorskip("sklearn.datasets")
RELATIVE = {"rtol": 1e-5, "atol": 1e-8}

# scikit-learn's KMeans docstring example.
DOC_X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])


def scipy_sparse():
    return pytest.importorskip("scipy.sparse")


def blobs(seed, n_samples=600, n_features=3, centers=4, dtype=np.float64):
    X, _ = datasets.make_blobs(
        n_samples=n_samples, n_features=n_features, centers=centers, random_state=seed
    )
    return X.astype(dtype)


def sklearn_lloyd(X, init, **params):
    return sklearn_cluster.KMeans(
        n_clusters=len(init), init=init, n_init=1, algorithm="lloyd", **params
    ).fit(X)


def assert_same_as_sklearn(ours, theirs):
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, **RELATIVE)
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=1e-5)


def test_the_docstring_example(impl):
    kmeans = impl.KMeans(n_clusters=2, random_state=0, n_init="auto").fit(DOC_X)
    centers = {tuple(center) for center in kmeans.cluster_centers_}
    assert centers == {(10.0, 2.0), (1.0, 2.0)}
    assert len(set(kmeans.labels_[:3])) == 1 and len(set(kmeans.labels_[3:])) == 1
    near_1_2, near_10_2 = kmeans.predict([[0, 0], [12, 3]])
    assert kmeans.cluster_centers_[near_1_2].tolist() == [1.0, 2.0]
    assert kmeans.cluster_centers_[near_10_2].tolist() == [10.0, 2.0]


def test_the_docstring_example_from_the_same_start_as_scikit_learn(impl):
    init = DOC_X[[0, 4]].astype(np.float64)
    assert_same_as_sklearn(
        impl.KMeans(2, init=init, n_init=1).fit(DOC_X), sklearn_lloyd(DOC_X, init)
    )


def test_weighted_hand_computed_case(impl):
    """Weights 3, 1, 1, 3: centres (0.125, 0) and (0.875, 1), inertia 0.375, 2 iterations."""
    X = np.array([[0, 0], [0.5, 0], [0.5, 1], [1, 1]])
    init = np.array([[0.0, 0.0], [1.0, 1.0]])
    kmeans = impl.KMeans(2, init=init, n_init=1).fit(X, sample_weight=[3, 1, 1, 3])
    np.testing.assert_array_equal(kmeans.labels_, [0, 0, 1, 1])
    np.testing.assert_allclose(kmeans.cluster_centers_, [[0.125, 0], [0.875, 1]])
    np.testing.assert_allclose(kmeans.inertia_, 0.375)
    assert kmeans.n_iter_ == 2


def test_an_empty_cluster_is_relocated_not_nan(impl):
    """The far centre (3, 3) gets no sample at first; it takes the farthest point instead."""
    X = np.array([[0, 0], [0.5, 0], [0.5, 1], [1, 1]])
    init = np.array([[0.5, 0.5], [3.0, 3.0]])
    kmeans = impl.KMeans(2, init=init, n_init=1).fit(X)
    assert not np.isnan(kmeans.cluster_centers_).any()
    assert {tuple(c) for c in kmeans.cluster_centers_} == {(0.25, 0.0), (0.75, 1.0)}
    np.testing.assert_allclose(kmeans.inertia_, 0.25)
    assert kmeans.n_iter_ == 3
    # All four points are equally far from (0.5, 0.5): which one moves is a tie, broken
    # by index here and by argpartition in scikit-learn, so compare what does not depend on it.
    theirs = sklearn_lloyd(X, init)
    assert (kmeans.n_iter_, kmeans.inertia_) == (theirs.n_iter_, theirs.inertia_)


@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_a_run_relocates_an_emptied_cluster_and_goes_on_as_scikit_learns(impl, form, tol):
    """The Lloyd program stops at a pass that leaves a cluster empty; the step program runs
    that iteration, relocating, and the run resumes from it, its first stop test against
    that iteration's labels: the labels, centres and iterations of scikit-learn's run, and
    of a run made one step at a time (``verbose``)."""
    X = blobs(3, n_samples=2000)
    init = np.concatenate([X[:3], [[100.0, 100.0, 100.0]]])  # the last takes no sample
    ours = impl.KMeans(4, init=init, n_init=1, tol=tol).fit(X)
    assert ours.n_iter_ > 2  # relocated at the first iteration, then went on
    assert_same_as_sklearn(ours, sklearn_lloyd(X, init, tol=tol))
    stepped = impl.KMeans(4, init=init, n_init=1, tol=tol, verbose=1)
    with contextlib.redirect_stdout(io.StringIO()):
        stepped.fit(X)
    np.testing.assert_array_equal(ours.labels_, stepped.labels_)
    assert ours.n_iter_ == stepped.n_iter_
    np.testing.assert_allclose(ours.cluster_centers_, stepped.cluster_centers_, **RELATIVE)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_make_blobs_from_the_same_start(impl, dtype, seed, tol):
    X = blobs(seed, dtype=dtype)
    init = X[np.random.RandomState(seed).choice(len(X), 4, replace=False)]
    ours = impl.KMeans(4, init=init, n_init=1, tol=tol).fit(X)
    assert ours.cluster_centers_.dtype == dtype
    assert_same_as_sklearn(ours, sklearn_lloyd(X, init, tol=tol))


def test_k_means_plus_plus_is_within_one_percent_of_scikit_learn(impl):
    X = blobs(3, n_samples=1500, centers=6, n_features=2)
    ours = impl.KMeans(6, init="k-means++", n_init=5, random_state=0).fit(X)
    theirs = sklearn_cluster.KMeans(6, init="k-means++", n_init=5, random_state=0).fit(X)
    assert ours.inertia_ <= 1.01 * theirs.inertia_


def seeding_inertia(X, centers, weights):
    """Weighted squared distance of each sample to its nearest centre, summed, in float64."""
    X, centers = X.astype(np.float64), centers.astype(np.float64)
    distances = ((X[:, np.newaxis, :] - centers[np.newaxis, :, :]) ** 2).sum(axis=2)
    return float(distances.min(axis=1) @ weights)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_k_means_plus_plus_seeds_as_well_as_scikit_learn(impl, weighted):
    """The issue's bar: mean inertia after seeding, over seeds, within 2% of scikit-learn's.

    Overlapping blobs with more centres than blobs, so no seeding is trivially optimal.
    """
    X = blobs(11, n_samples=3000, n_features=5, centers=8, dtype=np.float32)
    weights = np.random.RandomState(2).uniform(0.2, 5, len(X)) if weighted else np.ones(len(X))
    ours, theirs = [], []
    for seed in range(40):
        centers, rows = impl.kmeans_plusplus(X, 20, sample_weight=weights, random_state=seed)
        np.testing.assert_array_equal(centers, X[rows])
        ours.append(seeding_inertia(X, centers, weights))
        centers, _ = sklearn_cluster.kmeans_plusplus(
            X, 20, sample_weight=weights, random_state=seed
        )
        theirs.append(seeding_inertia(X, centers, weights))
    assert np.mean(ours) <= 1.02 * np.mean(theirs), (np.mean(ours), np.mean(theirs))


def test_k_means_plus_plus_chooses_the_rows_the_algorithm_does(impl, form):
    """The compiled program against the algorithm in NumPy, in float64, from the same draws.

    Weighted, and with 64 features: chunks of 8192 rows, the last one overlapping.
    """
    from kmeans_tutorial.engine import seeding

    X = blobs(12, n_samples=20_000, n_features=64, centers=10)
    weights = np.random.RandomState(3).uniform(0.2, 5, len(X))

    def squared_distances(points):
        return seeding_inertia_matrix(X, points)

    for seed in range(3):
        expected = seeding.greedy_kmeans_plus_plus(
            squared_distances, lambda rows: X[rows], weights, 12, seed
        )
        core = impl.KMeans.driver.core(shareable(X), shareable(weights), X.mean(axis=0))
        np.testing.assert_array_equal(core.plus_plus_rows(12, seed), expected)


def seeding_inertia_matrix(X, points):
    return ((X**2).sum(axis=1)[:, np.newaxis] - 2 * X @ points.T + (points**2).sum(axis=1)).clip(0)


def test_k_means_plus_plus_never_picks_a_sample_of_weight_zero(impl):
    """Far outliers of weight 0 would win every D² draw if the weights were ignored."""
    X = np.concatenate([blobs(4, n_samples=500), np.full((50, 3), 1e4)])
    weights = np.r_[np.ones(500), np.zeros(50)]
    for seed in range(10):
        _, rows = impl.kmeans_plusplus(X, 6, sample_weight=weights, random_state=seed)
        assert rows.max() < 500, (seed, rows)


def test_k_means_plus_plus_gives_the_first_run_its_start(impl):
    X = blobs(6)
    centers, _ = impl.kmeans_plusplus(X, 4, random_state=5)
    seeded = impl.KMeans(4, random_state=5).fit(X)
    given = impl.KMeans(4, init=centers, n_init=1).fit(X)
    np.testing.assert_array_equal(seeded.cluster_centers_, given.cluster_centers_)


def test_k_means_plus_plus_refuses_more_centres_than_samples(impl):
    with pytest.raises(InvalidParameterError, match=r"n_clusters=7 should be in \[1, 6\]"):
        impl.kmeans_plusplus(DOC_X.astype(float), 7)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_random_init_picks_distinct_samples(impl, sparse):
    """Five samples, four centres: a draw with replacement would soon repeat one."""
    X = np.arange(15, dtype=np.float64).reshape(5, 3)
    data = check_data(scipy_sparse().csr_matrix(X) if sparse else X)
    data = data if sparse else shareable(data)  # a core takes dense data aligned for TF
    core = impl.KMeans.driver.core(data, shareable(np.ones(5)), np.zeros(3))
    for seed in range(20):
        centers = core.rows(drawn_rows("random", core, 4, seed))
        rows = [np.flatnonzero((center == X).all(axis=1)) for center in centers]
        assert all(len(row) == 1 for row in rows), (seed, centers)  # each a sample of X
        assert len({int(row[0]) for row in rows}) == 4, (seed, centers)  # all different


def test_methods_agree_with_each_other(impl):
    X = blobs(5)
    kmeans = impl.KMeans(4, random_state=0).fit(X)
    np.testing.assert_array_equal(kmeans.predict(X), kmeans.labels_)
    distances = kmeans.transform(X)
    assert distances.shape == (len(X), 4)
    np.testing.assert_array_equal(distances.argmin(axis=1), kmeans.labels_)
    np.testing.assert_allclose(kmeans.score(X), -kmeans.inertia_, rtol=1e-12)
    np.testing.assert_array_equal(impl.KMeans(4, random_state=0).fit_predict(X), kmeans.labels_)
    np.testing.assert_array_equal(impl.KMeans(4, random_state=0).fit_transform(X), distances)
    assert kmeans.n_features_in_ == 3
    unfitted = impl.KMeans(4, random_state=0)
    assert unfitted.fit(X) is unfitted  # fit returns the estimator itself


def test_integer_input_becomes_float64(impl):
    kmeans = impl.KMeans(2, random_state=0).fit(DOC_X)
    assert kmeans.cluster_centers_.dtype == np.float64


def test_clone_pipeline_and_pickle(impl):
    base = pytest.importorskip("sklearn.base")
    pipeline = pytest.importorskip("sklearn.pipeline")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X = blobs(6)
    kmeans = impl.KMeans(4, random_state=0, tol=1e-3)
    cloned = base.clone(kmeans)
    assert cloned.get_params() == kmeans.get_params() and cloned is not kmeans
    model = pipeline.make_pipeline(preprocessing.StandardScaler(), impl.KMeans(4, random_state=0))
    labels = model.fit_predict(X)
    np.testing.assert_array_equal(model.predict(X), labels)
    fitted = kmeans.fit(X)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.labels_)
    np.testing.assert_array_equal(restored.cluster_centers_, fitted.cluster_centers_)


def test_set_params_and_repr(impl):
    kmeans = impl.KMeans().set_params(n_clusters=3, tol=0.0)
    assert kmeans.get_params()["n_clusters"] == 3
    assert repr(kmeans) == "KMeans(n_clusters=3, tol=0.0)"
    with pytest.raises(ValueError, match="invalid parameter 'k'"):
        kmeans.set_params(k=3)


def test_fewer_distinct_points_than_clusters_warns(impl):
    X = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(2\) found smaller"):
        impl.KMeans(3, random_state=0).fit(X)


def test_an_explicit_init_runs_once_and_warns(impl):
    X = blobs(7)
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        impl.KMeans(4, init=X[:4], n_init=3).fit(X)


BAD = {
    "k>n": ({"n_clusters": 7}, DOC_X, ValueError, "n_samples=6 should be >= n_clusters=7"),
    "nan": ({}, [[0.0, np.nan]] * 9, ValueError, "Input X contains NaN: nan at row 0, column 1"),
    "inf": ({}, [[0.0, 1.0], [-np.inf, 1]] * 9, ValueError, "contains infinity or a value too"),
    "strings": ({}, [["a", "b"]] * 9, TypeError, "X must hold numbers, got dtype <U1"),
    "complex": ({}, np.ones((9, 2), complex), ValueError, "Complex data not supported"),
    "objects": ({}, [[{"a": 1}, 2.0]] * 9, TypeError, "X must hold numbers: float() argument"),
    "rank-1": ({}, [1.0, 2.0, 3.0], ValueError, "Reshape your data either using"),
    "no-rows": ({}, np.empty((0, 3)), ValueError, "Found array with 0 sample(s) (shape=(0, 3))"),
    "no-columns": ({}, np.empty((9, 0)), ValueError, "0 feature(s) (shape=(9, 0)) while a"),
    "tol-str": ({"tol": "x"}, DOC_X, TypeError, "tol='x' should be a finite number"),
    "n_clusters-float": ({"n_clusters": 2.0}, DOC_X, TypeError, "n_clusters must be an integer"),
    "init-shape": (
        {"n_clusters": 2, "init": [[0.0, 0.0]]},
        DOC_X,
        ValueError,
        "initial centers (1, 2) does not match the number of clusters 2",
    ),
    "init-name": ({"init": "kmeans++"}, DOC_X, ValueError, "init='kmeans++'"),
    "tol": ({"tol": -1.0}, DOC_X, ValueError, "tol=-1.0"),
    "n_init": ({"n_init": 0}, DOC_X, ValueError, "n_init=0"),
    "max_iter": ({"max_iter": 0}, DOC_X, ValueError, "max_iter=0"),
    "random_state": ({"random_state": -1}, DOC_X, ValueError, "random_state=-1"),
}


@pytest.mark.parametrize(("params", "X", "error", "words"), BAD.values(), ids=BAD.keys())
def test_bad_input_is_refused_with_the_value_named(impl, params, X, error, words):
    with pytest.raises(error) as info:
        impl.KMeans(**{"n_clusters": 2, **params}).fit(X)
    assert words in str(info.value)
    assert type(info.value) is InvalidParameterError  # one class, a TypeError and a ValueError


def test_bad_sample_weight_and_unfitted_use(impl):
    with pytest.raises(ValueError, match=r"sample_weight must be finite and >= 0, got -1.0 at 2"):
        impl.KMeans(2).fit(DOC_X, sample_weight=[1, 1, -1, 1, 1, 1])
    for method in ("predict", "transform", "score"):
        with pytest.raises(NotFittedError, match="This KMeans instance is not fitted yet"):
            getattr(impl.KMeans(2), method)(DOC_X)
    fitted = impl.KMeans(2, random_state=0).fit(DOC_X)
    for method in ("predict", "transform", "score"):
        with pytest.raises(ValueError, match="X has 3 features, but KMeans is expecting 2"):
            getattr(fitted, method)(np.zeros((2, 3)))
        with pytest.raises(ValueError, match="Reshape your data"):
            getattr(fitted, method)(np.zeros(2))


def test_no_warning_on_a_clean_fit(impl):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        impl.KMeans(4, random_state=0).fit(blobs(8))


@pytest.mark.parametrize("n_features", [2, 5])  # the elementwise and the matmul forms
def test_chunk_boundaries_change_nothing(impl, monkeypatch, n_features):
    """8 rows a chunk over 103 samples: 12 full chunks and one shifted, overlapping last."""
    from kmeans_tutorial.engine import lloyd_ops

    X = blobs(9, n_samples=103, n_features=n_features)
    weights = np.random.RandomState(0).uniform(0.5, 2, len(X))
    # Compiled, as larger data is: small data's plain ops take all its rows in one chunk.
    monkeypatch.setattr(lloyd_ops, "UNCOMPILED_WORK", -1)
    whole = impl.KMeans(4, init=X[:4], n_init=1).fit(X, sample_weight=weights)
    from kmeans_tutorial.engine import buckets, dense_core

    # Each row counts its features and its (padded) centres' distances.
    width = n_features + buckets.program_clusters(4, n_features)
    monkeypatch.setattr(lloyd_ops, "CHUNK_BUDGET", 8 * width)
    monkeypatch.setattr(lloyd_ops, "MIN_CHUNK_ROWS", 1)
    assert dense_core.chunk("lloyd", len(X), n_features, width - n_features) == 8
    chunked = impl.KMeans(4, init=X[:4], n_init=1).fit(X, sample_weight=weights)
    np.testing.assert_array_equal(chunked.labels_, whole.labels_)
    assert chunked.n_iter_ == whole.n_iter_
    np.testing.assert_allclose(chunked.cluster_centers_, whole.cluster_centers_, rtol=1e-12)
    theirs = sklearn_cluster.KMeans(4, init=X[:4], n_init=1, algorithm="lloyd")
    assert_same_as_sklearn(chunked, theirs.fit(X, sample_weight=weights))


def test_verbose_logs_each_iteration_and_changes_nothing(impl, capsys):
    import re

    X = blobs(10, n_samples=800)
    quiet = impl.KMeans(4, random_state=0).fit(X)
    loud = impl.KMeans(4, random_state=0, verbose=1).fit(X)
    for attribute in ("cluster_centers_", "labels_", "inertia_", "n_iter_"):
        np.testing.assert_array_equal(getattr(loud, attribute), getattr(quiet, attribute))
    lines = capsys.readouterr().out.splitlines()
    steps = [line for line in lines if line.startswith("Iteration ")]
    assert len(steps) == loud.n_iter_
    # scikit-learn's words, iterations counted from 0, so that code matching them works.
    assert re.fullmatch(r"Iteration 0, inertia [0-9.e+]+\.", steps[0]), steps[0]
    assert lines[0] == "Initialization complete"
    assert re.fullmatch(
        r"Converged at iteration [0-9]+: (strict convergence|center shift .*)\.", lines[-1]
    )


@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_refitting_with_the_same_random_state_gives_the_same_fit(impl, init):
    """TF1's stateful shuffle op continues its stream when run again: no op is reused."""
    X = blobs(11)
    fits = [impl.KMeans(4, init=init, n_init=3, random_state=7).fit(X) for _ in range(3)]
    for fit in fits[1:]:
        np.testing.assert_array_equal(fit.cluster_centers_, fits[0].cluster_centers_)
        assert fit.n_iter_ == fits[0].n_iter_


# Fits over more rows than two default chunks, at the chunk sizes users get: (n, d, k).
LARGE = {"300k-2d-k7": (300_000, 2, 7), "120k-40d-k70": (120_000, 40, 70)}


def large_case(name):
    """Blobs for a ``LARGE`` case, and initial centres near the true ones.

    A start near the true centres keeps the run away from near-ties: from random samples,
    XLA's matmul on TF 2.16 and on 2.21 rounded one early distance differently, and the
    run went to another local optimum than scikit-learn's.
    """
    from kmeans_tutorial.engine import lloyd_ops

    n_samples, n_features, n_clusters = LARGE[name]
    assert n_samples > 2 * lloyd_ops.chunk_size(n_samples, n_features + n_clusters)
    X, _, centers = datasets.make_blobs(
        n_samples=n_samples,
        n_features=n_features,
        centers=n_clusters,
        random_state=12,
        return_centers=True,
    )
    init = centers + np.random.RandomState(12).normal(0, 1.0, centers.shape)
    return X, init


@pytest.mark.parametrize("name", LARGE)
def test_fits_over_many_default_chunks_agree_with_scikit_learn(impl, name):
    X, init = large_case(name)
    ours = impl.KMeans(len(init), init=init, n_init=1, max_iter=30).fit(X)
    assert_same_as_sklearn(ours, sklearn_lloyd(X, init, max_iter=30))


def test_not_fitted_is_scikit_learns_error_too_when_it_is_loaded(impl):
    """Code that catches scikit-learn's NotFittedError catches ours; one class each time."""
    exceptions = pytest.importorskip("sklearn.exceptions")
    errors = []
    for _ in range(2):
        with pytest.raises(exceptions.NotFittedError) as info:
            impl.KMeans(2).predict(DOC_X)
        errors.append(type(info.value))
    assert errors[0] is errors[1] and issubclass(errors[0], NotFittedError)


def driver(impl):
    """The package's ``engine.kmeans`` module, where its programs and graphs are cached."""
    import importlib

    return importlib.import_module(f"{impl.__name__}.engine.kmeans")


def programs_compiled(impl, shapes):
    """Compiled programs the package built: TF2's new XLA functions; TF1's programs in
    the graphs of ``shapes``, by name."""
    if impl.__name__ == "tf2_eager":
        return driver(impl)._compiled.cache_info().misses
    cache = driver(impl)._ShapeGraph._cache
    graphs = [cache.get((np.dtype(np.float64).str, shape)) for shape in shapes]
    return sorted(
        key[0]
        for graph in graphs
        if graph is not None
        for key in graph.ops
        if isinstance(key, tuple) and key[0] in ("kmeans_plus_plus", "lloyd", "assign_and_inertia")
    )


def test_restarts_and_nearby_batch_sizes_compile_nothing_new(impl, monkeypatch):
    """Three restarts share one seeding and one Lloyd program; batches of 1030 to 1280
    rows share one assignment program (``batch_core.batch_rows``); the fit's 1237 rows are
    padded to 1280 too (``buckets``). Shapes no other test uses; compiled, as larger data
    is (small data's programs are made once for any shape: ``test_program_sharing``)."""
    from kmeans_tutorial.engine import lloyd_ops

    monkeypatch.setattr(lloyd_ops, "UNCOMPILED_WORK", -1)
    if impl.__name__ == "tf1_graph":
        monkeypatch.setattr(driver(impl)._ShapeGraph, "MAX_GRAPHS", 100)  # no graph evicted
    X = blobs(8, n_samples=1237, n_features=3)
    shapes = [(1237, 3), (1280, 3)]
    before = programs_compiled(impl, shapes)
    model = impl.KMeans(4, n_init=3, random_state=0).fit(X)
    after_fit = programs_compiled(impl, shapes)
    extra = np.concatenate([X, X])
    for rows in (1030, 1100, 1200, 1237, 1280):
        model.predict(extra[:rows])
        model.score(extra[:rows])
    after_batches = programs_compiled(impl, shapes)
    if impl.__name__ == "tf2_eager":
        assert (after_fit - before, after_batches - after_fit) == (2, 1)
    else:
        assert before == []
        assert after_fit == ["kmeans_plus_plus", "lloyd"]
        assert after_batches == ["assign_and_inertia", "kmeans_plus_plus", "lloyd"]
        for rows in (1030, 1100, 1200):
            assert (np.dtype(np.float64).str, (rows, 3)) not in driver(impl)._ShapeGraph._cache


def test_a_padded_batch_gives_what_each_sample_alone_does(impl):
    """Padding (``base._batch_rows``) changes no label, distance or score."""
    X = blobs(9, n_samples=300)
    model = impl.KMeans(4, random_state=0).fit(X)
    batch = X[:37] * 1.1  # padded to 40 rows
    one_by_one = np.concatenate([model.predict(row[np.newaxis]) for row in batch])
    np.testing.assert_array_equal(model.predict(batch), one_by_one)
    expected = np.sqrt(((batch[:, np.newaxis] - model.cluster_centers_) ** 2).sum(axis=2))
    np.testing.assert_allclose(model.transform(batch), expected, rtol=1e-6)
    nearest = expected.min(axis=1) ** 2
    np.testing.assert_allclose(model.score(batch), -nearest.sum(), rtol=1e-6)


def test_more_centres_than_distinct_points_give_no_nan(impl):
    """A cluster left empty when every point sits on a centre is not relocated, and takes
    the heaviest cluster's centre: no nan, and the fit converges (it ran to max_iter)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 0]], dtype=np.float64)
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(3\)"):
        fit = impl.KMeans(n_clusters=4, random_state=0).fit(X)
    assert np.isfinite(fit.cluster_centers_).all() and np.isfinite(fit.score(X))
    assert fit.n_iter_ <= 2
    assert set(fit.labels_) == {0, 1, 2}


def test_a_cluster_given_only_a_weightless_point_gets_no_nan(impl):
    """The farthest point, moved to the empty cluster, weighs 0: that cluster takes the
    heaviest cluster's centre, as scikit-learn's (0, 1.5, 1.5), not 0 / 0."""
    X = np.array([[0.0], [1.0], [2.0], [50.0]])
    init = np.array([[0.0], [1.0], [1000.0]])
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(2\)"):
        fit = impl.KMeans(3, init=init, n_init=1, max_iter=1).fit(X, sample_weight=[1, 1, 1, 0])
    np.testing.assert_allclose(fit.cluster_centers_[:, 0], [0.0, 1.5, 1.5])
