"""``tf.compat.v1.estimator.experimental``'s name for the k-means estimator."""

from tf1_graph.estimator._kmeans import KMeans

__all__ = ["KMeans"]
