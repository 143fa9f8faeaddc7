"""``KMeans(algorithm="elkan")``: Lloyd's run, with distance work skipped where bounds
prove a row keeps its centre (``lloyd_ops.elkan``). Its labels and iterations are Lloyd's,
its centres within float rounding (bit for bit where every label agrees, as here); it
skips most rows' distances on separated data; TF1 and TF2 agree bit for bit
(``test_kmeans_parity``)."""

import warnings

import numpy as np
import pytest

from kmeans_tutorial.engine import lloyd_ops

sklearn_cluster = pytest.importorskip("sklearn.cluster")
datasets = pytest.importorskip("sklearn.datasets")


def blobs(seed, n_samples=3000, n_features=5, centers=6, std=1.0, dtype=np.float64):
    X, _ = datasets.make_blobs(
        n_samples=n_samples,
        n_features=n_features,
        centers=centers,
        cluster_std=std,
        random_state=seed,
    )
    return X.astype(dtype)


def fit_both(impl, X, k, **params):
    lloyd = impl.KMeans(k, algorithm="lloyd", **params).fit(X)
    elkan = impl.KMeans(k, algorithm="elkan", **params).fit(X)
    return lloyd, elkan


def assert_same_run(lloyd, elkan):
    np.testing.assert_array_equal(elkan.labels_, lloyd.labels_)
    assert elkan.n_iter_ == lloyd.n_iter_
    np.testing.assert_array_equal(elkan.cluster_centers_, lloyd.cluster_centers_)
    assert elkan.inertia_ == lloyd.inertia_


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("std", [0.5, 4.0], ids=["separated", "overlapping"])
@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_elkan_runs_lloyds_run(impl, form, dtype, std, tol):
    X = blobs(0, std=std, dtype=dtype)
    weights = np.random.RandomState(0).uniform(0.5, 2.0, len(X))
    lloyd, elkan = fit_both(impl, X, 6, init="random", n_init=2, random_state=3, tol=tol)
    assert_same_run(lloyd, elkan)
    init = X[:6]
    lloyd = impl.KMeans(6, init=init, n_init=1, tol=tol).fit(X, sample_weight=weights)
    elkan = impl.KMeans(6, init=init, n_init=1, tol=tol, algorithm="elkan")
    assert_same_run(lloyd, elkan.fit(X, sample_weight=weights))
    theirs = sklearn_cluster.KMeans(6, init=init, n_init=1, tol=tol, algorithm="elkan")
    theirs.fit(X, sample_weight=weights)
    np.testing.assert_array_equal(elkan.labels_, theirs.labels_)
    assert elkan.n_iter_ == theirs.n_iter_
    # Float32 sums rounded in another order: scikit-learn's by thread, ours by chunk.
    scale = 1e-5 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(
        elkan.cluster_centers_, theirs.cluster_centers_, rtol=scale, atol=scale
    )


@pytest.mark.parametrize("std", [0.5, 4.0], ids=["separated", "overlapping"])
def test_sparse_elkan_runs_lloyds_run(impl, std, monkeypatch):
    """CSR data, in chunks of about 100 rows, weighted, an emptied cluster relocated."""
    sparse = pytest.importorskip("scipy.sparse")
    from kmeans_tutorial.engine import sparse_ops

    monkeypatch.setattr(sparse_ops, "PRODUCT_BUDGET", 100 * 3 * 7)
    dense = blobs(6, n_samples=1000, n_features=12, std=std)
    X = sparse.csr_matrix(np.where(dense > 2, dense, 0))
    weights = np.random.RandomState(6).uniform(0.5, 2.0, X.shape[0])
    init = np.concatenate([X[:6].toarray(), np.full((1, 12), 100.0)])  # one takes no sample
    lloyd = impl.KMeans(7, init=init, n_init=1, tol=0).fit(X, sample_weight=weights)
    elkan = impl.KMeans(7, init=init, n_init=1, tol=0, algorithm="elkan")
    assert_same_run(lloyd, elkan.fit(X, sample_weight=weights))
    assert elkan.n_iter_ > 3
    theirs = sklearn_cluster.KMeans(7, init=init, n_init=1, tol=0, algorithm="elkan")
    theirs.fit(X, sample_weight=weights)
    np.testing.assert_array_equal(elkan.labels_, theirs.labels_)
    np.testing.assert_allclose(elkan.cluster_centers_, theirs.cluster_centers_, rtol=1e-6)


def test_many_chunks_and_blocks_change_nothing(impl, monkeypatch):
    """Chunks of 16 rows over 1,001 (a last one shifted back), blocks of 8 rows of the rows
    that need their distances (a last one shifted back too): Lloyd's run still, bit for
    bit against Lloyd's in the same chunks, within rounding of Lloyd's in one."""
    monkeypatch.setattr(lloyd_ops, "UNCOMPILED_WORK", -1)
    X = blobs(1, n_samples=1001, std=1.5)
    whole = impl.KMeans(6, init=X[:6], n_init=1, tol=0).fit(X)
    monkeypatch.setattr(lloyd_ops, "CHUNK_BUDGET", 16 * (5 + 8))
    monkeypatch.setattr(lloyd_ops, "MIN_CHUNK_ROWS", 1)
    monkeypatch.setattr(lloyd_ops, "ELKAN_BLOCK", 8)
    assert lloyd_ops.chunk_size(len(X), 5 + 8) == 16
    lloyd, elkan = fit_both(impl, X, 6, init=X[:6], n_init=1, tol=0)
    assert_same_run(lloyd, elkan)
    np.testing.assert_array_equal(elkan.labels_, whole.labels_)
    assert elkan.n_iter_ == whole.n_iter_ > 3
    np.testing.assert_allclose(elkan.cluster_centers_, whole.cluster_centers_, rtol=1e-12)


def test_ties_are_left_to_the_distances(impl, form):
    """Integer points on a grid, many equally far from two centres: no bound may prove a
    tie, so those rows are labelled by the distances, the first centre of the tie."""
    X = np.random.RandomState(2).randint(0, 4, size=(3000, 3)).astype(np.float64)
    init = np.array([[0, 0, 0], [2, 2, 2], [0, 2, 0], [2, 0, 2], [1, 1, 1.0]])
    lloyd, elkan = fit_both(impl, X, 5, init=init, n_init=1, tol=0)
    assert_same_run(lloyd, elkan)


def test_elkan_skips_the_distances_of_rows_that_cannot_move(monkeypatch):
    """The rows whose distances are computed, counted as the program runs (plain ops, so
    a variable can count): on separated blobs most iterations compute few."""
    import tensorflow as tf

    X = blobs(4, n_samples=4000, n_features=8, centers=8, std=0.7)
    offset = X.mean(axis=0)
    init = X[np.random.RandomState(0).choice(len(X), 8, replace=False)] - offset
    counted = tf.Variable(0, dtype=tf.int64)
    partial_distances = lloyd_ops._partial_distances

    def counting(x, centers, c_squared):
        rows = tf.cast(tf.shape(x)[0], tf.int64)
        with tf.control_dependencies([counted.assign_add(rows)]):
            return tf.identity(partial_distances(x, centers, c_squared))

    monkeypatch.setattr(lloyd_ops, "_partial_distances", counting)
    n = len(X)
    labels = -np.ones(n, np.int32)

    def run(program):
        return tf.function(
            lambda: program(
                tf.constant(X), tf.ones([n], tf.float64), init, offset, labels, 300, 0.0, n,
                8, lloyd_ops.chunk_size(n, 8 + 8),
            ),
            autograph=False,
        )()  # fmt: skip

    _, _, _, n_iter, _ = run(lloyd_ops.elkan)
    passes = int(n_iter) + 1
    assert passes > 5
    assert 0 < int(counted.numpy()) < n * passes / 4
    # Lloyd's own pass (through ``nearest_centers``) computes every row every time.
    counted.assign(0)
    monkeypatch.setattr(
        lloyd_ops, "nearest_centers", lambda x, c, s: lloyd_ops.first_argmin(counting(x, c, s))
    )
    run(lloyd_ops.lloyd)
    assert int(counted.numpy()) == n * passes


def test_the_gaps_between_many_centres_are_taken_a_chunk_at_a_time(monkeypatch):
    """Hamerly's half gaps over 300 centres in chunks of 128 (a last one shifted back)
    equal those of the whole k x k matrix, and are half the nearest other's distance."""
    import tensorflow as tf

    centers = tf.constant(np.random.RandomState(3).normal(size=(300, 4)))
    valid = tf.range(300) < 290  # the last 10 are padding
    monkeypatch.setattr(lloyd_ops, "CHUNK_BUDGET", 128 * 300)
    chunked = lloyd_ops._half_gaps(centers, valid, 0.0).numpy()
    any_shape = tf.function(
        lambda c, v: lloyd_ops._half_gaps(c, v, 0.0),
        input_signature=[tf.TensorSpec([None, 4], tf.float64), tf.TensorSpec([None], tf.bool)],
    )
    whole = any_shape(centers, valid)  # k known at run time only: the k x k matrix at once
    gaps = np.linalg.norm(centers.numpy()[:, None] - centers.numpy()[None, :290], axis=2)
    np.fill_diagonal(gaps[:290], np.inf)
    np.testing.assert_allclose(chunked, gaps.min(axis=1) / 2, rtol=1e-6)
    np.testing.assert_allclose(chunked, whole.numpy(), rtol=1e-12)


def test_one_cluster_warns_as_scikit_learn_and_runs_lloyd(impl):
    X = blobs(5, n_samples=50)
    with pytest.warns(RuntimeWarning, match="algorithm='elkan' doesn't make sense for a single"):
        elkan = impl.KMeans(1, algorithm="elkan", random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lloyd = impl.KMeans(1, algorithm="lloyd", random_state=0).fit(X)
    assert_same_run(lloyd, elkan)


@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_an_emptied_cluster_is_relocated_and_the_bounds_start_again(impl, form, tol):
    X = blobs(3, n_samples=2000, n_features=3, centers=4)
    init = np.concatenate([X[:3], [[100.0, 100.0, 100.0]]])  # the last takes no sample
    lloyd, elkan = fit_both(impl, X, 4, init=init, n_init=1, tol=tol)
    assert elkan.n_iter_ > 2
    assert_same_run(lloyd, elkan)
