"""Both packages' ``KMeans`` agree bit for bit: centres, labels, inertia, n_iter_, and after."""

import numpy as np
import pytest

pytestmark = pytest.mark.parity

datasets = pytest.importorskip("sklearn.datasets")
try:
    from scipy import sparse
except ImportError:  # pragma: no cover - scipy comes with scikit-learn
    sparse = None


def blobs(seed, dtype, n_features=3):
    X, _ = datasets.make_blobs(n_samples=400, n_features=n_features, centers=5, random_state=seed)
    return X.astype(dtype)


DATA = {
    "blobs0-f64": blobs(0, np.float64),
    "blobs1-f32": blobs(1, np.float32),
    # Five centres in 2-D: the elementwise form of the assignment (lloyd_ops.elementwise_form).
    "blobs3-2d-f32": blobs(3, np.float32, n_features=2),
    # Many repeated points: empty clusters appear and are relocated.
    "duplicates-f64": np.repeat(blobs(2, np.float64)[:12], 10, axis=0),
}
if sparse is not None:  # CSR: the sparse ops (kmeans_tutorial.engine.sparse_ops)
    for name, dtype in (("sparse-f64", np.float64), ("sparse-f32", np.float32)):
        dense = np.maximum(blobs(4, dtype, n_features=12) - 2, 0)  # about half zeros
        DATA[name] = sparse.csr_matrix(dense)
    DATA["sparse-duplicates-f64"] = sparse.csr_matrix(np.maximum(DATA["duplicates-f64"], 0))
OPTIONS = {
    "defaults": {},
    "n_init3-tol0": {"n_init": 3, "tol": 0.0},
    "weights": {"sample_weight": "random"},
    "max_iter2": {"max_iter": 2, "tol": 0.0},
    "elkan": {"algorithm": "elkan"},
}
INITS = ["random", "k-means++", "array"]


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("data", DATA.values(), ids=DATA.keys())
def test_fits_are_bit_identical(tf1, tf2, data, init, options):
    """As the data chooses the form: plain ops for all of these (``lloyd_ops.compiles``)."""
    assert_fits_are_bit_identical(tf1, tf2, data, init, options)


@pytest.mark.parametrize("options", ["defaults", "weights", "elkan"])
@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("data", [name for name in DATA if not name.startswith("sparse")])
def test_compiled_fits_are_bit_identical(tf1, tf2, data, init, options, monkeypatch):
    """The XLA form of the same programs, as larger data runs them (sparse has none)."""
    from kmeans_tutorial.engine import lloyd_ops

    monkeypatch.setattr(lloyd_ops, "UNCOMPILED_WORK", -1)
    assert_fits_are_bit_identical(tf1, tf2, DATA[data], init, OPTIONS[options])


def assert_fits_are_bit_identical(tf1, tf2, data, init, options):
    options = dict(options)
    weights = options.pop("sample_weight", None)
    if weights == "random":
        weights = np.random.RandomState(0).uniform(0.5, 2, data.shape[0])
    if init == "array":
        chosen = data[np.random.RandomState(1).choice(data.shape[0], 5, replace=False)]
        options["init"] = chosen.toarray() if hasattr(chosen, "toarray") else chosen
        options.pop("n_init", None)  # an explicit start runs once (and warns otherwise)
    else:
        options["init"] = init
    fitted = [
        package.KMeans(5, random_state=7, **options).fit(data, sample_weight=weights)
        for package in (tf1, tf2)
    ]
    for attribute in ("cluster_centers_", "labels_", "inertia_", "n_iter_"):
        np.testing.assert_array_equal(
            getattr(fitted[0], attribute),
            getattr(fitted[1], attribute),
            err_msg=attribute,
            strict=True,
        )
    new = data[::7] * 1.5
    np.testing.assert_array_equal(fitted[0].predict(new), fitted[1].predict(new))
    np.testing.assert_array_equal(fitted[0].transform(new), fitted[1].transform(new))
    assert fitted[0].score(new) == fitted[1].score(new)


@pytest.mark.parametrize("random_state", [0, 1, 2, 3])
@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_every_seed_gives_bit_identical_fits(tf1, tf2, init, random_state, form):
    data = DATA["blobs0-f64"]
    fitted = [
        package.KMeans(5, init=init, n_init=2, random_state=random_state).fit(data)
        for package in (tf1, tf2)
    ]
    np.testing.assert_array_equal(fitted[0].cluster_centers_, fitted[1].cluster_centers_)
    np.testing.assert_array_equal(fitted[0].labels_, fitted[1].labels_)
    assert (fitted[0].inertia_, fitted[0].n_iter_) == (fitted[1].inertia_, fitted[1].n_iter_)


@pytest.mark.parametrize("name", ["300k-2d-k7", "120k-40d-k70"])
def test_fits_over_many_default_chunks_are_bit_identical(tf1, tf2, name):
    from test_kmeans import large_case

    X, init = large_case(name)
    weights = np.random.RandomState(3).uniform(0.5, 2, len(X))
    fitted = [
        package.KMeans(len(init), init=init, n_init=1, max_iter=30).fit(X, sample_weight=weights)
        for package in (tf1, tf2)
    ]
    for attribute in ("cluster_centers_", "labels_", "inertia_", "n_iter_"):
        np.testing.assert_array_equal(
            getattr(fitted[0], attribute), getattr(fitted[1], attribute), err_msg=attribute
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_k_means_plus_plus_is_bit_identical(tf1, tf2, dtype, form):
    """Weighted, with chunks of 8192 rows (64 features), the last one overlapping."""
    X, _ = datasets.make_blobs(n_samples=20_000, n_features=64, centers=9, random_state=8)
    X = X.astype(dtype)
    weights = np.random.RandomState(4).uniform(0.2, 5, len(X))
    for seed in range(3):
        seeded = [
            package.kmeans_plusplus(X, 10, sample_weight=weights, random_state=seed)
            for package in (tf1, tf2)
        ]
        np.testing.assert_array_equal(seeded[0][1], seeded[1][1])
        np.testing.assert_array_equal(seeded[0][0], seeded[1][0], strict=True)
