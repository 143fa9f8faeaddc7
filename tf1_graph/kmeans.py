"""``KMeans`` for TF1: scikit-learn's interface, the Lloyd loop a ``tf.while_loop`` in a graph.

Twin: ``tf2_eager/kmeans.py``. The interface, validation and restarts are shared
(``kmeans_tutorial.estimator``); so are the Lloyd ops (``kmeans_tutorial.lloyd_ops``).
This module is only the driver: it builds one private graph per data shape, with
placeholders for the initial centres, ``max_iter`` and ``tol``; the whole loop is compiled
by XLA (``tf.xla.experimental.compile``, TF1's way to ask for what TF2 writes
``tf.function(jit_compile=True)``), and a ``Session`` runs it in one ``session.run`` per
restart.
"""

from typing import ClassVar

import numpy as np
import tensorflow.compat.v1 as tf

from kmeans_tutorial import lloyd_ops
from kmeans_tutorial.estimator import BaseKMeans


class KMeans(BaseKMeans):
    __doc__ = BaseKMeans.__doc__

    def _make_core(self, X, sample_weight, offset):
        return _GraphCore(X, sample_weight, offset)


class _Graph:
    """One graph, its placeholders and its ``Session``, per data dtype and shape.

    Graphs are kept between fits (as ``tf.function`` keeps its traces), so a second fit on
    data of the same shape compiles nothing; the data is not kept (see ``_GraphCore``).
    """

    _cache: ClassVar[dict] = {}
    MAX_GRAPHS = 8
    MAX_OPS = 256  # each new "random" seed adds a shuffle op; past this, start afresh

    @classmethod
    def for_shape(cls, dtype, shape) -> "_Graph":
        """The cached graph for this dtype and shape, built if there is none."""
        key = (np.dtype(dtype).str, shape)
        cached = cls._cache.pop(key, None)
        if cached is None or len(cached.ops) > cls.MAX_OPS:
            cached = cls(dtype, shape)
        cls._cache[key] = cached  # most recently used last
        while len(cls._cache) > cls.MAX_GRAPHS:
            cls._cache.pop(next(iter(cls._cache)))
        return cached

    def __init__(self, dtype, shape):
        self.n_samples, self.n_features = shape
        dtype = tf.as_dtype(dtype)
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.X = tf.placeholder(dtype, shape, name="X")
            self.sample_weight = tf.placeholder(dtype, shape[:1], name="sample_weight")
            self.max_iter = tf.placeholder(tf.int32, [], name="max_iter")
            self.tol = tf.placeholder(dtype, [], name="tol")
            self.seed = tf.placeholder(tf.int64, [], name="seed")
            self.offset = tf.placeholder(dtype, [self.n_features], name="offset")
        self.session = tf.Session(graph=self.graph)
        self.ops = {}

    def __del__(self):
        self.session.close()


class _GraphCore:
    """Runs the shared Lloyd ops on one data set: a cached ``_Graph`` and the data it is fed.

    Not thread-safe: one fit at a time per graph.
    """

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray, offset: np.ndarray):
        shared = _Graph.for_shape(X.dtype, X.shape)
        self.__dict__.update(vars(shared))  # its placeholders, session and ops, shared
        # An aligned X is fed as it is, not copied (kmeans_tutorial.sharing).
        self.feed = {self.X: X, self.sample_weight: sample_weight, self.offset: offset}

    def _centers(self, n_clusters):
        """The placeholder for ``n_clusters`` centres (a static shape, as TF2's trace has)."""
        return self._op(
            ("centers", n_clusters),
            lambda: tf.placeholder(self.X.dtype, [n_clusters, self.n_features], name="centers"),
        )

    def _op(self, key, build):
        """The op for ``key``, built into the graph on first use."""
        if key not in self.ops:
            with self.graph.as_default():
                self.ops[key] = build()
        return self.ops[key]

    def init_centroids(self, init: str, n_clusters: int, seed: int) -> np.ndarray:
        """Initial centres: the lesson's seeded shuffle, or TensorFlow's k-means++ op."""
        if init == "random":
            # An op seed is an attribute, and a stateful op run again continues its stream
            # (as the lesson's repeated session.run showed): so a new op for every draw.
            with self.graph.as_default():
                order = tf.random_shuffle(tf.range(self.n_samples), seed=seed)
                chosen = tf.gather(self.X, order[:n_clusters]) - self.offset
            self.ops[("random", len(self.ops))] = chosen  # counts toward MAX_OPS
            return self.session.run(chosen, self.feed)
        chosen = self._op(("k-means++", n_clusters), lambda: self._kmeans_plus_plus(n_clusters))
        return self.session.run(chosen, {**self.feed, self.seed: seed})

    def _kmeans_plus_plus(self, n_clusters: int):
        """The op of ``n_clusters`` centres by TF's k-means++, as rows of X (centred)."""
        points = tf.raw_ops.KmeansPlusPlusInitialization(
            points=tf.cast(self.X, tf.float32),
            num_to_sample=n_clusters,
            seed=self.seed,
            num_retries_per_sample=-1,
        )
        points = tf.ensure_shape(points, [n_clusters, self.n_features])  # unknown in a graph
        chunk = lloyd_ops.chunk_size(self.n_samples, n_clusters)
        (rows,) = tf.xla.experimental.compile(
            lambda X, points: lloyd_ops.nearest_rows(X, points, chunk), [self.X, points]
        )
        return tf.gather(self.X, rows) - self.offset

    def lloyd(self, centers: np.ndarray, max_iter: int, tol: float):
        """(labels, inertia, centers, n_iter) of one run from ``centers``."""
        n_clusters = len(centers)
        placeholder = self._centers(n_clusters)
        chunk = lloyd_ops.chunk_size(self.n_samples, n_clusters)
        # The whole loop is one XLA computation, as TF2's tf.function(jit_compile=True).
        run = self._op(
            ("lloyd", n_clusters),
            lambda: tf.xla.experimental.compile(
                lambda *inputs: lloyd_ops.lloyd(*inputs, chunk),
                [self.X, self.sample_weight, placeholder, self.offset, self.max_iter, self.tol],
            ),
        )
        feed = {**self.feed, placeholder: centers, self.max_iter: max_iter, self.tol: tol}
        labels, inertia, centers, n_iter = self.session.run(run, feed)
        return labels, float(inertia), centers, int(n_iter)

    def step(self, centers: np.ndarray, previous_labels: np.ndarray, tol: float):
        """One iteration: (centers, labels, stop, shift, inertia), as NumPy."""
        n_clusters = len(centers)
        placeholder = self._centers(n_clusters)
        previous = self._op(
            "previous_labels",
            lambda: tf.placeholder(tf.int32, [self.n_samples], name="previous_labels"),
        )
        chunk = lloyd_ops.chunk_size(self.n_samples, n_clusters)
        fetch = self._op(
            ("step", n_clusters),
            lambda: tf.xla.experimental.compile(
                lambda *inputs: lloyd_ops.lloyd_step(*inputs, chunk, with_inertia=True),
                [self.X, self.sample_weight, placeholder, self.offset, previous, self.tol],
            ),
        )
        feed = {**self.feed, placeholder: centers, previous: previous_labels, self.tol: tol}
        centers, labels, stop, shift, inertia = self.session.run(fetch, feed)
        return centers, labels, bool(stop), float(shift), float(inertia)

    def labels_inertia(self, centers: np.ndarray):
        """Nearest-centre labels and their inertia."""
        n_clusters = len(centers)
        placeholder = self._centers(n_clusters)
        chunk = lloyd_ops.chunk_size(self.n_samples, n_clusters)
        fetch = self._op(
            ("labels_inertia", n_clusters),
            lambda: tf.xla.experimental.compile(
                lambda *inputs: lloyd_ops.assign_and_inertia(*inputs, chunk),
                [self.X, self.sample_weight, placeholder, self.offset],
            ),
        )
        labels, inertia = self.session.run(fetch, {**self.feed, placeholder: centers})
        return labels, float(inertia)

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""
        placeholder = self._centers(len(centers))
        distances = self._op(
            ("transform", len(centers)),
            lambda: lloyd_ops.transform(self.X, placeholder, self.offset),
        )
        return self.session.run(distances, {**self.feed, placeholder: centers})
