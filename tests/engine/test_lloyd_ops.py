"""The fast forms in ``kmeans_tutorial.engine.lloyd_ops`` compute what the plain forms do.

Each fast form was chosen for speed (measured by ``benchmarks/ablations.py``); these tests
pin it to the plain op or formula it replaces, ties included, so that speed never changes
an answer.
"""

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial.engine import lloyd_ops

pytestmark = pytest.mark.parity  # shared code under both packages


def test_first_argmin_is_tf_argmin_ties_included():
    rng = np.random.RandomState(0)
    values = rng.randint(0, 4, size=(500, 7)).astype(np.float32)  # many ties
    values[0] = 1.0  # a row that is all one tie
    np.testing.assert_array_equal(
        lloyd_ops.first_argmin(tf.constant(values)).numpy(),
        tf.argmin(values, axis=1, output_type=tf.int32).numpy(),
    )
    assert lloyd_ops.first_argmin(tf.constant(values)).numpy()[0] == 0


@pytest.mark.parametrize("n_clusters", [1, 3, 8])
def test_elementwise_nearest_centres_agree_with_the_matmul_form(n_clusters):
    rng = np.random.RandomState(n_clusters)
    x = tf.constant(rng.standard_normal((2000, 2)))
    centers = tf.constant(rng.standard_normal((n_clusters, 2)))
    c_squared = tf.reduce_sum(tf.square(centers), axis=1)
    assert lloyd_ops.elementwise_form(*centers.shape)
    partial = c_squared[tf.newaxis, :] - 2 * tf.matmul(x, centers, transpose_b=True)
    np.testing.assert_array_equal(
        lloyd_ops.nearest_centers(x, centers, c_squared).numpy(),
        tf.argmin(partial, axis=1, output_type=tf.int32).numpy(),
    )


def test_elementwise_nearest_centres_break_ties_to_the_smaller_index():
    centers = tf.constant([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0]])  # 0 and 2 coincide
    x = tf.constant([[0.0, 5.0], [2.0, 0.0], [-3.0, 0.0]])  # tie 0/1/2, nearest 0 (=2), 1
    c_squared = tf.reduce_sum(tf.square(centers), axis=1)
    labels = lloyd_ops.nearest_centers(x, centers, c_squared)
    np.testing.assert_array_equal(labels.numpy(), [0, 0, 1])


@pytest.mark.parametrize("n_features, n_clusters", [(2, 5), (3, 5), (2, 9)])
def test_cluster_sums_are_weighted_sums_per_label(n_features, n_clusters):
    rng = np.random.RandomState(n_features * n_clusters)
    x = rng.standard_normal((300, n_features))
    w = rng.uniform(0, 2, 300)
    labels = rng.randint(0, n_clusters - 1, 300).astype(np.int32)  # the last cluster: empty
    sums, weights = lloyd_ops.cluster_sums(
        tf.constant(x), tf.constant(w), tf.constant(labels), n_clusters
    )
    expected = np.zeros((n_clusters, n_features))
    np.add.at(expected, labels, x * w[:, np.newaxis])
    np.testing.assert_allclose(sums.numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), np.bincount(labels, w, n_clusters), rtol=1e-12)
    assert weights.numpy()[-1] == 0


@pytest.mark.parametrize(
    "n_clusters, rows", [(1, 2**19), (3, 2**17), (64, 2**13), (256, 2**11), (3000, 2**7)]
)
def test_chunks_are_powers_of_two_within_the_budget(n_clusters, rows):
    assert lloyd_ops.chunk_size(10**7, n_clusters) == rows
    assert lloyd_ops.chunk_size(100, n_clusters) == min(100, rows)


def test_a_lloyd_chunk_counts_each_rows_features_and_distances():
    """At small k a row's features outweigh its distances: counting only the distances made
    chunks too large to stay in cache (docs/BENCHMARKS.md, "chunk by d + k")."""
    from kmeans_tutorial.engine import dense_core, seeding_ops

    assert dense_core.chunk("lloyd", 10**6, 32, 8) == lloyd_ops.chunk_size(10**6, 40) == 2**13
    assert dense_core.chunk("assign_and_inertia", 10**6, 32, 64) == 2**12
    seeding = dense_core.chunk("kmeans_plus_plus", 10**6, 32, 64)
    assert seeding == seeding_ops.chunk_size(10**6, 32)
