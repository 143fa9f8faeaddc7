"""Exercise 2: ten k-means iterations, as a plain Python loop over eager calls.

Run: ``python -m tf2_eager.exercise2_iterate [PNG]``. Twin: ``tf1_graph``'s module of the same
name, where the same loop unrolls ten copies of the ops into a graph before anything runs.
"""

import sys

from kmeans_tutorial.params import LESSON_DEFAULTS as lesson
from kmeans_tutorial.scripts import save_script_plot
from tf2_eager.functions import (
    assign_to_nearest,
    choose_random_centroids,
    create_samples,
    update_centroids,
)


def main(plot_path=None):
    """Compute, print, plot. Returns (sample_values, updated_centroid_value)."""
    data_centroids, samples = create_samples(*lesson.create_samples_args)
    updated_centroids = choose_random_centroids(
        samples, lesson.n_clusters, lesson.initial_centroid_seed
    )
    # Each pass computes one iteration's values at once.
    for _ in range(lesson.n_iterations):
        nearest_indices = assign_to_nearest(samples, updated_centroids)
        updated_centroids = update_centroids(samples, nearest_indices, lesson.n_clusters)
    # TF2: the values themselves, no Session to run
    sample_values, updated_centroid_value = samples.numpy(), updated_centroids.numpy()
    print(updated_centroid_value)
    save_script_plot(
        __file__, sample_values, updated_centroid_value, lesson.n_samples_per_cluster, plot_path
    )
    return sample_values, updated_centroid_value


if __name__ == "__main__":
    main(*sys.argv[1:2])
