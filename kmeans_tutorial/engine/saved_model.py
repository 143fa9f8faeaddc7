"""A fitted ``KMeans`` as a SavedModel that serves without this project.

``export_saved_model(model, path)`` writes the fitted centres and three serving
signatures, each taking ``x`` of shape (batch, n_features) in the centres' dtype:

- ``cluster_index``: ``{"cluster_index": int32 (batch,)}``, the nearest centre;
- ``distances``: ``{"distances": (batch, n_clusters)}``, as ``transform`` gives them
  (Euclidean, or ``1 - cos`` for the cosine metric);
- ``score``: ``{"score": scalar}``, the batch's score as ``score`` gives it;

and ``serving_default`` with all three outputs. ``tf.saved_model.load`` (or TF Serving)
reads it in a process that imports only TensorFlow: the computation is plain TF ops on
the centres, stored as a variable. Both packages export through this module, so their
SavedModels are the same.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from kmeans_tutorial.engine.checks import check_is_fitted


def _squared(x, centers):
    """Squared Euclidean distances (batch, k), never below 0 (rounding can make a tiny
    negative), taken around the centres' mean as ``predict`` takes them."""
    middle = tf.reduce_mean(centers, axis=0)
    x, centers = x - middle, centers - middle
    squared = (
        tf.reduce_sum(tf.square(x), axis=1, keepdims=True)
        - 2 * tf.matmul(x, centers, transpose_b=True)
        + tf.reduce_sum(tf.square(centers), axis=1)[tf.newaxis, :]
    )
    return tf.maximum(squared, 0)


def _cosine(x, centers):
    """``1 - cos`` between the rows and the (unit) centres, (batch, k)."""
    return 1 - tf.matmul(tf.math.l2_normalize(x, axis=1), centers, transpose_b=True)


class _Served(tf.Module):
    """The computation served: "distances" are what ``transform`` gives, "squared" what
    ``predict`` and ``score`` minimise and sum (for the cosine metric, both ``1 - cos``)."""

    def __init__(self, centers: np.ndarray, cosine: bool):
        super().__init__()
        self.centers = tf.Variable(centers, trainable=False, name="cluster_centers")
        self.cosine = cosine
        spec = tf.TensorSpec([None, centers.shape[1]], tf.as_dtype(centers.dtype), name="x")
        self.cluster_index = tf.function(self._cluster_index, input_signature=[spec])
        self.distances = tf.function(self._distances, input_signature=[spec])
        self.score = tf.function(self._score, input_signature=[spec])
        self.serve = tf.function(self._serve, input_signature=[spec])

    def _measures(self, x):
        if self.cosine:
            distances = _cosine(x, self.centers)
            return distances, distances
        squared = _squared(x, self.centers)
        return squared, tf.sqrt(squared)

    def _cluster_index(self, x):
        return {"cluster_index": self._serve(x)["cluster_index"]}

    def _distances(self, x):
        return {"distances": self._serve(x)["distances"]}

    def _score(self, x):
        return {"score": self._serve(x)["score"]}

    def _serve(self, x):
        minimised, distances = self._measures(x)
        return {
            "cluster_index": tf.argmin(minimised, axis=1, output_type=tf.int32),
            "distances": distances,
            "score": -tf.reduce_sum(tf.reduce_min(minimised, axis=1)),
        }


def export_saved_model(model, path) -> str:
    """Write ``model``'s fitted centres and serving signatures to the folder ``path``."""
    check_is_fitted(model)
    served = _Served(np.asarray(model.cluster_centers_), model.metric == "cosine")
    signatures = {
        "cluster_index": served.cluster_index,
        "distances": served.distances,
        "score": served.score,
        "serving_default": served.serve,
    }
    tf.saved_model.save(served, os.fspath(path), signatures=signatures)
    return os.fspath(path)
