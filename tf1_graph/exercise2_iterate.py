"""Exercise 2: ten k-means iterations, unrolled into the graph by a Python loop.

Run: ``python -m tf1_graph.exercise2_iterate [PNG]``. Twin: ``tf2_eager``'s module of the same
name. ``tf1_graph.runner.run_lesson`` does the same and also keeps every iteration's values.
"""

import sys

import tensorflow.compat.v1 as tf

from kmeans_tutorial.params import LESSON_DEFAULTS as lesson
from kmeans_tutorial.scripts import save_script_plot
from tf1_graph.functions import (
    assign_to_nearest,
    choose_random_centroids,
    create_samples,
    update_centroids,
)


def main(plot_path=None):
    """Build, run once, print, plot. Returns (sample_values, updated_centroid_value)."""
    graph = tf.Graph()  # changed: a private graph, not the process-wide default one
    with graph.as_default():
        data_centroids, samples = create_samples(*lesson.create_samples_args)
        updated_centroids = choose_random_centroids(
            samples, lesson.n_clusters, lesson.initial_centroid_seed
        )
        # Each pass adds an assign and an update op: the graph holds all ten iterations.
        for _ in range(lesson.n_iterations):
            nearest_indices = assign_to_nearest(samples, updated_centroids)
            updated_centroids = update_centroids(samples, nearest_indices, lesson.n_clusters)
        model = tf.global_variables_initializer()  # noqa: F841 (the lesson's; no variables)
    with tf.Session(graph=graph) as session:
        sample_values, updated_centroid_value = session.run([samples, updated_centroids])
        print(updated_centroid_value)
    save_script_plot(
        __file__, sample_values, updated_centroid_value, lesson.n_samples_per_cluster, plot_path
    )
    return sample_values, updated_centroid_value


if __name__ == "__main__":
    main(*sys.argv[1:2])
