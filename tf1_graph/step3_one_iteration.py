"""Lesson script 3: one k-means iteration (assign to nearest, update), printed and plotted.

Run: ``python -m tf1_graph.step3_one_iteration [PNG]``. Twin: ``tf2_eager``'s module of the
same name.
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
        initial_centroids = choose_random_centroids(
            samples, lesson.n_clusters, lesson.initial_centroid_seed
        )
        nearest_indices = assign_to_nearest(samples, initial_centroids)
        updated_centroids = update_centroids(samples, nearest_indices, lesson.n_clusters)
        model = tf.global_variables_initializer()  # noqa: F841 (the lesson's; no variables)
    with tf.Session(graph=graph) as session:
        # changed: one run; the lesson's second session.run(updated_centroids) re-drew the
        # samples, so it plotted centroids computed from other points than those shown
        sample_values, updated_centroid_value = session.run([samples, updated_centroids])
        print(updated_centroid_value)
    save_script_plot(
        __file__, sample_values, updated_centroid_value, lesson.n_samples_per_cluster, plot_path
    )
    return sample_values, updated_centroid_value


if __name__ == "__main__":
    main(*sys.argv[1:2])
