"""``MiniBatchKMeans``: scikit-learn's semantics and quality, TF1 and TF2 bit for bit.

scikit-learn's estimator checks run on it in ``test_sklearn_checks.py``.
"""

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial.validation import InvalidParameterError


@pytest.fixture(scope="module")
def blobs():
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=20000, n_features=5, centers=8, random_state=0)
    return X.astype(np.float32)


def assert_bit_identical(first, second):
    np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    assert first.inertia_ == second.inertia_
    assert first.n_steps_ == second.n_steps_


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"init": "random", "batch_size": 300},
        {"tol": 1e-7, "reassignment_ratio": 0.2, "max_no_improvement": None, "max_iter": 2},
    ],
    ids=["default", "random", "tol-reassign"],
)
def test_tf1_and_tf2_fit_bit_identically(tf1, tf2, blobs, params):
    weights = np.random.RandomState(1).uniform(0.5, 2, len(blobs)).astype(np.float32)
    fits = [
        pkg.MiniBatchKMeans(8, random_state=3, **params).fit(blobs, sample_weight=weights)
        for pkg in (tf1, tf2)
    ]
    assert_bit_identical(*fits)
    assert fits[0].n_steps_ > 5


def test_tf1_and_tf2_partial_fits_bit_identically(tf1, tf2, blobs):
    fits = [pkg.MiniBatchKMeans(8, random_state=0) for pkg in (tf1, tf2)]
    for start in range(0, 5000, 1000):
        for fit in fits:
            fit.partial_fit(blobs[start : start + 1000])
    assert_bit_identical(*fits)
    assert fits[0].n_steps_ == 5


def test_tf1_and_tf2_fit_datasets_and_memmaps_bit_identically(tf1, tf2, blobs, tmp_path):
    np.save(tmp_path / "X.npy", blobs)
    memmap = np.load(tmp_path / "X.npy", mmap_mode="r")
    data = tf.data.Dataset.from_tensor_slices(blobs).batch(512)
    for source in (memmap, data):
        fits = [
            pkg.MiniBatchKMeans(8, random_state=0, max_iter=3).fit(source) for pkg in (tf1, tf2)
        ]
        assert_bit_identical(*fits)


def test_memmap_fit_equals_the_array_fit(impl, blobs, tmp_path):
    """The same draws read from the file: the same fit, to rounding."""
    np.save(tmp_path / "X.npy", blobs)
    memmap = np.load(tmp_path / "X.npy", mmap_mode="r")
    whole = impl.MiniBatchKMeans(8, random_state=0).fit(blobs)
    streamed = impl.MiniBatchKMeans(8, random_state=0).fit(memmap)
    np.testing.assert_allclose(streamed.cluster_centers_, whole.cluster_centers_, rtol=1e-5)
    assert streamed.n_steps_ == whole.n_steps_


def test_inertia_is_within_2_percent_of_scikit_learns(impl, blobs):
    """Median over 11 seeds, each with its own initialisation and draws."""
    from sklearn.cluster import MiniBatchKMeans

    seeds = range(11)
    ours = [impl.MiniBatchKMeans(8, random_state=seed).fit(blobs).inertia_ for seed in seeds]
    theirs = [MiniBatchKMeans(8, random_state=seed).fit(blobs).inertia_ for seed in seeds]
    assert np.median(ours) <= 1.02 * np.median(theirs)


def test_steps_and_passes(impl, blobs):
    """Without early stopping: ``max_iter * n_samples // batch_size`` steps."""
    fit = impl.MiniBatchKMeans(8, random_state=0, max_iter=2, max_no_improvement=None).fit(blobs)
    assert fit.n_steps_ == 2 * len(blobs) // 1024
    assert fit.n_iter_ == 2
    stopped = impl.MiniBatchKMeans(8, random_state=0, max_no_improvement=2).fit(blobs)
    assert stopped.n_steps_ < fit.n_steps_


def test_a_dataset_s_batches_are_the_steps(impl, blobs):
    data = tf.data.Dataset.from_tensor_slices(blobs).batch(2500)
    fit = impl.MiniBatchKMeans(8, random_state=0, max_iter=3, max_no_improvement=None).fit(data)
    assert fit.n_steps_ == 3 * 8
    np.testing.assert_array_equal(fit.labels_, fit.predict(blobs))


def test_lonely_centres_are_reassigned(impl, blobs):
    """A centre far from every row gets no members; reassignment moves it onto the data."""
    init = np.concatenate([blobs[:7], np.full((1, 5), 1e3, np.float32)])
    kept = impl.MiniBatchKMeans(8, init=init, reassignment_ratio=0, random_state=0).fit(blobs)
    assert np.abs(kept.cluster_centers_[7]).max() == 1e3
    moved = impl.MiniBatchKMeans(8, init=init, random_state=0).fit(blobs)
    assert np.abs(moved.cluster_centers_[7]).max() < 50
    assert np.bincount(moved.labels_, minlength=8).min() > 0


def test_rows_are_drawn_by_weight(impl):
    """Rows of weight 0 are never drawn: one centre lands on the weighted blob only."""
    rows = np.random.RandomState(0).normal(size=(4000, 2)).astype(np.float32)
    rows[2000:] += 100
    weights = np.r_[np.ones(2000), np.zeros(2000)].astype(np.float32)
    fit = impl.MiniBatchKMeans(1, random_state=0).fit(rows, sample_weight=weights)
    assert np.abs(fit.cluster_centers_).max() < 0.5


def test_without_labels_inertia_is_the_smoothed_batch_inertia(impl, blobs):
    fit = impl.MiniBatchKMeans(8, random_state=0, compute_labels=False).fit(blobs)
    assert not hasattr(fit, "labels_")
    exact = -fit.score(blobs)
    assert 0.5 * exact < fit.inertia_ < 2 * exact


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"batch_size": 0}, "batch_size=0 should be >= 1"),
        ({"reassignment_ratio": -1}, "reassignment_ratio=-1 should be a finite number >= 0"),
        ({"max_no_improvement": -1}, "max_no_improvement=-1 should be >= 0"),
        ({"compute_labels": "yes"}, "compute_labels='yes' should be True or False"),
        ({"init_size": 0}, "init_size=0 should be >= 1"),
    ],
)
def test_bad_parameters_get_clear_errors(impl, blobs, params, message):
    with pytest.raises(InvalidParameterError, match=message):
        impl.MiniBatchKMeans(8, **params).fit(blobs)


def test_partial_fit_checks_the_features(impl, blobs):
    fit = impl.MiniBatchKMeans(8, random_state=0).partial_fit(blobs[:1000])
    with pytest.raises(InvalidParameterError, match="X has 3 features, but MiniBatchKMeans"):
        fit.partial_fit(blobs[:1000, :3])
