"""The whole lesson, eagerly: samples, initial centroids, iterations.

Twin: ``tf1_graph/runner.py``. TF1 built one graph and fetched everything with one
``session.run``; here each line computes its value as it runs, and the iteration loop is a
plain Python loop over eager calls. There is no ``Session`` and no graph to own.
"""

from kmeans_tutorial.params import LESSON_DEFAULTS, LessonParams, check_params
from kmeans_tutorial.results import LessonResult, absolute_tol, stop_reason  # TF2: early stop
from tf2_eager.functions import (
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

    With ``params.tol`` set, the loop stops at the first converged iteration.
    """
    params = check_params(params)
    true_centroids, samples = create_samples(*params.create_samples_args)
    initial_centroids = choose_random_centroids(
        samples, params.n_clusters, params.initial_centroid_seed
    )
    labels, centroids = [], []
    current = initial_centroids
    tol = absolute_tol(samples, params.tol)  # TF2: the early stop (below)
    for _ in range(params.n_iterations):
        previous_labels, previous = (labels[-1] if labels else None), current  # TF2: for the stop
        nearest_indices = assign_to_nearest(samples, current)
        current = update_centroids(samples, nearest_indices, params.n_clusters)
        labels.append(nearest_indices)
        centroids.append(current)
        # TF2: values exist as we go, so stop as soon as a stopping rule holds (TF1's graph
        # runs every iteration; both records then end at the same one, in finish()).
        last = (previous_labels, nearest_indices, previous, current)  # TF2: the early stop
        if stop_reason(params.n_clusters, tol, *last):  # TF2: the early stop
            break  # TF2: the early stop

    fetched = {  # TF2: the values themselves, where TF1 fetches them with one session.run
        "samples": samples,
        "true_centroids": true_centroids,
        "initial_centroids": initial_centroids,
        "labels": labels,
        "centroids": centroids,
    }
    return LessonResult.from_iterations(params, **fetched).finish()
