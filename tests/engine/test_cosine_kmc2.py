"""``metric="cosine"`` and ``init="kmc2"``: the KMeans estimator's cosine k-means and
TensorFlow's k-MC2 seeding, in both packages' ``KMeans`` and ``MiniBatchKMeans``."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_blobs

from kmeans_tutorial.validation import InvalidParameterError

K = 5


@pytest.fixture(scope="module")
def blobs():
    points, _ = make_blobs(n_samples=1500, n_features=6, centers=K, random_state=7)
    return points


def spherical_kmeans(X, centres, iterations):
    """Cosine k-means in NumPy, float64, as the estimator defines it: unit rows, each
    update's means scaled to length 1 (``tf.math.l2_normalize``)."""
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)
    for _ in range(iterations):
        labels = (unit @ centres.T).argmax(axis=1)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, unit)
        centres = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    labels = (unit @ centres.T).argmax(axis=1)
    return centres, labels, float((1 - (unit @ centres.T).max(axis=1)).sum())


def test_cosine_kmeans_is_spherical_kmeans(impl, blobs):
    init = blobs[:K]
    model = impl.KMeans(K, init=init, n_init=1, max_iter=50, tol=0, metric="cosine").fit(blobs)
    centres, labels, inertia = spherical_kmeans(blobs, init, model.n_iter_)
    np.testing.assert_allclose(model.cluster_centers_, centres, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(model.labels_, labels)
    np.testing.assert_allclose(model.inertia_, inertia, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(model.cluster_centers_, axis=1), 1, rtol=1e-12)


def test_cosine_predict_transform_score(impl, blobs):
    model = impl.KMeans(K, random_state=0, metric="cosine").fit(blobs)
    unit = blobs / np.linalg.norm(blobs, axis=1, keepdims=True)
    cosine = 1 - unit @ model.cluster_centers_.T
    np.testing.assert_allclose(model.transform(blobs), cosine, atol=1e-12)
    np.testing.assert_array_equal(model.predict(blobs), cosine.argmin(axis=1))
    np.testing.assert_allclose(model.score(blobs), -cosine.min(axis=1).sum(), rtol=1e-9)


@pytest.mark.parity
def test_cosine_kmeans_takes_the_estimators_steps(tf2, blobs, tmp_path):
    """The drop-in (proven against the real estimator by ``nox -s estimator``) trained
    full-batch with the cosine metric for ten steps, and ``KMeans(metric="cosine")`` run
    ten iterations from the same centres: the same centres, labels and loss."""
    import tensorflow as tf

    from tf1_graph.estimator import KMeans as Estimator

    X = blobs.astype(np.float32)
    init = X[:K]
    cosine = Estimator.COSINE_DISTANCE
    estimator = Estimator(K, model_dir=tmp_path, initial_clusters=init, distance_metric=cosine,
                          use_mini_batch=False)  # fmt: skip
    estimator.train(lambda: tf.data.Dataset.from_tensors(X).repeat(), steps=10)
    ours = tf2.KMeans(K, init=init, n_init=1, max_iter=10, tol=0, metric="cosine").fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, estimator.cluster_centers(), atol=1e-5)
    labels = list(estimator.predict_cluster_index(lambda: tf.data.Dataset.from_tensors(X)))
    np.testing.assert_array_equal(ours.predict(X), labels)
    score = estimator.score(lambda: tf.data.Dataset.from_tensors(X))
    np.testing.assert_allclose(-ours.score(X), score, rtol=1e-4)


@pytest.mark.parity
@pytest.mark.parametrize("cls", ["KMeans", "MiniBatchKMeans"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize(
    "params",
    [{"metric": "cosine"}, {"init": "kmc2"}, {"metric": "cosine", "init": "kmc2"}],
    ids=["cosine", "kmc2", "cosine-kmc2"],
)
def test_tf1_and_tf2_fit_bit_identically(tf1, tf2, blobs, cls, sparse, params):
    X = sp.csr_matrix(blobs) if sparse else blobs
    fits = [getattr(p, cls)(K, random_state=2, **params).fit(X) for p in (tf1, tf2)]
    np.testing.assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)
    assert fits[0].inertia_ == fits[1].inertia_


@pytest.mark.parity
def test_tf1_and_tf2_partial_fit_cosine_bit_identically(tf1, tf2, blobs):
    fits = []
    for package in (tf1, tf2):
        model = package.MiniBatchKMeans(K, random_state=1, metric="cosine")
        for start in range(0, 1500, 500):
            model.partial_fit(blobs[start : start + 500])
        fits.append(model)
    np.testing.assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)


def test_mini_batch_cosine_centres_are_unit_and_fit_well(impl, blobs):
    full = impl.KMeans(K, random_state=0, metric="cosine").fit(blobs)
    mini = impl.MiniBatchKMeans(K, random_state=0, metric="cosine", batch_size=256).fit(blobs)
    np.testing.assert_allclose(np.linalg.norm(mini.cluster_centers_, axis=1), 1, rtol=1e-12)
    assert mini.inertia_ <= 1.05 * full.inertia_


def test_kmc2_seeds_as_well_as_kmeans_plus_plus(impl, blobs):
    """Median inertia over seeds, one run each, no Lloyd iterations to hide a bad start."""

    def median(init):
        fits = [impl.KMeans(K, init=init, n_init=1, max_iter=1, random_state=seed).fit(blobs)
                for seed in range(7)]  # fmt: skip
        return np.median([fit.inertia_ for fit in fits])

    inertia = {init: median(init) for init in ("kmc2", "k-means++", "random")}
    assert inertia["kmc2"] <= 1.5 * inertia["k-means++"]
    assert inertia["kmc2"] < inertia["random"]


def test_the_chain_is_tensorflows_k_mc2(impl):
    """``KMC2ChainInitialization`` moves to a far candidate and never leaves it: among
    candidates at distance 0, one at distance 1e6 is the chain's end."""
    package_kmeans = __import__(f"{impl.__name__}.engine.kmeans", fromlist=["_chain"])
    distances = np.zeros(200, np.float32)
    distances[137] = 1e6
    assert package_kmeans._chain(distances, 5) == 137


def test_cosine_refuses_a_row_of_zeros_by_its_index(impl, blobs):
    X = blobs.copy()
    X[11] = 0
    with pytest.raises(InvalidParameterError, match="row 11 of X is all zeros"):
        impl.KMeans(K, metric="cosine").fit(X)


@pytest.mark.parametrize("cls", ["KMeans", "MiniBatchKMeans"])
def test_cosine_refuses_streams(impl, blobs, cls, tmp_path):
    np.save(tmp_path / "x.npy", blobs)
    memmap = np.load(tmp_path / "x.npy", mmap_mode="r")
    with pytest.raises(InvalidParameterError, match="not a stream"):
        getattr(impl, cls)(K, metric="cosine").fit(memmap)


def test_a_bad_metric_is_named(impl, blobs):
    with pytest.raises(InvalidParameterError, match="metric='manhattan'"):
        impl.KMeans(K, metric="manhattan").fit(blobs)
