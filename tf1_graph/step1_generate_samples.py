"""Lesson script 1: generate the samples and plot them with their true centroids.

Run: ``python -m tf1_graph.step1_generate_samples [PNG]``. Twin: ``tf2_eager``'s module of the
same name.
"""

import sys

import tensorflow.compat.v1 as tf

from kmeans_tutorial.params import LESSON_DEFAULTS as lesson
from kmeans_tutorial.scripts import save_script_plot
from tf1_graph.functions import create_samples


def main(plot_path=None):
    """Build, run once, plot. Returns (sample_values, centroid_values)."""
    graph = tf.Graph()  # changed: a private graph, not the process-wide default one
    with graph.as_default():
        centroids, samples = create_samples(*lesson.create_samples_args)
        model = tf.global_variables_initializer()  # noqa: F841 (the lesson's; no variables)
    with tf.Session(graph=graph) as session:
        # changed: one run for both; the lesson ran session.run(samples), then
        # session.run(centroids)
        sample_values, centroid_values = session.run([samples, centroids])
    save_script_plot(
        __file__, sample_values, centroid_values, lesson.n_samples_per_cluster, plot_path
    )
    return sample_values, centroid_values


if __name__ == "__main__":
    main(*sys.argv[1:2])
