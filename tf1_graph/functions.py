"""The lesson's ``functions.py``, as published, against ``tf.compat.v1``.

Each function *builds* graph ops and returns tensors; nothing runs until a ``Session`` does.
Call them inside ``with graph.as_default():`` (``tf1_graph.runner`` does). Twin:
``tf2_eager/functions.py``, same names, same order, same signatures.

Lines restored from complete copies of the lesson are marked ``# restored`` (docs/LESSON.md
says which and why); lines we had to change are
marked ``# changed`` with the reason; the input checks we added (shared with ``tf2_eager``,
so that bad input fails alike in both, before any op is built) are marked ``# added``.
"""

import numpy as np
import tensorflow.compat.v1 as tf

from kmeans_tutorial import validation
from kmeans_tutorial.plotting import plot_clusters

__all__ = [
    "assign_to_nearest",
    "choose_random_centroids",
    "create_samples",
    "plot_clusters",
    "update_centroids",
]


def create_samples(n_clusters, n_samples_per_cluster, n_features, embiggen_factor, seed):
    """Build ``n_clusters`` normal blobs (stddev 5) around uniformly random centres.

    Reseeds numpy's global generator with ``seed``, as the lesson does. Every cluster's
    ``random_normal`` op carries the same op seed, so in a graph they all draw the *same*
    noise: the clusters are translated copies of each other.

    Returns
    -------
    centroids : Tensor of shape (n_clusters, n_features), float64
    samples : Tensor of shape (n_clusters * n_samples_per_cluster, n_features), float32
    """
    validation.check_create_samples_args(
        n_clusters, n_samples_per_cluster, n_features, embiggen_factor, seed
    )  # added: both packages check their input alike
    np.random.seed(seed)  # restored
    slices = []
    centroids = []
    # Create samples for each cluster
    for i in range(n_clusters):
        samples = tf.random_normal(
            (n_samples_per_cluster, n_features),
            mean=0.0,
            stddev=5.0,
            dtype=tf.float32,
            seed=seed,
            name="cluster_{}".format(i),  # noqa: UP032 (the lesson's line)
        )
        current_centroid = (np.random.random((1, n_features)) * embiggen_factor) - (
            embiggen_factor / 2
        )
        centroids.append(current_centroid)  # restored
        samples += current_centroid
        slices.append(samples)  # restored
    # Create a big "samples" dataset
    samples = tf.concat(slices, 0, name="samples")
    centroids = tf.concat(centroids, 0, name="centroids")
    return centroids, samples


def choose_random_centroids(samples, n_clusters, seed=None):
    """Pick ``n_clusters`` distinct samples at random as the initial centroids.

    ``seed`` is exercise 1's addition; the lesson's version had none.

    Parameters
    ----------
    samples : Tensor of shape (n_samples, n_features)
    n_clusters : int
    seed : int or None
        Op seed of the ``random_shuffle``.

    Returns
    -------
    Tensor of shape (n_clusters, n_features)
    """
    validation.check_choose_random_centroids_args(samples, n_clusters, seed)  # added
    # Step 0: Initialisation: Select `n_clusters` number of random points
    n_samples = tf.shape(samples)[0]
    random_indices = tf.random_shuffle(tf.range(0, n_samples), seed=seed)  # changed: exercise 1
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
    nearest_indices = tf.to_int32(nearest_indices)
    partitions = tf.dynamic_partition(samples, nearest_indices, n_clusters)
    new_centroids = tf.concat(
        [tf.expand_dims(tf.reduce_mean(partition, 0), 0) for partition in partitions], 0
    )
    return new_centroids
