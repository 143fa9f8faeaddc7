"""The whole lesson as one graph, run by one ``Session``: samples, initial centroids, iterations.

Twin: ``tf2_eager/runner.py``. Here the lesson's functions only *build* ops; this module owns
the ``tf.Graph`` and the ``Session``. The iterations are a Python loop that unrolls into the
graph (exercise 2's way), and every tensor is fetched by a single ``session.run``, so every
random op runs exactly once and all stages come from the same samples.

The graph is private (``tf.Graph()`` + ``Session(graph=...)``): nothing here calls
``disable_eager_execution``, which would switch the whole process, ``tf2_eager`` included,
to graph mode.
"""

import tensorflow.compat.v1 as tf

from kmeans_tutorial.params import LESSON_DEFAULTS, LessonParams, check_params
from kmeans_tutorial.results import LessonResult
from tf1_graph.functions import (
    assign_to_nearest,
    choose_random_centroids,
    create_samples,
    update_centroids,
)


def run_lesson(params: LessonParams = LESSON_DEFAULTS) -> LessonResult:
    """Run the lesson end to end and return every stage as NumPy arrays.

    Parameters
    ----------
    params : LessonParams
        Sizes, seeds and iteration count; the lesson's values by default.

    Returns
    -------
    LessonResult
        Samples, true centroids, initial centroids, and labels and centroids per iteration.

    Raises
    ------
    EmptyClusterError
        If an iteration leaves a cluster with no samples (the lesson's update would carry
        a ``nan`` centroid forward); it says which iteration and cluster, and holds the run.

    With ``params.tol`` set, the graph still runs every iteration (a Python loop unrolls a
    fixed number of them); the record then ends where the run converged.
    """
    params = check_params(params)
    graph = tf.Graph()
    with graph.as_default():
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

    with tf.Session(graph=graph) as session:
        fetched = session.run(
            {
                "samples": samples,
                "true_centroids": true_centroids,
                "initial_centroids": initial_centroids,
                "labels": labels,
                "centroids": centroids,
            }
        )
    return LessonResult.from_iterations(params, **fetched).finish()
