"""The k-means lesson ported to TensorFlow 2: eager, with TF1's results bit for bit.

No ``tf.compat.v1``, no ``Session``; it never imports ``tf1_graph``, which a migrating user
can delete. Its TF1 original, with the same names and signatures, is ``tf1_graph``.
"""

from tf2_eager.functions import (
    assign_to_nearest,
    choose_random_centroids,
    create_samples,
    plot_clusters,
    update_centroids,
)
from tf2_eager.runner import run_lesson

# The k-means engine's names, loaded on first use: the lesson does not import the engine.
_ENGINE = ("BisectingKMeans", "KMeans", "MiniBatchKMeans", "k_means", "kmeans_plusplus")


def __getattr__(name: str):
    if name in _ENGINE:
        from tf2_eager.engine import kmeans

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
