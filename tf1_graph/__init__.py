"""The k-means lesson as it was written: TensorFlow 1 graph mode, run by a ``Session``.

Built on ``tensorflow.compat.v1`` inside private graphs, so it runs beside TF2 eager code in
the same process. Its TF2 port, with the same names and signatures, is ``tf2_eager``.
"""

from tf1_graph.functions import (
    assign_to_nearest,
    choose_random_centroids,
    create_samples,
    plot_clusters,
    update_centroids,
)
from tf1_graph.runner import run_lesson

# The k-means engine's names, loaded on first use: the lesson does not import the engine.
_ENGINE = ("BisectingKMeans", "KMeans", "MiniBatchKMeans", "k_means", "kmeans_plusplus")


def __getattr__(name: str):
    if name in _ENGINE:
        from tf1_graph.engine import kmeans

        return getattr(kmeans, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BisectingKMeans",
    "KMeans",
    "MiniBatchKMeans",
    "assign_to_nearest",
    "choose_random_centroids",
    "create_samples",
    "k_means",
    "kmeans_plusplus",
    "plot_clusters",
    "run_lesson",
    "update_centroids",
]
