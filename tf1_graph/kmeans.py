"""``KMeans`` for TF1: scikit-learn's interface, the Lloyd loop a ``tf.while_loop`` in a graph.

Twin: ``tf2_eager/kmeans.py``. The interface, validation and restarts are shared
(``kmeans_tutorial.estimator``); so are the Lloyd ops (``kmeans_tutorial.lloyd_ops``).
This module is only the driver: it builds one private graph per data set, with
placeholders for the initial centres, ``max_iter`` and ``tol``, and a ``Session`` runs the
whole loop in one ``session.run`` per restart.
"""

import numpy as np
import tensorflow.compat.v1 as tf

from kmeans_tutorial import lloyd_ops
from kmeans_tutorial.estimator import BaseKMeans


class KMeans(BaseKMeans):
    __doc__ = BaseKMeans.__doc__

    def _make_core(self, X, sample_weight, offset):
        return _GraphCore(X, sample_weight, offset)


class _GraphCore:
    """One graph over one data set; ops are added as they are first needed."""

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray, offset: np.ndarray):
        self.n_samples, self.n_features = X.shape
        dtype = tf.as_dtype(X.dtype)
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.X = tf.placeholder(dtype, X.shape, name="X")
            self.sample_weight = tf.placeholder(dtype, X.shape[:1], name="sample_weight")
            self.centers = tf.placeholder(dtype, [None, self.n_features], name="centers")
            self.max_iter = tf.placeholder(tf.int32, [], name="max_iter")
            self.tol = tf.placeholder(dtype, [], name="tol")
            self.seed = tf.placeholder(tf.int64, [], name="seed")
            self.offset = tf.placeholder(dtype, [self.n_features], name="offset")
        self.feed = {self.X: X, self.sample_weight: sample_weight, self.offset: offset}
        self.session = tf.Session(graph=self.graph)
        self.ops = {}

    def __del__(self):
        self.session.close()

    def _op(self, key, build):
        """The op for ``key``, built into the graph on first use."""
        if key not in self.ops:
            with self.graph.as_default():
                self.ops[key] = build()
        return self.ops[key]

    def init_centroids(self, init: str, n_clusters: int, seed: int) -> np.ndarray:
        """Initial centres: the lesson's seeded shuffle, or TensorFlow's k-means++ op."""
        if init == "random":  # an op seed is an attribute: one shuffle op per seed
            chosen = self._op(
                ("random", n_clusters, seed),
                lambda: (
                    tf.gather(
                        self.X, tf.random_shuffle(tf.range(self.n_samples), seed=seed)[:n_clusters]
                    )
                    - self.offset
                ),
            )
            return self.session.run(chosen, self.feed)
        chosen = self._op(
            ("k-means++", n_clusters),
            lambda: (
                -self.offset
                + tf.gather(
                    self.X,
                    lloyd_ops.nearest_rows(
                        self.X,
                        tf.raw_ops.KmeansPlusPlusInitialization(
                            points=tf.cast(self.X, tf.float32),
                            num_to_sample=n_clusters,
                            seed=self.seed,
                            num_retries_per_sample=-1,
                        ),
                    ),
                )
            ),
        )
        return self.session.run(chosen, {**self.feed, self.seed: seed})

    def lloyd(self, centers: np.ndarray, max_iter: int, tol: float):
        """(labels, inertia, centers, n_iter) of one run from ``centers``."""
        chunk = lloyd_ops.chunk_size(self.n_samples, len(centers))
        run = self._op(
            ("lloyd", chunk),
            lambda: lloyd_ops.lloyd(
                self.X,
                self.sample_weight,
                self.centers,
                self.offset,
                self.max_iter,
                self.tol,
                chunk,
            ),
        )
        feed = {**self.feed, self.centers: centers, self.max_iter: max_iter, self.tol: tol}
        labels, inertia, centers, n_iter = self.session.run(run, feed)
        return labels, float(inertia), centers, int(n_iter)

    def labels_inertia(self, centers: np.ndarray):
        """Nearest-centre labels and their inertia."""
        chunk = lloyd_ops.chunk_size(self.n_samples, len(centers))
        fetch = self._op(
            ("labels_inertia", chunk),
            lambda: lloyd_ops.assign_and_inertia(
                self.X, self.sample_weight, self.centers, self.offset, chunk
            ),
        )
        labels, inertia = self.session.run(fetch, {**self.feed, self.centers: centers})
        return labels, float(inertia)

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""
        distances = self._op(
            "transform", lambda: lloyd_ops.transform(self.X, self.centers, self.offset)
        )
        return self.session.run(distances, {**self.feed, self.centers: centers})
