"""The lesson's ``functions.py``, ported to TF2 eager.

Each function *computes* and returns eager tensors. Twin: ``tf1_graph/functions.py``, same
names, same order, same signatures. Where the two differ it is for one of two reasons,
each marked ``# TF2:`` in the code:

- the TF1 name is gone from TF2 (``tf.to_int32`` -> ``tf.cast``);
- the seeded random ops, which TF2 would otherwise not reproduce: see ``tf2_eager.tf1_random``.

The input checks marked ``# added`` are the same calls as in the twin.
"""

import numpy as np
import tensorflow as tf  # TF2: not tensorflow.compat.v1

from kmeans_tutorial import validation
from kmeans_tutorial.plotting import plot_clusters
from tf2_eager import tf1_random  # TF2: TF1's seeded streams, eagerly

__all__ = [
    "assign_to_nearest",
    "choose_random_centroids",
    "create_samples",
    "plot_clusters",
    "update_centroids",
]


def create_samples(n_clusters, n_samples_per_cluster, n_features, embiggen_factor, seed):
    """Draw ``n_clusters`` normal blobs (stddev 5) around uniformly random centres.

    The centres come from a private ``np.random.RandomState(seed)``: the same numbers the
    lesson's ``np.random.seed(seed)`` gives, without reseeding numpy's global generator.
    Every cluster gets the same noise, as every op with the same seed does in TF1's graph.

    Returns
    -------
    centroids : Tensor of shape (n_clusters, n_features), float64
    samples : Tensor of shape (n_clusters * n_samples_per_cluster, n_features), float32
    """
    validation.check_create_samples_args(
        n_clusters, n_samples_per_cluster, n_features, embiggen_factor, seed
    )  # added: both packages check their input alike
    rng = np.random.RandomState(seed)  # TF2: TF1 reseeds numpy's global generator here
    slices = []
    centroids = []
    # Create samples for each cluster
    for i in range(n_clusters):
        samples = tf1_random.random_normal(  # TF2: TF1's stream, not tf.random.normal's
            (n_samples_per_cluster, n_features),
            mean=0.0,
            stddev=5.0,
            dtype=tf.float32,
            seed=seed,
            name="cluster_{}".format(i),  # noqa: UP032 (the lesson's line)
        )
        current_centroid = (rng.random_sample((1, n_features)) * embiggen_factor) - (  # TF2: rng
            embiggen_factor / 2
        )
        centroids.append(current_centroid)
        samples += current_centroid
        slices.append(samples)
    # Create a big "samples" dataset
    samples = tf.concat(slices, 0, name="samples")
    centroids = tf.concat(centroids, 0, name="centroids")
    return centroids, samples


def choose_random_centroids(samples, n_clusters, seed=None):
    """Pick ``n_clusters`` distinct samples at random as the initial centroids.

    Parameters
    ----------
    samples : Tensor of shape (n_samples, n_features)
    n_clusters : int
    seed : int or None
        Seed of the shuffle, giving the order TF1's ``random_shuffle`` op would.

    Returns
    -------
    Tensor of shape (n_clusters, n_features)
    """
    validation.check_choose_random_centroids_args(samples, n_clusters, seed)  # added
    # Step 0: Initialisation: Select `n_clusters` number of random points
    n_samples = tf.shape(samples)[0]
    # TF2: the order TF1's seeded random_shuffle op gives, not tf.random.shuffle's
    random_indices = tf1_random.random_shuffle(tf.range(0, n_samples), seed=seed)
    begin = [0,]  # fmt: skip
    size = [n_clusters,]  # fmt: skip
    size[0] = n_clusters
    centroid_indices = tf.slice(random_indices, begin, size)
    initial_centroids = tf.gather(samples, centroid_indices)
    return initial_centroids


def assign_to_nearest(samples, centroids):
    """Index of the nearest centroid (squared Euclidean distance) for every sample.

    Broadcasts samples against centroids into an (n_clusters, n_samples, n_features) tensor.

    Returns
    -------
    Tensor of shape (n_samples,), int64
    """
    validation.check_assign_to_nearest_args(samples, centroids)  # added
    # Finds the nearest centroid for each sample

    # START from
    expanded_vectors = tf.expand_dims(samples, 0)
    expanded_centroids = tf.expand_dims(centroids, 1)
    distances = tf.reduce_sum(tf.square(tf.subtract(expanded_vectors, expanded_centroids)), 2)
    mins = tf.argmin(distances, 0)
    # END from
    nearest_indices = mins
    return nearest_indices


def update_centroids(samples, nearest_indices, n_clusters):
    """Each centroid becomes the mean of the samples assigned to it.

    A cluster with no samples gets ``nan`` (the mean of an empty partition).

    Returns
    -------
    Tensor of shape (n_clusters, n_features)
    """
    validation.check_update_centroids_args(samples, nearest_indices, n_clusters)  # added
    # Updates the centroid to be the mean of all samples associated with it.
    nearest_indices = tf.cast(nearest_indices, tf.int32)  # TF2: tf.to_int32 is gone
    partitions = tf.dynamic_partition(samples, nearest_indices, n_clusters)
    new_centroids = tf.concat(
        [tf.expand_dims(tf.reduce_mean(partition, 0), 0) for partition in partitions], 0
    )
    return new_centroids
