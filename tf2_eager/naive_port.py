"""A counter-example, not part of the port: the lesson rewritten for eager mode line by line.

This is what "run ``tf_upgrade_v2``, then delete the graph and the ``Session``" gives:
``tf.random_normal`` -> ``tf.random.normal``, ``tf.random_shuffle`` -> ``tf.random.shuffle``,
everything else as in ``tf2_eager``. It runs, it looks right, and it is not the lesson:

- eager mode caches one kernel per seeded op, so the second cluster's ``tf.random.normal``
  *continues* the first one's stream, where TF1's graph restarted it for every cluster;
- the result depends on what ran before in the process: an earlier call with the same seed,
  of any shape, shifts every stream.

``tests/migration/test_semantics.py`` names the first stage where it diverges from
``tf1_graph``, and ``kmeans-tutorial compare --naive`` draws its clusters beside the exact ones.
"""

import numpy as np
import tensorflow as tf

from kmeans_tutorial.params import LESSON_DEFAULTS, LessonParams, check_params
from kmeans_tutorial.results import LessonResult
from tf2_eager.functions import assign_to_nearest, update_centroids


def create_samples(n_clusters, n_samples_per_cluster, n_features, embiggen_factor, seed):
    """The lesson's ``create_samples`` with TF2 names; the clusters' noise is not shared."""
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


def choose_random_centroids(samples, n_clusters, seed=None):
    """The lesson's ``choose_random_centroids`` with ``tf.random.shuffle``."""
    n_samples = tf.shape(samples)[0]
    random_indices = tf.random.shuffle(tf.range(0, n_samples), seed=seed)
    return tf.gather(samples, tf.slice(random_indices, [0], [n_clusters]))


def run_lesson(params: LessonParams = LESSON_DEFAULTS) -> LessonResult:
    """The lesson, naively ported; every stage as NumPy (empty clusters are not checked)."""
    params = check_params(params)
    true_centroids, samples = create_samples(*params.create_samples_args)
    initial_centroids = choose_random_centroids(
        samples, params.n_clusters, params.initial_centroid_seed
    )
    labels, centroids = [], []
    current = initial_centroids
    for _ in range(params.n_iterations):
        nearest_indices = assign_to_nearest(samples, current)
        current = update_centroids(samples, nearest_indices, params.n_clusters)
        labels.append(nearest_indices)
        centroids.append(current)
    return LessonResult.from_iterations(
        params, samples, true_centroids, initial_centroids, labels, centroids
    )
