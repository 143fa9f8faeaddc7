"""``KMeans`` for TF2: scikit-learn's interface, the Lloyd loop compiled by ``tf.function``.

Twin: ``tf1_graph/kmeans.py``. The interface, validation and restarts are shared
(``kmeans_tutorial.estimator``); so are the Lloyd ops (``kmeans_tutorial.lloyd_ops``).
This module is only the driver: where TF1 builds a graph with placeholders, compiles the
loop with ``tf.xla.experimental.compile`` and runs it in a ``Session``, TF2 passes tensors
to ``tf.function(jit_compile=True)``, traced once per dtype and shape.
"""

import functools

import numpy as np
import tensorflow as tf

from kmeans_tutorial import lloyd_ops
from kmeans_tutorial.estimator import BaseKMeans
from tf2_eager import tf1_random

# The whole loop is one XLA computation (TF1's twin: tf.xla.experimental.compile).
_lloyd = tf.function(lloyd_ops.lloyd, jit_compile=True, reduce_retracing=True)
_assign_and_inertia = tf.function(
    lloyd_ops.assign_and_inertia, jit_compile=True, reduce_retracing=True
)
_transform = tf.function(lloyd_ops.transform, reduce_retracing=True)
_lloyd_step = tf.function(
    functools.partial(lloyd_ops.lloyd_step, with_inertia=True),
    jit_compile=True,
    reduce_retracing=True,
)


class KMeans(BaseKMeans):
    __doc__ = BaseKMeans.__doc__

    def _make_core(self, X, sample_weight, offset):
        return _EagerCore(X, sample_weight, offset)


class _EagerCore:
    """Runs the shared Lloyd ops on one data set, eagerly and through ``tf.function``."""

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray, offset: np.ndarray):
        self.X = tf.constant(X)
        self.sample_weight = tf.constant(sample_weight)
        self.offset = tf.constant(offset)

    def init_centroids(self, init: str, n_clusters: int, seed: int) -> np.ndarray:
        """Initial centres: the lesson's seeded shuffle, or TensorFlow's k-means++ op."""
        if init == "random":
            order = tf1_random.random_shuffle(tf.range(self.X.shape[0]), seed=seed)
            return (tf.gather(self.X, order[:n_clusters]) - self.offset).numpy()
        points = tf.raw_ops.KmeansPlusPlusInitialization(
            points=tf.cast(self.X, tf.float32),
            num_to_sample=n_clusters,
            seed=seed,
            num_retries_per_sample=-1,
        )
        return (tf.gather(self.X, lloyd_ops.nearest_rows(self.X, points)) - self.offset).numpy()

    def lloyd(self, centers: np.ndarray, max_iter: int, tol: float):
        """(labels, inertia, centers, n_iter) of one run from ``centers``."""
        labels, inertia, centers, n_iter = _lloyd(
            self.X,
            self.sample_weight,
            tf.constant(centers),
            self.offset,
            tf.constant(max_iter),
            tf.constant(tol, self.X.dtype),
            lloyd_ops.chunk_size(self.X.shape[0], len(centers)),
        )
        return labels.numpy(), float(inertia), centers.numpy(), int(n_iter)

    def step(self, centers: np.ndarray, previous_labels: np.ndarray, tol: float):
        """One iteration: (centers, labels, stop, shift, inertia), as NumPy."""
        outputs = _lloyd_step(
            self.X,
            self.sample_weight,
            tf.constant(centers),
            self.offset,
            tf.constant(previous_labels),
            tf.constant(tol, self.X.dtype),
            lloyd_ops.chunk_size(self.X.shape[0], len(centers)),
        )
        centers, labels, stop, shift, inertia = (value.numpy() for value in outputs)
        return centers, labels, bool(stop), float(shift), float(inertia)

    def labels_inertia(self, centers: np.ndarray):
        """Nearest-centre labels and their inertia."""
        chunk = lloyd_ops.chunk_size(self.X.shape[0], len(centers))
        labels, inertia = _assign_and_inertia(
            self.X, self.sample_weight, tf.constant(centers), self.offset, chunk
        )
        return labels.numpy(), float(inertia)

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""
        return _transform(self.X, tf.constant(centers), self.offset).numpy()
