"""Sparse input, as scikit-learn takes it: CSR/CSC matrices and arrays, never made dense."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from measure import peak_growth

sparse = pytest.importorskip("scipy.sparse")
sklearn_cluster = pytest.importorskip("sklearn.cluster")
ROOT = Path(__file__).resolve().parents[2]


def random_csr(n_samples, n_features, density, seed, dtype=np.float64):
    """A CSR matrix with about ``density`` of its entries stored (duplicates summed)."""
    rng = np.random.RandomState(seed)
    nnz = int(n_samples * n_features * density)
    rows = np.sort(rng.randint(0, n_samples, nnz))
    columns = rng.randint(0, n_features, nnz)
    values = rng.exponential(size=nnz).astype(dtype)
    return sparse.csr_matrix((values, (rows, columns)), shape=(n_samples, n_features))


def clustered_csr(seed, n_samples=600, n_features=50, n_clusters=5):
    """Rows that share a cluster share most of their columns: clusters k-means can find."""
    rng = np.random.RandomState(seed)
    profiles = rng.rand(n_clusters, n_features) < 0.2
    membership = rng.randint(0, n_clusters, n_samples)
    keep = profiles[membership] & (rng.rand(n_samples, n_features) < 0.8)
    values = np.where(keep, rng.exponential(size=keep.shape) + 1, 0.0)
    return sparse.csr_matrix(values)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_a_sparse_fit_agrees_with_scikit_learns_sparse_fit(impl, seed, weighted):
    X = clustered_csr(seed)
    init = X[np.random.RandomState(seed).choice(X.shape[0], 5, replace=False)].toarray()
    weights = np.random.RandomState(seed).uniform(0.5, 2, X.shape[0]) if weighted else None
    ours = impl.KMeans(5, init=init, n_init=1, tol=0).fit(X, sample_weight=weights)
    theirs = sklearn_cluster.KMeans(5, init=init, n_init=1, tol=0).fit(X, sample_weight=weights)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=1e-5)


def test_every_method_takes_every_sparse_format(impl):
    X = clustered_csr(2, n_samples=200)
    dense = X.toarray()
    fitted = impl.KMeans(5, random_state=0).fit(X)
    labels = fitted.labels_
    for form in (sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array, sparse.coo_array):
        new = form(X)
        np.testing.assert_array_equal(fitted.predict(new), labels)
        np.testing.assert_allclose(fitted.transform(new), fitted.transform(dense), rtol=1e-6)
        np.testing.assert_allclose(fitted.score(new), -fitted.inertia_, rtol=1e-10)
    refit = impl.KMeans(5, random_state=0)
    np.testing.assert_array_equal(refit.fit_predict(sparse.csc_matrix(X)), labels)
    distances = impl.KMeans(5, random_state=0).fit_transform(X)
    np.testing.assert_array_equal(distances.argmin(axis=1), labels)
    np.testing.assert_array_equal(fitted.predict(dense), labels)  # dense data, sparse fit


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_seeded_sparse_fits_reach_scikit_learns_quality(impl, init):
    """Median inertia over seeds, one run each: within 2% of scikit-learn's, same init."""
    X = clustered_csr(3)

    def median_inertia(make):
        return np.median([make(seed).fit(X).inertia_ for seed in range(7)])

    ours = median_inertia(lambda seed: impl.KMeans(5, init=init, n_init=1, random_state=seed))
    theirs = median_inertia(
        lambda seed: sklearn_cluster.KMeans(5, init=init, n_init=1, random_state=seed)
    )
    assert ours <= 1.02 * theirs, (ours, theirs)


def test_float32_sparse_data_stays_float32(impl):
    X = clustered_csr(4).astype(np.float32)
    fitted = impl.KMeans(5, random_state=0).fit(X)
    assert fitted.cluster_centers_.dtype == np.float32
    assert fitted.transform(X).dtype == np.float32


def test_duplicate_entries_are_summed_as_scipy_does(impl):
    """A COO matrix may store one entry twice; it means their sum, in |x|² too."""
    rows, columns, values = [0, 0, 1, 2, 3], [0, 0, 1, 0, 1], [1.0, 2.0, 3.0, 3.0, 1.0]
    X = sparse.coo_matrix((values, (rows, columns)), shape=(4, 2))
    fitted = impl.KMeans(2, init=np.array([[3.0, 0.0], [0.0, 3.0]]), n_init=1).fit(X)
    np.testing.assert_allclose(fitted.cluster_centers_, [[3.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(fitted.inertia_, 2.0)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda X: X.multiply(np.nan), "Input X contains NaN: nan at row 0, column"),
        (lambda X: sparse.csr_matrix((0, 3)), "Found array with 0 sample(s) (shape=(0, 3))"),
        (lambda X: X.astype(complex), "Complex data not supported"),
    ],
    ids=["nan", "empty", "complex"],
)
def test_bad_sparse_input_is_refused_with_the_value_named(impl, make, words):
    with pytest.raises(ValueError) as info:
        impl.KMeans(2).fit(make(clustered_csr(5, n_samples=20)))
    assert words in str(info.value)


@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK), reason="Linux only")
def test_a_sparse_fit_never_makes_the_data_dense(impl):
    """2e5 x 1e5 at 1e-4: 160 GB dense, 24 MB stored; the fit's peak stays near the latter."""
    X = random_csr(200_000, 100_000, 1e-4, seed=6)
    stored = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    init = X[:8].toarray()  # 6.4 MB of dense centres
    growth = peak_growth(lambda: impl.KMeans(8, init=init, n_init=1, max_iter=3).fit(X))
    assert growth < stored + 256 * 2**20, (growth, stored)


def test_dense_fits_run_where_scipy_cannot_be_imported():
    """Our code needs scipy only for sparse input, which only a scipy user can make.

    (``import tensorflow`` itself imports scipy, and Keras scikit-learn, when they are
    installed; so the test hides them, as in an environment without them.)
    """
    code = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('scipy', 'sklearn'):\n"
        "            raise ImportError(f'{name} hidden')\n"
        "sys.meta_path.insert(0, Hide())\n"
        "import numpy as np, tf2_eager, tf1_graph\n"
        "X = np.random.RandomState(0).standard_normal((50, 2))\n"
        "for package in (tf1_graph, tf2_eager):\n"
        "    fitted = package.KMeans(3, random_state=0).fit(X)\n"
        "    fitted.predict(X), fitted.transform(X), fitted.score(X)\n"
        "print('ran without scipy')"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ran without scipy"


def test_an_empty_cluster_is_relocated_in_a_sparse_fit_too(impl):
    """The dense case of test_kmeans, stored sparse: the far centre takes the farthest point."""
    X = sparse.csr_matrix(np.array([[0, 0], [0.5, 0], [0.5, 1], [1, 1]]))
    init = np.array([[0.5, 0.5], [3.0, 3.0]])
    kmeans = impl.KMeans(2, init=init, n_init=1).fit(X)
    assert {tuple(c) for c in kmeans.cluster_centers_} == {(0.25, 0.0), (0.75, 1.0)}
    np.testing.assert_allclose(kmeans.inertia_, 0.25)
    assert kmeans.n_iter_ == 3


def test_verbose_logs_a_sparse_fit_and_changes_nothing(impl, capsys):
    X = clustered_csr(7, n_samples=150)
    quiet = impl.KMeans(5, random_state=0).fit(X)
    loud = impl.KMeans(5, random_state=0, verbose=1).fit(X)
    np.testing.assert_array_equal(loud.cluster_centers_, quiet.cluster_centers_)
    np.testing.assert_array_equal(loud.labels_, quiet.labels_)
    steps = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Iteration ")]
    assert len(steps) == loud.n_iter_
