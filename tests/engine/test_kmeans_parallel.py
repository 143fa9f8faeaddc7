"""``init="k-means||"`` (``engine.parallel_init``): its draws, its centres on data stored in
order, the same centres however the data is held, in both packages bit for bit, its
parameters' checks, and a fit stopped during its passes."""

import numpy as np
import pytest
import scipy.sparse
import tensorflow as tf

from kmeans_tutorial.engine import parallel_init
from kmeans_tutorial.validation import InvalidParameterError

N_CLUSTERS = 20  # the blobs of ``sorted_blobs`` (conftest.py)


def batches(X, size=1000):
    return tf.data.Dataset.from_tensor_slices(X).batch(size)


def test_a_round_draws_each_row_with_probability_l_cost_over_phi(impl):
    """Rows at distances 1..8 from the one candidate (costs d², one row of weight 3): each
    is drawn with probability min(1, l * w d² / phi), l = 4, over 2,000 seeded rounds."""
    x = np.arange(1.0, 9.0, dtype=np.float32)[:, np.newaxis]
    w = np.ones(8, np.float32)
    w[2] = 3.0
    cost = w * np.arange(1.0, 9.0) ** 2
    expected = np.minimum(1.0, 4 * cost / cost.sum())
    core = impl.KMeans.driver.batch_core()
    random_state = np.random.RandomState(0)
    drawn = np.zeros(8)
    rounds = 2000
    for _ in range(rounds):
        candidates = parallel_init.Candidates(np.zeros(1, np.float32), core, np.zeros(1))
        chunks = [(x[:5], w[:5]), (x[5:], w[5:])]  # two batches: keys kept across them
        rows = parallel_init.sampling_round(chunks, candidates, 4.0, random_state)
        drawn[rows[:, 0].astype(int) - 1] += 1
    # Binomial counts: within 4.5 standard deviations of their means.
    spread = np.sqrt(rounds * expected * (1 - expected)) + 1e-9
    assert np.all(np.abs(drawn - rounds * expected) <= 4.5 * spread), (drawn / rounds, expected)


def test_a_row_on_a_candidate_is_never_drawn(impl):
    x = np.array([[0.0], [0.0], [5.0]], np.float32)
    core = impl.KMeans.driver.batch_core()
    candidates = parallel_init.Candidates(np.zeros(1, np.float32), core, np.zeros(1))
    for seed in range(20):
        rows = parallel_init.sampling_round(
            [(x, np.ones(3, np.float32))], candidates, 100.0, np.random.RandomState(seed)
        )
        np.testing.assert_array_equal(rows, [[5.0]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_dataset_sorted_by_cluster_gets_a_centre_in_every_blob(impl, sorted_blobs, seed):
    """k-means|| reads the whole dataset: the fit puts every blob in a cluster of its own
    (the first rows hold 1 blob of 20; k-means++ on them alone, as before the init sample
    was drawn from a whole pass, finds only that one)."""
    X, y = sorted_blobs
    model = impl.KMeans(N_CLUSTERS, init="k-means||", random_state=seed).fit(batches(X))
    pairs = set(zip(y.tolist(), model.labels_.tolist(), strict=True))
    assert len(pairs) == N_CLUSTERS and len({label for _, label in pairs}) == N_CLUSTERS


def test_the_same_rows_batched_otherwise_draw_the_same_centres(impl, sorted_blobs):
    """One uniform a row, in the rows' order: the same candidates however the rows are
    batched; the centres agree to the rounding of distance programs of other shapes."""
    X, _ = sorted_blobs
    params = {"init": "k-means||", "random_state": 4, "max_iter": 1, "tol": 0.0}
    fits = [impl.KMeans(N_CLUSTERS, **params).fit(batches(X, size)) for size in (1000, 700, 4096)]
    for fit in fits[1:]:
        np.testing.assert_allclose(fit.cluster_centers_, fits[0].cluster_centers_, rtol=1e-5)


@pytest.mark.parity
@pytest.mark.parametrize("kind", ["dense", "weighted", "sparse", "dataset", "float64"])
def test_tf1_and_tf2_draw_bit_identical_centres(tf1, tf2, sorted_blobs, kind):
    X, _ = sorted_blobs
    weights = None
    data = X
    if kind == "weighted":
        weights = np.random.RandomState(0).rand(len(X)).astype(np.float32)
        weights[::7] = 0
    elif kind == "sparse":
        dense = np.where(X > 0, X, 0)
        data = scipy.sparse.csr_matrix(dense)
    elif kind == "dataset":
        data = batches(X, 900)
    elif kind == "float64":
        data = X.astype(np.float64)
    fits = [
        package.KMeans(N_CLUSTERS, init="k-means||", random_state=1, oversampling_factor=1.5).fit(
            data, sample_weight=weights
        )
        for package in (tf1, tf2)
    ]
    np.testing.assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)
    assert fits[0].inertia_ == fits[1].inertia_


def test_k_means_parallel_seeds_as_well_as_k_means_plus_plus(impl):
    """On scikit-learn's blobs (8 blobs, overlapping a little), the median over 5 seeds of
    the fitted inertia: within 2% of k-means++'s."""
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(10_000, 8, centers=8, cluster_std=2.0, random_state=3)
    X = X.astype(np.float32)

    def median(init):
        return np.median(
            [impl.KMeans(8, init=init, random_state=s).fit(X).inertia_ for s in range(5)]
        )

    assert median("k-means||") <= 1.02 * median("k-means++")


def test_fewer_distinct_rows_than_clusters(impl):
    """Three distinct rows, five clusters: every row is a centre, as k-means++ has them."""
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], np.float32), 10, axis=0)
    with pytest.warns(Warning, match="Number of distinct clusters"):
        model = impl.KMeans(5, init="k-means||", random_state=0).fit(X)
    assert model.inertia_ < 1e-9  # 0 but for the rounding of distances about the mean
    for row in ([0.0, 0.0], [1.0, 0.0], [0.0, 1.0]):
        assert np.abs(model.cluster_centers_ - row).max(axis=1).min() < 1e-6


@pytest.mark.parametrize(
    "params, named",
    [
        ({"oversampling_factor": 0}, "oversampling_factor=0"),
        ({"oversampling_factor": float("nan")}, "oversampling_factor=nan"),
        ({"oversampling_factor": "2"}, "oversampling_factor='2'"),
        ({"init_steps": 0}, "init_steps=0"),
        ({"init_steps": 1.5}, "init_steps=1.5"),
    ],
)
def test_bad_parameters_are_named(impl, params, named):
    X = np.random.RandomState(0).rand(50, 2)
    with pytest.raises(InvalidParameterError, match=named.replace("(", r"\(")):
        impl.KMeans(3, init="k-means||", **params).fit(X)


def test_mini_batch_k_means_names_the_inits_it_takes(impl):
    X = np.random.RandomState(0).rand(50, 2)
    with pytest.raises(InvalidParameterError, match=r"init='k-means\|\|' should be one of"):
        impl.MiniBatchKMeans(3, init="k-means||").fit(X)


class StopError(Exception):
    """Stands for whatever ends a fit during the init's passes."""


@pytest.mark.parametrize("stop_at", [3, 75])
def test_a_fit_stopped_during_its_init_passes_resumes_bit_identically(
    impl, sorted_blobs, tmp_path, monkeypatch, stop_at
):
    """Stopped on the ``stop_at``-th batch whose distances the init's passes take (20 a
    pass, 3 such passes a run: 3 is in the first run's first round, 75 in the second run's,
    after the first run's checkpoints), then started again with the same checkpoint
    folder: the fit ends as one never stopped."""
    X, _ = sorted_blobs
    params = {"init": "k-means||", "n_init": 2, "random_state": 5, "max_iter": 5}
    reference = impl.KMeans(N_CLUSTERS, **params).fit(batches(X))
    nearest, calls = parallel_init.Candidates.nearest, []

    def stopping(self, x):
        calls.append(1)
        if len(calls) == stop_at:
            raise StopError
        return nearest(self, x)

    monkeypatch.setattr(parallel_init.Candidates, "nearest", stopping)
    stopped = impl.KMeans(N_CLUSTERS, checkpoint_dir=tmp_path, **params)
    with pytest.raises(StopError):
        stopped.fit(batches(X))
    monkeypatch.setattr(parallel_init.Candidates, "nearest", nearest)
    resumed = impl.KMeans(N_CLUSTERS, checkpoint_dir=tmp_path, **params).fit(batches(X))
    np.testing.assert_array_equal(resumed.cluster_centers_, reference.cluster_centers_)
    np.testing.assert_array_equal(resumed.labels_, reference.labels_)
    assert resumed.inertia_ == reference.inertia_
