"""Lesson script 2: choose the initial centroids at random and plot them.

Run: ``python -m tf2_eager.step2_initial_centroids [PNG]``. Twin: ``tf1_graph``'s module of the
same name. The shuffle is seeded (exercise 1), so the choice is the same on every run.
"""

import sys

from kmeans_tutorial.params import LESSON_DEFAULTS as lesson
from kmeans_tutorial.scripts import save_script_plot
from tf2_eager.functions import choose_random_centroids, create_samples


def main(plot_path=None):
    """Compute, plot. Returns (sample_values, updated_centroid_value)."""
    centroids, samples = create_samples(*lesson.create_samples_args)
    initial_centroids = choose_random_centroids(
        samples, lesson.n_clusters, lesson.initial_centroid_seed
    )
    # TF2: the values themselves, no Session to run
    sample_values, updated_centroid_value = samples.numpy(), initial_centroids.numpy()
    save_script_plot(
        __file__, sample_values, updated_centroid_value, lesson.n_samples_per_cluster, plot_path
    )
    return sample_values, updated_centroid_value


if __name__ == "__main__":
    main(*sys.argv[1:2])
