"""Streamed fits: ``tf.data`` datasets, memmaps and array-likes read batch by batch.

A streamed fit is exact Lloyd: from the same start it reaches the centres of a fit on the
whole array (to rounding: the sums are added batch by batch), and TF1 and TF2 agree bit
for bit, whatever the source.
"""

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial.engine import kmeans as engine_kmeans
from kmeans_tutorial.engine import sources
from kmeans_tutorial.validation import InvalidParameterError

K = 6


@pytest.fixture(scope="module")
def blobs():
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=5000, n_features=4, centers=K, random_state=3)
    return X.astype(np.float32)


@pytest.fixture
def memmap(blobs, tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, blobs)
    return np.load(path, mmap_mode="r")


def dataset(X, batch=700, weights=None):
    parts = X if weights is None else (X, weights)
    return tf.data.Dataset.from_tensor_slices(parts).batch(batch)


class ArrayLike:
    """A 2-D array-like that is not a NumPy array (as an HDF5 dataset is): rows by slice."""

    def __init__(self, X):
        self.X, self.shape, self.dtype = X, X.shape, X.dtype

    def __getitem__(self, index):
        return self.X[index]


def assert_close_centres(actual, desired):
    """Within 1e-5 relative to the centres' scale (a coordinate near 0 has no scale)."""
    np.testing.assert_allclose(actual, desired, rtol=1e-5, atol=1e-5 * np.abs(desired).max())


def assert_same_fit(streamed, whole):
    """Centres within 1e-5 relative; labels equal but at near-ties (none in these blobs)."""
    assert_close_centres(streamed.cluster_centers_, whole.cluster_centers_)
    np.testing.assert_array_equal(streamed.labels_, whole.labels_)
    assert streamed.n_iter_ == whole.n_iter_
    np.testing.assert_allclose(streamed.inertia_, whole.inertia_, rtol=1e-5)


@pytest.mark.parametrize("source", ["dataset", "memmap", "array-like"])
def test_streamed_fit_equals_the_array_fit(impl, blobs, memmap, source):
    init = blobs[::977][:K].copy()
    whole = impl.KMeans(K, init=init, n_init=1).fit(blobs)
    X = {"dataset": dataset(blobs), "memmap": memmap, "array-like": ArrayLike(blobs)}[source]
    streamed = impl.KMeans(K, init=init, n_init=1).fit(X)
    assert_same_fit(streamed, whole)
    assert whole.n_iter_ > 2  # several passes were compared, not one


def test_weighted_dataset_equals_weighted_array_fit(impl, blobs):
    weights = np.random.RandomState(0).uniform(0, 3, len(blobs)).astype(np.float32)
    init = blobs[:K].copy()
    whole = impl.KMeans(K, init=init, n_init=1).fit(blobs, sample_weight=weights)
    streamed = impl.KMeans(K, init=init, n_init=1).fit(dataset(blobs, weights=weights))
    assert_same_fit(streamed, whole)
    unweighted = impl.KMeans(K, init=init, n_init=1).fit(blobs)
    assert abs(unweighted.inertia_ - streamed.inertia_) > 1e-3 * streamed.inertia_


def test_small_chunks_are_still_exact_lloyd(impl, blobs, memmap, monkeypatch):
    """Many chunks of a memmap, the last one short: the same fit."""
    monkeypatch.setattr(sources, "CHUNK_NUMBERS", 4 * sources.MIN_CHUNK_ROWS)
    init = blobs[:K].copy()
    whole = impl.KMeans(K, init=init, n_init=1).fit(blobs)
    assert_same_fit(impl.KMeans(K, init=init, n_init=1).fit(memmap), whole)


def test_empty_clusters_are_relocated_as_on_arrays(impl, blobs):
    """Two initial centres far from every row: both runs relocate them alike."""
    init = np.concatenate([blobs[: K - 2], np.full((2, 4), 1e4, np.float32)])
    whole = impl.KMeans(K, init=init, n_init=1).fit(blobs)
    streamed = impl.KMeans(K, init=init, n_init=1).fit(dataset(blobs, batch=512))
    assert_same_fit(streamed, whole)


@pytest.mark.parametrize("make", [dataset, lambda X: X], ids=["dataset", "memmap"])
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_tf1_and_tf2_stream_bit_identically(tf1, tf2, blobs, memmap, make, init):
    source = make(blobs) if make is dataset else memmap
    fits = [pkg.KMeans(K, init=init, n_init=2, random_state=5).fit(source) for pkg in (tf1, tf2)]
    np.testing.assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)
    assert fits[0].inertia_ == fits[1].inertia_
    outputs = [(fit.predict(source), fit.transform(source), fit.score(source)) for fit in fits]
    for tf1_output, tf2_output in zip(*outputs, strict=True):
        np.testing.assert_array_equal(tf1_output, tf2_output)


def test_a_dataset_is_seeded_by_k_means_parallel_over_all_its_rows(impl, blobs):
    """k-means++ on a dataset, which is read in order, is its scalable form k-means|| over
    all of it (``parallel_init``): the fit of ``init="k-means||"``, not of k-means++ on the
    dataset's first rows."""
    streamed = impl.KMeans(K, random_state=7, max_iter=1).fit(dataset(blobs))
    parallel = impl.KMeans(K, init="k-means||", random_state=7, max_iter=1).fit(dataset(blobs))
    np.testing.assert_array_equal(streamed.cluster_centers_, parallel.cluster_centers_)
    first, _ = impl.kmeans_plusplus(blobs[:300], K, random_state=7)
    other = impl.KMeans(K, init=first, n_init=1, max_iter=1).fit(blobs)
    assert not np.allclose(streamed.cluster_centers_, other.cluster_centers_, rtol=1e-3)


def test_memmap_init_draws_from_random_rows(impl, blobs, memmap, monkeypatch):
    """On an array-like, the init rows are drawn at random (with replacement, sorted)."""
    monkeypatch.setattr(engine_kmeans, "STREAM_INIT_SIZE", 300)
    streamed = impl.KMeans(K, random_state=7, max_iter=1).fit(memmap)
    random_state = np.random.RandomState(7)
    rows = np.unique(random_state.randint(0, len(blobs), 300))
    start, _ = impl.kmeans_plusplus(blobs[rows], K, random_state=random_state)
    whole = impl.KMeans(K, init=start, n_init=1, max_iter=1).fit(blobs)
    assert_close_centres(streamed.cluster_centers_, whole.cluster_centers_)


def test_labels_come_from_the_last_pass_in_stream_order(impl, blobs):
    fit = impl.KMeans(K, random_state=0).fit(dataset(blobs, batch=999))
    np.testing.assert_array_equal(fit.labels_, fit.predict(blobs))
    assert fit.labels_.dtype == np.int32 and fit.labels_.shape == (len(blobs),)


def test_verbose_prints_a_line_a_pass(impl, blobs, capsys):
    fit = impl.KMeans(K, init=blobs[:K].copy(), n_init=1, verbose=1).fit(dataset(blobs))
    assert capsys.readouterr().out.count("  pass ") == fit.n_iter_


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda X: dataset(X).repeat(), "the dataset is infinite"),
        (lambda X: tf.data.Dataset.from_tensor_slices(X), "batch a dataset of rows"),
        (lambda X: dataset(X.astype(str)), "must hold numbers"),
        (lambda X: tf.data.Dataset.from_tensor_slices((X, X, X)).batch(9), "pairs of them"),
        (lambda X: dataset(X).take(0), "the dataset is empty"),
        (lambda X: dataset(X[:3]), "n_samples=3 should be >= n_clusters=6"),
    ],
    ids=["infinite", "rows", "strings", "triples", "empty", "too-few"],
)
def test_bad_datasets_get_clear_errors(impl, blobs, make, message):
    with pytest.raises(InvalidParameterError, match=message):
        impl.KMeans(K).fit(make(blobs))


def test_bad_values_name_their_row_in_the_stream(impl, blobs, memmap):
    bad = blobs.copy()
    bad[1234, 2] = np.nan
    with pytest.raises(InvalidParameterError, match="NaN: nan at row 1234, column 2"):
        impl.KMeans(K).fit(dataset(bad))
    with pytest.raises(InvalidParameterError, match="sample_weight must be given inside"):
        impl.KMeans(K).fit(dataset(blobs), sample_weight=np.ones(len(blobs)))
    weights = np.ones(len(blobs), np.float32)
    weights[4000] = -1
    with pytest.raises(InvalidParameterError, match=r"got -1.0 at row 4000"):
        impl.KMeans(K).fit(dataset(blobs, weights=weights))
    fitted = impl.KMeans(K, random_state=0).fit(memmap)
    with pytest.raises(InvalidParameterError, match="X has 3 features, but KMeans is expecting 4"):
        fitted.predict(dataset(blobs[:, :3]))


def test_an_unknown_cardinality_dataset_is_read_to_its_end(impl, blobs):
    """A filtered dataset: TensorFlow cannot say how long it is, so a pass counts it."""
    filtered = dataset(blobs).filter(lambda x: tf.shape(x)[0] > 0)
    assert int(filtered.cardinality()) == int(tf.data.UNKNOWN_CARDINALITY)
    fit = impl.KMeans(K, init=blobs[:K].copy(), n_init=1).fit(filtered)
    assert fit.labels_.shape == (len(blobs),)
