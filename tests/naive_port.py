"""A counter-example kept for the tests: the line-by-line eager port of the lesson's random ops.

This is what ``tf_upgrade_v2`` plus "just delete the Session" gives. It is *not* exact:
eager mode caches one kernel per seeded op, so each call continues the stream. The tests use
it to show where it diverges from ``tf1_graph``.
"""

import numpy as np
import tensorflow as tf


def create_samples(n_clusters, n_samples_per_cluster, n_features, embiggen_factor, seed):
    """The lesson's ``create_samples`` with ``tf.random_normal`` -> ``tf.random.normal``."""
    np.random.seed(seed)
    slices = []
    centroids = []
    for i in range(n_clusters):
        samples = tf.random.normal(
            (n_samples_per_cluster, n_features),
            mean=0.0,
            stddev=5.0,
            dtype=tf.float32,
            seed=seed,
            name=f"cluster_{i}",
        )
        current_centroid = (np.random.random((1, n_features)) * embiggen_factor) - (
            embiggen_factor / 2
        )
        centroids.append(current_centroid)
        samples += current_centroid
        slices.append(samples)
    return tf.concat(centroids, 0), tf.concat(slices, 0)
