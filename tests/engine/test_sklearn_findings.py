"""What scikit-learn's own ``test_k_means.py`` found in ours (``nox -s sklearn``), kept as
tests of ours: each failed before its fix, in every path the fix touched (dense, sparse,
streamed, under a strategy, mini-batch), in both packages.
"""

import numpy as np
import pytest

from kmeans_tutorial.engine import ConvergenceWarning
from kmeans_tutorial.validation import InvalidParameterError

sparse = pytest.importorskip("scipy.sparse")
sklearn_exceptions = pytest.importorskip("sklearn.exceptions")

# Four points, three of them distinct: a fourth centre can have no point of its own.
FOUR = np.array([[0, 0], [0, 1], [1, 0], [1, 0]], dtype=np.float64)
# The farthest point, which an empty cluster takes, weighs 0.
LINE = np.array([[0.0], [1.0], [2.0], [50.0]])
LINE_INIT = np.array([[0.0], [1.0], [1000.0]])
LINE_WEIGHTS = np.array([1.0, 1.0, 1.0, 0.0])


def _dataset(X, weights=None, batch=2):
    import tensorflow as tf

    elements = X if weights is None else (X, weights)
    return tf.data.Dataset.from_tensor_slices(elements).batch(batch)


def _fit(impl, path, X, weights=None, **params):
    """``KMeans(**params)`` fitted on ``X`` handed over as ``path`` says."""
    model = impl.KMeans(**params)
    if path == "dense":
        return model.fit(X, sample_weight=weights)
    if path == "sparse":
        return model.fit(sparse.csr_matrix(X), sample_weight=weights)
    if path == "dataset":
        return model.fit(_dataset(X, weights))
    assert path == "strategy"
    import tensorflow as tf

    if impl.__name__ != "tf2_eager":
        pytest.skip("TF1's clusters run in the distributed session (tests/distributed/)")
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        return model.fit(_dataset(X, weights))


PATHS = ["dense", "sparse", "dataset", "strategy"]


@pytest.mark.parametrize("path", PATHS)
def test_more_centres_than_distinct_points_converge_without_nan(impl, path):
    """Before: centre 3 was ``[nan, nan]`` and the fit ran to ``max_iter`` (300)."""
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(3\)"):
        fit = _fit(impl, path, FOUR, n_clusters=4, random_state=0)
    assert np.isfinite(fit.cluster_centers_).all()
    assert fit.n_iter_ <= 2
    # The centre left without a point sits on one of the points, as scikit-learn's does.
    assert {tuple(c) for c in fit.cluster_centers_} == {(0.0, 0.0), (0.0, 1.0), (1.0, 0.0)}
    assert np.isfinite(fit.score(FOUR))


@pytest.mark.parametrize("path", PATHS)
def test_a_weightless_point_moved_to_an_empty_cluster_gives_no_nan(impl, path):
    """Before: ``[0, 1.5, nan]`` (its cluster's weight was the moved point's 0); scikit-learn
    gives ``[0, 1.5, 1.5]``: the weightless cluster takes the heaviest one's centre."""
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(2\)"):
        fit = _fit(
            impl, path, LINE, LINE_WEIGHTS, n_clusters=3, init=LINE_INIT, n_init=1, max_iter=1
        )
    np.testing.assert_array_equal(fit.cluster_centers_[:, 0], [0.0, 1.5, 1.5])


def test_mini_batch_gives_no_nan_with_more_centres_than_distinct_points(impl):
    fit = impl.MiniBatchKMeans(n_clusters=4, random_state=0, n_init=1, batch_size=4).fit(FOUR)
    assert np.isfinite(fit.cluster_centers_).all()
    fit = impl.MiniBatchKMeans(3, init=LINE_INIT, n_init=1, max_iter=1, batch_size=4).fit(
        LINE, sample_weight=LINE_WEIGHTS
    )
    assert np.isfinite(fit.cluster_centers_).all()


@pytest.mark.parametrize("estimator", ["KMeans", "MiniBatchKMeans"])
def test_partial_fit_and_predict_take_a_sparse_matrix(impl, estimator):
    """Before: ``partial_fit`` refused every sparse matrix (``X must hold numbers``)."""
    X = sparse.random(60, 5, density=0.4, format="csr", random_state=0)
    if estimator == "KMeans":
        fit = impl.KMeans(3, random_state=0).fit(X)
    else:
        fit = impl.MiniBatchKMeans(3, random_state=0, n_init=1).partial_fit(X).partial_fit(X)
    np.testing.assert_array_equal(fit.predict(X), fit.predict(X.toarray()))
    assert fit.labels_.shape == (60,)


def test_tf1_graphs_replaced_in_the_cache_keep_a_fit_s_session_open(tf1, monkeypatch):
    """Before: a fit failed with ``Attempted to use a closed Session`` once the graph cache
    replaced the graph its core still ran (40 fits in a row met it at the 26th). With every
    look-up building a new graph, the first mini-batch fit meets it."""
    from tf1_graph.engine import kmeans

    monkeypatch.setattr(kmeans._ShapeGraph, "MAX_OPS", 0)
    X = np.random.RandomState(0).rand(200, 10)
    fit = tf1.MiniBatchKMeans(n_clusters=10, init="random", n_init=3, random_state=0).fit(X)
    assert np.isfinite(fit.cluster_centers_).all()


@pytest.mark.parametrize("estimator", ["KMeans", "MiniBatchKMeans"])
@pytest.mark.parametrize("seed", range(4))
def test_random_init_draws_rows_by_weight(impl, estimator, seed):
    """Before: ``init="random"`` drew rows uniformly, so a row of weight 0 could be a centre.
    With only 3 rows of weight > 0, those 3 are the initial centres, whatever the seed."""
    X = np.arange(40, dtype=np.float64)[:, np.newaxis]
    weights = np.zeros(40)
    weights[[3, 17, 29]] = [1.0, 2.0, 3.0]
    params = {"init": "random", "n_init": 1, "max_iter": 1, "random_state": seed}
    if estimator == "MiniBatchKMeans":
        params.update(batch_size=40, init_size=40)
    fit = getattr(impl, estimator)(3, **params).fit(X, sample_weight=weights)
    # Each centre's only weighted member is itself (a mini-batch step rounds its move).
    np.testing.assert_allclose(sorted(fit.cluster_centers_[:, 0]), [3.0, 17.0, 29.0], rtol=1e-12)


def test_algorithm_as_scikit_learn_names_it(impl):
    X = FOUR[:3]
    impl.KMeans(2, algorithm="lloyd", random_state=0).fit(X)
    impl.KMeans(2, algorithm="elkan", random_state=0).fit(X)
    with pytest.raises(InvalidParameterError, match="algorithm='Elkan' should be 'lloyd' or"):
        impl.KMeans(2, algorithm="Elkan").fit(X)
    for removed in ("auto", "full"):
        with pytest.raises(InvalidParameterError, match=f"algorithm='{removed}' was removed"):
            impl.KMeans(2, algorithm=removed).fit(X)


def test_warnings_are_scikit_learn_s_convergence_warning(impl):
    with pytest.warns(sklearn_exceptions.ConvergenceWarning):
        impl.KMeans(n_clusters=4, random_state=0).fit(FOUR)


def test_feature_names_out_in_a_pipeline(impl):
    pipeline = pytest.importorskip("sklearn.pipeline")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X = np.random.RandomState(0).rand(30, 3)
    fit = impl.KMeans(3, random_state=0).fit(X)
    assert list(fit.get_feature_names_out()) == ["kmeans0", "kmeans1", "kmeans2"]
    mini = impl.MiniBatchKMeans(2, random_state=0, n_init=1).fit(X)
    assert list(mini.get_feature_names_out()) == ["minibatchkmeans0", "minibatchkmeans1"]
    steps = pipeline.make_pipeline(preprocessing.StandardScaler(), impl.KMeans(2, random_state=0))
    assert list(steps.fit(X).get_feature_names_out()) == ["kmeans0", "kmeans1"]


def test_a_callable_init_is_called_as_scikit_learn_calls_it(impl):
    X = np.random.RandomState(0).rand(50, 2)
    calls = []

    def first_rows(data, n_clusters, random_state):
        calls.append((data.shape, n_clusters, type(random_state).__name__))
        return data[:n_clusters]

    by_call = impl.KMeans(3, init=first_rows, n_init=1).fit(X)
    given = impl.KMeans(3, init=X[:3], n_init=1).fit(X)
    assert calls == [((50, 2), 3, "RandomState")]
    np.testing.assert_array_equal(by_call.cluster_centers_, given.cluster_centers_)


def test_copy_x_false_fits_the_same_and_leaves_x_as_it_was(impl):
    X = np.random.RandomState(0).rand(50, 2) + 100
    before = X.copy()
    copied = impl.KMeans(3, random_state=0, copy_x=True).fit(X)
    in_place = impl.KMeans(3, random_state=0, copy_x=False).fit(X)
    np.testing.assert_array_equal(in_place.cluster_centers_, copied.cluster_centers_)
    np.testing.assert_array_equal(X, before)


def test_kmeans_plusplus_takes_x_squared_norms(impl):
    X = np.random.RandomState(0).rand(50, 2)
    norms = (X**2).sum(axis=1)
    with_norms = impl.kmeans_plusplus(X, 3, x_squared_norms=norms, random_state=0)
    without = impl.kmeans_plusplus(X, 3, random_state=0)
    np.testing.assert_array_equal(with_norms[1], without[1])
    with pytest.raises(InvalidParameterError, match="x_squared_norms"):
        impl.kmeans_plusplus(X, 3, x_squared_norms=norms[:10], random_state=0)


def test_a_loop_over_n_clusters_prints_nothing(impl, caplog):
    """A sweep over ``n_clusters`` (and a dataset's k-means||, whose rounds meet more
    candidates each) makes a program a shape; none of TensorFlow's warnings about a
    function retraced in a loop may reach the user's screen (it used to, four times)."""
    import tensorflow as tf

    X = np.random.RandomState(0).rand(3000, 4).astype(np.float32)
    with caplog.at_level("WARNING", logger="tensorflow"):
        for k in range(2, 12):
            impl.KMeans(k, random_state=0).fit(X)
        impl.KMeans(5, random_state=0).fit(tf.data.Dataset.from_tensor_slices(X).batch(500))
    assert not [record for record in caplog.records if "retracing" in record.getMessage()]


def test_grid_search_and_cross_validation_run_unchanged(impl):
    """scikit-learn's search tools, as a user runs them: a pipeline's ``n_clusters`` chosen
    by ``GridSearchCV`` over 3 folds (the score is minus the inertia, so the most clusters
    win), and ``cross_val_score``; the scores are scikit-learn's own KMeans's, to the
    spread of their seeding, where the 5 blobs leave one good clustering (4 clusters and
    more; with 2 or 3 each seeding merges its own blobs)."""
    from sklearn import cluster
    from sklearn.datasets import make_blobs
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, _ = make_blobs(600, 4, centers=5, random_state=0)

    def search(kmeans):
        pipeline = Pipeline([("scale", StandardScaler()), ("km", kmeans)])
        return GridSearchCV(pipeline, {"km__n_clusters": range(2, 8)}, cv=3).fit(X)

    ours, theirs = search(impl.KMeans(random_state=0)), search(cluster.KMeans(random_state=0))
    assert ours.best_params_ == theirs.best_params_ == {"km__n_clusters": 7}
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"][2:], theirs.cv_results_["mean_test_score"][2:], rtol=0.1
    )
    scores = cross_val_score(impl.KMeans(5, random_state=0), X, cv=3)
    expected = cross_val_score(cluster.KMeans(5, random_state=0), X, cv=3)
    np.testing.assert_allclose(scores, expected, rtol=0.1)


def test_set_output_gives_dataframes_in_a_pipeline(impl):
    """scikit-learn's output API, without scikit-learn at run time: a pipeline's
    ``set_output(transform="pandas")`` reaches the estimator, whose ``transform`` then
    gives a DataFrame named by ``get_feature_names_out`` on the input's index; a clone
    keeps the choice; scikit-learn's global ``transform_output`` is followed too."""
    import pandas as pd
    from sklearn import config_context
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X = pd.DataFrame(np.random.RandomState(0).rand(60, 3), columns=list("abc"))
    X.index = X.index + 100
    pipeline = Pipeline([("scale", StandardScaler()), ("km", impl.KMeans(3, random_state=0))])
    out = pipeline.set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["kmeans0", "kmeans1", "kmeans2"]
    np.testing.assert_array_equal(out.index, X.index)
    kmeans = pipeline.named_steps["km"]
    assert isinstance(clone(kmeans).fit(X.to_numpy()).transform(X.to_numpy()), pd.DataFrame)
    scaled = pd.DataFrame(StandardScaler().fit_transform(X), columns=X.columns, index=X.index)
    distances = kmeans.set_output(transform="default").transform(scaled)
    np.testing.assert_array_equal(out.to_numpy(), distances)
    plain = impl.KMeans(3, random_state=0).fit(X.to_numpy())
    assert isinstance(plain.transform(X.to_numpy()), np.ndarray)
    with config_context(transform_output="pandas"):
        assert isinstance(plain.transform(X.to_numpy()), pd.DataFrame)
    assert isinstance(plain.set_output(transform="default").transform(X.to_numpy()), np.ndarray)
    with pytest.raises(InvalidParameterError, match="transform='arrow' should be"):
        plain.set_output(transform="arrow")


def test_a_notebook_shows_the_estimator(impl):
    """``_repr_html_``: the estimator's repr, escaped, and whether it is fitted."""
    model = impl.KMeans(3, init="k-means||")
    shown = model._repr_html_()
    assert "KMeans(init=&#x27;k-means||&#x27;, n_clusters=3)" in shown and "not fitted" in shown
    model.fit(np.random.RandomState(0).rand(30, 2))
    assert ", fitted" in model._repr_html_()
