"""Data stored in order: a dataset sorted by cluster, as files written class by class are.

A dataset can only be read in order; its k-means++ is k-means|| over all of it
(``parallel_init``) and its init sample is kept from a pass over all of it
(``sources.Reservoir``), so the initial centres come from every cluster, not from the
clusters its first rows hold.
"""

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial.engine import sources

N_CLUSTERS = 20  # the blobs of ``sorted_blobs`` (conftest.py)


def batches(X, size=1000):
    return tf.data.Dataset.from_tensor_slices(X).batch(size)


def test_the_init_sample_holds_every_cluster(sorted_blobs):
    """The first 2,000 rows hold 2 of the 20 blobs; a sample of the whole pass holds all."""
    X, y = sorted_blobs
    stream = sources.as_stream(batches(X))
    sample, weights = stream.init_sample(2000, np.random.RandomState(0))
    assert len(sample) == 2000 and (weights == 1).all()
    row_of = {row.tobytes(): index for index, row in enumerate(X)}
    rows = np.array([row_of[row.tobytes()] for row in sample])
    assert np.all(np.diff(rows) > 0)  # distinct rows, in the stream's order
    assert len(np.unique(y[rows])) == N_CLUSTERS


def test_the_reservoir_draws_in_proportion_to_the_weights():
    """Row i of weight w_i: drawn as often as weighted sampling without replacement draws
    it, never at weight 0."""
    weights = np.array([0.0, 1.0, 1.0, 2.0, 4.0] * 200, np.float32)
    X = np.arange(len(weights), dtype=np.float32)[:, np.newaxis]
    counts = np.zeros(len(weights))
    random_state = np.random.RandomState(0)
    for _ in range(200):
        reservoir = sources.Reservoir(10, 1, np.float32)
        for start in range(0, len(X), 64):
            reservoir.add(X[start : start + 64], weights[start : start + 64], random_state)
        sample, _ = reservoir.sample()
        counts[sample[:, 0].astype(int)] += 1
    by_weight = [counts[weights == w].sum() / 2000 for w in (0.0, 1.0, 2.0, 4.0)]
    assert by_weight[0] == 0
    # 10 of 1,600 weight units a draw, far from exhausting any weight class: ~ in proportion.
    np.testing.assert_allclose(np.array(by_weight[2:]) / by_weight[1], [1.0, 2.0], rtol=0.15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_dataset_sorted_by_cluster_fits_as_well_as_the_array(impl, sorted_blobs, seed):
    """The fit of the sorted dataset against the fit of the same rows in memory (k-means++,
    n_init=1 both; the dataset's k-means++ is k-means||, over all its rows): within 2%.
    Before the init read the whole dataset, the inertia came out tens of times larger."""
    X, _ = sorted_blobs
    in_memory = impl.KMeans(N_CLUSTERS, random_state=seed).fit(X).inertia_
    streamed = impl.KMeans(N_CLUSTERS, random_state=seed).fit(batches(X)).inertia_
    assert streamed < 1.02 * in_memory, (streamed, in_memory)


@pytest.mark.parity
def test_tf1_and_tf2_draw_the_same_init_sample(tf1, tf2, sorted_blobs):
    X, _ = sorted_blobs
    fits = [package.KMeans(N_CLUSTERS, random_state=3).fit(batches(X)) for package in (tf1, tf2)]
    np.testing.assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)


@pytest.mark.parametrize("seed", [0, 1])
def test_mini_batches_of_a_sorted_dataset_fit_as_well_as_shuffled_ones(impl, sorted_blobs, seed):
    """``MiniBatchKMeans`` on the sorted dataset against the same rows shuffled: its first
    pass moves no small centre (the centre of a blob still to come would be moved onto the
    batch's) and does not stop for lack of improvement (a batch's inertia there says which
    blob it holds). Before, the fit came out 30 times worse."""
    X, _ = sorted_blobs
    shuffled = X[np.random.RandomState(1).permutation(len(X))]

    def fit(rows):
        model = impl.MiniBatchKMeans(N_CLUSTERS, batch_size=256, random_state=seed)
        return model.fit(batches(rows, 256)).inertia_

    ordered, mixed = fit(X), fit(shuffled)
    assert ordered < 1.1 * mixed, (ordered, mixed)
