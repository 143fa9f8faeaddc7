"""``BisectingKMeans`` in each package: scikit-learn's tree, splits and predictions from the
same starts; TF1 and TF2 bit for bit; the inputs it takes and refuses."""

import re

import numpy as np
import pytest

from kmeans_tutorial.validation import InvalidParameterError

sklearn_cluster = pytest.importorskip("sklearn.cluster")
datasets = pytest.importorskip("sklearn.datasets")
sparse = pytest.importorskip("scipy.sparse")


def blobs(seed=0, n_samples=1500, n_features=4, centers=7, dtype=np.float64):
    X, _ = datasets.make_blobs(
        n_samples=n_samples, n_features=n_features, centers=centers, random_state=seed
    )
    return X.astype(dtype)


def first_and_farthest(X, n_clusters, random_state=None):
    """A start both libraries take alike: the split's first row and the row farthest from
    it (a CSR matrix made dense here)."""
    rows = X.toarray() if sparse.issparse(X) else np.asarray(X)
    far = np.argmax(np.sum((rows - rows[0]) ** 2, axis=1))
    return rows[[0, far]]


@pytest.mark.parametrize("strategy", ["biggest_inertia", "largest_cluster"])
@pytest.mark.parametrize("container", ["dense", "csr"])
@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_the_tree_and_its_predictions_are_scikit_learns(impl, strategy, container, algorithm):
    X = np.abs(blobs())  # positive, so that a sparse copy keeps its rows apart
    weights = np.random.RandomState(1).uniform(0.5, 2.0, len(X))
    if container == "csr":
        X = sparse.csr_matrix(np.where(X > 4, X, 0))
    params = dict(
        n_clusters=6, init=first_and_farthest, bisecting_strategy=strategy, algorithm=algorithm
    )
    ours = impl.BisectingKMeans(**params).fit(X, sample_weight=weights)
    theirs = sklearn_cluster.BisectingKMeans(**params).fit(X, sample_weight=weights)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6)
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=1e-6)
    assert ours.labels_.dtype == np.int32
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)
    # Far points: going down the tree is not always the nearest leaf.
    far = 40 * np.random.RandomState(2).rand(300, X.shape[1])
    if container == "csr":
        far = sparse.csr_matrix(far)
    np.testing.assert_array_equal(ours.predict(far), theirs.predict(far))
    np.testing.assert_allclose(ours.score(far), theirs.score(far), rtol=1e-6)


def test_predict_goes_down_the_tree_not_to_the_nearest_leaf(impl):
    X = blobs(3)
    fit = impl.BisectingKMeans(5, random_state=0).fit(X)
    far = 50 * np.random.RandomState(0).rand(400, X.shape[1])
    nearest = np.argmin(fit.transform(far), axis=1)
    assert not np.array_equal(fit.predict(far), nearest)


@pytest.mark.parity
@pytest.mark.parametrize("strategy", ["biggest_inertia", "largest_cluster"])
@pytest.mark.parametrize("init", ["random", "k-means++"])
@pytest.mark.parametrize("container", ["dense", "csr"])
def test_both_packages_bisect_bit_for_bit(tf1, tf2, strategy, init, container):
    X = np.abs(blobs(4, dtype=np.float32))
    if container == "csr":
        X = sparse.csr_matrix(np.where(X > 4, X, 0))
    weights = np.random.RandomState(5).uniform(0.5, 2.0, X.shape[0])
    params = dict(n_clusters=7, init=init, n_init=2, random_state=6, bisecting_strategy=strategy)
    one = tf1.BisectingKMeans(**params).fit(X, sample_weight=weights)
    two = tf2.BisectingKMeans(**params).fit(X, sample_weight=weights)
    np.testing.assert_array_equal(one.cluster_centers_, two.cluster_centers_)
    np.testing.assert_array_equal(one.labels_, two.labels_)
    assert one.inertia_ == two.inertia_ and one.n_iter_ == two.n_iter_
    far = 30 * np.random.RandomState(7).rand(100, X.shape[1]).astype(np.float32)
    np.testing.assert_array_equal(one.predict(far), two.predict(far))


def test_a_memmap_is_read_once_and_fits_as_the_array(impl, tmp_path):
    X = blobs(8)
    mapped = np.memmap(tmp_path / "x.dat", dtype=X.dtype, mode="w+", shape=X.shape)
    mapped[:] = X
    mapped.flush()
    from_file = impl.BisectingKMeans(4, random_state=1).fit(mapped)
    in_memory = impl.BisectingKMeans(4, random_state=1).fit(X)
    np.testing.assert_array_equal(from_file.cluster_centers_, in_memory.cluster_centers_)
    np.testing.assert_array_equal(from_file.labels_, in_memory.labels_)


def test_more_clusters_than_distinct_points_give_no_nan(impl):
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 0.0]]), 10, axis=0)
    fit = impl.BisectingKMeans(5, random_state=0).fit(X)
    assert not np.isnan(fit.cluster_centers_).any()
    assert set(np.unique(fit.labels_)) <= set(range(5))
    assert fit.inertia_ == 0
    np.testing.assert_array_equal(fit.predict(X), fit.labels_)


def test_what_it_refuses_it_names(impl):
    import tensorflow as tf

    X = blobs(9, n_samples=50)
    refused = {
        "init": ({"init": X[:2]}, "init should be 'k-means++', 'random' or a callable"),
        "strategy": ({"bisecting_strategy": "largest"}, "bisecting_strategy='largest'"),
        "algorithm": ({"algorithm": "full"}, "algorithm='full' was removed"),
        "n_init": ({"n_init": 0}, "n_init"),
        "n_clusters": ({"n_clusters": 51}, "n_samples=50 should be >= n_clusters=51"),
    }
    for params, words in refused.values():
        with pytest.raises(InvalidParameterError, match=re.escape(words)):
            impl.BisectingKMeans(**params).fit(X)
    dataset = tf.data.Dataset.from_tensor_slices(X).batch(10)
    with pytest.raises(InvalidParameterError, match="not a dataset"):
        impl.BisectingKMeans(2).fit(dataset)
    fitted = impl.BisectingKMeans(2, random_state=0).fit(X)
    with pytest.raises(InvalidParameterError, match="goes down the tree"):
        fitted.export_saved_model("unused")


def test_one_cluster_is_the_mean(impl):
    X = blobs(10, n_samples=40)
    fit = impl.BisectingKMeans(1).fit(X, sample_weight=np.arange(40) + 1.0)
    np.testing.assert_allclose(fit.cluster_centers_, [X.mean(axis=0)])  # unweighted, as theirs
    assert (fit.predict(X) == 0).all() and fit.n_iter_ == 0
