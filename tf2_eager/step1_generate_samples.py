"""Lesson script 1: generate the samples and plot them with their true centroids.

Run: ``python -m tf2_eager.step1_generate_samples [PNG]``. Twin: ``tf1_graph``'s module of the
same name: no graph, no ``global_variables_initializer``, no ``Session``; values are there as
soon as a line runs.
"""

import sys

from kmeans_tutorial.params import LESSON_DEFAULTS as lesson
from kmeans_tutorial.scripts import save_script_plot
from tf2_eager.functions import create_samples


def main(plot_path=None):
    """Compute, plot. Returns (sample_values, centroid_values)."""
    centroids, samples = create_samples(*lesson.create_samples_args)
    # TF2: the values themselves, no Session to run
    sample_values, centroid_values = samples.numpy(), centroids.numpy()
    save_script_plot(
        __file__, sample_values, centroid_values, lesson.n_samples_per_cluster, plot_path
    )
    return sample_values, centroid_values


if __name__ == "__main__":
    main(*sys.argv[1:2])
