"""Lesson script 2: choose the initial centroids at random and plot them.

Run: ``python -m tf1_graph.step2_initial_centroids [PNG]``. Twin: ``tf2_eager``'s module of the
same name. The shuffle is seeded (exercise 1), so the choice is the same on every run.
"""

import sys

import tensorflow.compat.v1 as tf

from kmeans_tutorial.params import LESSON_DEFAULTS as lesson
from kmeans_tutorial.scripts import save_script_plot
from tf1_graph.functions import choose_random_centroids, create_samples


def main(plot_path=None):
    """Build, run once, plot. Returns (sample_values, updated_centroid_value)."""
    graph = tf.Graph()  # changed: a private graph, not the process-wide default one
    with graph.as_default():
        centroids, samples = create_samples(*lesson.create_samples_args)
        initial_centroids = choose_random_centroids(
            samples, lesson.n_clusters, lesson.initial_centroid_seed
        )
        model = tf.global_variables_initializer()  # noqa: F841 (the lesson's; no variables)
    with tf.Session(graph=graph) as session:
        # changed: one run for both, so the centroids are chosen from the plotted samples
        sample_values, updated_centroid_value = session.run([samples, initial_centroids])
    save_script_plot(
        __file__, sample_values, updated_centroid_value, lesson.n_samples_per_cluster, plot_path
    )
    return sample_values, updated_centroid_value


if __name__ == "__main__":
    main(*sys.argv[1:2])
