"""``KMeans`` for TF1: scikit-learn's interface, the Lloyd loop a ``tf.while_loop`` in a graph.

Twin: ``tf2_eager/engine/kmeans.py``. The interface, validation and restarts are shared
(``kmeans_tutorial.engine.base``); so are the Lloyd ops (``lloyd_ops`` for dense data,
``sparse_ops`` for CSR), and the host side of a dense core (``dense_core``: the data padded
to a few shapes, ``buckets``). This module is only the driver: it builds one private graph
per padded data shape, with placeholders for each program's inputs; the whole
loop is compiled by XLA (``tf.xla.experimental.compile``, TF1's way to ask for what TF2
writes ``tf.function(jit_compile=True)``) unless the data is small (``lloyd_ops.compiles``),
and a ``Session`` runs it in one ``session.run`` per restart. Sparse data has one graph
per dtype, its placeholders of unknown size, run uncompiled.
"""

import functools
from typing import ClassVar

import numpy as np
import tensorflow.compat.v1 as tf

from kmeans_tutorial.engine import batch_ops, dense_core, lloyd_ops, seeding, sparse_ops
from kmeans_tutorial.engine import bisecting as engine_bisecting
from kmeans_tutorial.engine import kmeans as engine_kmeans
from kmeans_tutorial.engine import minibatch as engine_minibatch
from kmeans_tutorial.engine.batch_core import LocalBatchCore, compiles
from kmeans_tutorial.engine.data import SparseRows
from kmeans_tutorial.engine.dense_core import DenseCore
from kmeans_tutorial.engine.driver import DistributedPlan, Driver, KMeansCore
from kmeans_tutorial.engine.sharing import shareable
from tf1_graph.engine import checkpoint_writer, distributed, summary_writer


class _GraphDriver(Driver):
    """TF1's runtime for the estimators: graphs run by a ``Session``, ``Saver``,
    ``FileWriter``, and a ``TF_CONFIG`` cluster of ``train.Server``s (with one, ``fit``
    fits the ``input_fn`` given as ``X`` on it; ``MiniBatchKMeans`` is refused there)."""

    def core(self, X, sample_weight, offset) -> KMeansCore:
        if isinstance(X, SparseRows):
            return _SparseGraphCore(X, sample_weight)
        return _GraphCore(X, sample_weight, offset)

    def batch_core(self) -> LocalBatchCore:
        return _GraphBatchCore()

    def checkpoint_writer(self, directory: str) -> checkpoint_writer.Writer:
        return checkpoint_writer.Writer(directory)

    def summary_writer(self, directory: str) -> summary_writer.Writer:
        return summary_writer.Writer(directory)

    def distributed_plan(
        self, X, sample_weight, estimator: str, checkpoint_dir
    ) -> DistributedPlan | None:
        return distributed.plan(X, sample_weight, estimator, checkpoint_dir)


class KMeans(engine_kmeans.KMeans):
    __doc__ = engine_kmeans.KMeans.__doc__
    driver = _GraphDriver()


class MiniBatchKMeans(engine_minibatch.MiniBatchKMeans):
    __doc__ = engine_minibatch.MiniBatchKMeans.__doc__
    driver = KMeans.driver


class BisectingKMeans(engine_bisecting.BisectingKMeans):
    __doc__ = engine_bisecting.BisectingKMeans.__doc__
    driver = KMeans.driver


class _Chain:
    """TensorFlow's k-MC2 chain (``KMC2ChainInitialization``) over candidates' squared
    distances, in a graph of its own fed by placeholders: the index of the next centre
    among them (``seeding.kmc2_rows``). Made on first use, then run once a centre."""

    session = None

    def __call__(self, distances: np.ndarray, seed: int) -> int:
        if self.session is None:
            graph = tf.Graph()
            with graph.as_default():
                self.distances = tf.placeholder(tf.float32, [None], name="distances")
                self.seed = tf.placeholder(tf.int64, [], name="seed")
                self.index = tf.raw_ops.KMC2ChainInitialization(
                    distances=self.distances, seed=self.seed
                )
            self.session = tf.Session(graph=graph)
        return int(self.session.run(self.index, {self.distances: distances, self.seed: seed}))


_chain = _Chain()


def _compiled_or_not(function, inputs, jit: bool) -> list:
    """``function(*inputs)`` as one XLA computation (``tf.xla.experimental.compile``, TF1's
    way to ask for what TF2 writes ``tf.function(jit_compile=True)``), or as plain graph
    ops for small data, as ``lloyd_ops.compiles`` chooses for both packages."""
    if jit:
        return tf.xla.experimental.compile(function, inputs)
    outputs = function(*inputs)
    return list(outputs) if isinstance(outputs, tuple | list) else [outputs]


class _GraphBatchCore(LocalBatchCore):
    """Runs ``batch_ops`` on one batch at a time: one graph and ``Session`` for all batch
    programs, each built on first use for its batch shape, with placeholders to feed."""

    graph: tf.Graph | None = None
    session: tf.Session | None = None
    programs: ClassVar[dict] = {}

    def _run(self, name: str, x: np.ndarray, centers: np.ndarray, *inputs):
        rows, n_features = x.shape
        key = (name, rows, n_features, len(centers), x.dtype.str)
        graph, session = _GraphBatchCore.graph, _GraphBatchCore.session
        if graph is None or session is None:
            graph = _GraphBatchCore.graph = tf.Graph()
            session = _GraphBatchCore.session = tf.Session(graph=graph)
        if key not in self.programs:
            with graph.as_default():
                placeholders = [
                    tf.placeholder(dtype, shape)
                    for shape, dtype in batch_ops.signature(
                        name, rows, n_features, len(centers), tf.as_dtype(x.dtype)
                    )
                ]
                jit = compiles(rows, n_features, len(centers))
                fetches = _compiled_or_not(batch_ops.PROGRAMS[name], placeholders, jit)
            self.programs[key] = placeholders, fetches
        placeholders, fetches = self.programs[key]
        outputs = session.run(fetches, dict(zip(placeholders, (x, *inputs), strict=True)))
        return tf.nest.flatten(outputs)


class _ShapeGraph:
    """One graph, its data placeholders and its ``Session``, per data dtype and padded shape;
    and for the uncompiled programs, graphs whose data has any number of rows (``n_samples``
    None), and any width but where ``dense_core.any_shape_sizes`` gives one.

    Graphs are kept between fits (as ``tf.function`` keeps its traces), so a second fit on
    data of the same padded shape compiles nothing; the data is not kept (see ``_GraphCore``).
    """

    _cache: ClassVar[dict] = {}
    MAX_GRAPHS = 8
    MAX_OPS = 256  # each new "random" seed adds a shuffle op; past this, start afresh

    @classmethod
    def for_shape(cls, dtype, shape) -> "_ShapeGraph":
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
        self.dtype = dtype = tf.as_dtype(dtype)
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.X = tf.placeholder(dtype, shape, name="X")
            self.sample_weight = tf.placeholder(dtype, shape[:1], name="sample_weight")
            self.offset = tf.placeholder(dtype, [self.n_features], name="offset")
        self.session = tf.Session(graph=self.graph)
        self.ops = {}

    def program(self, name: str, n_clusters: int):
        """Placeholders for the inputs of ``dense_core.PROGRAMS[name]`` for ``n_clusters``
        (padded) centres, and its outputs: built into the graph on first use. In a graph of
        one shape, one XLA computation; in a graph of rows of any number, plain ops, which
        take their chunk as an input (``dense_core.with_chunk_input``), as TF2's twin does."""
        rows, n_features = self.n_samples, self.n_features
        any_shape = rows is None
        # A graph of rows of any number has a width only for the elementwise form, whose
        # programs are made per number of centres; the others, for any number.
        size = None if any_shape and n_features is None else n_clusters
        # The chunk is baked into a compiled program, so it is part of the key.
        chunk = None if any_shape else dense_core.chunk(name, rows, n_features, n_clusters)
        key = (name, size, chunk)
        if key not in self.ops:
            with self.graph.as_default():
                inputs = [
                    tf.placeholder(spec_dtype, shape)
                    for shape, spec_dtype in dense_core.signature(
                        name, rows, n_features, size, self.dtype
                    )
                ]
                if any_shape:
                    program = dense_core.with_chunk_input(name)
                else:
                    program = functools.partial(dense_core.PROGRAMS[name], chunk=chunk)
                data = [self.X, self.sample_weight, self.offset]
                outputs = _compiled_or_not(program, [*data, *inputs], not any_shape)
            self.ops[key] = inputs, outputs
        return self.ops[key]

    def __del__(self):
        self.session.close()


class _GraphCore(DenseCore):
    """Runs the shared dense programs (``dense_core``): a cached ``_ShapeGraph`` and the
    data it is fed. Not thread-safe: one fit at a time per graph."""

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray, offset: np.ndarray):
        super().__init__(X, sample_weight, offset)
        # The graph itself is held, not only its parts: the cache may replace it while this
        # core lives (another fit of the same shape past MAX_OPS, or more than MAX_GRAPHS
        # shapes), and a graph no one holds closes its session (``_ShapeGraph.__del__``).
        self.shared = shared = _ShapeGraph.for_shape(self.X.dtype, self.X.shape)
        # An aligned X is fed as it is, not copied (``sharing``).
        self.feed = {shared.X: self.X, shared.sample_weight: self.sample_weight}
        self.feed[shared.offset] = offset
        self.any_shape: dict = {}  # for the uncompiled programs: (graph, feed) by width

    def _graph(self, n_clusters: int) -> tuple[_ShapeGraph, dict]:
        """The graph whose programs for ``n_clusters`` centres this data runs, and its feed:
        the graph of its shape, or (uncompiled) one for any number of rows."""
        if self.compiled(n_clusters):
            return self.shared, self.feed
        width, _ = dense_core.any_shape_sizes(self.n_features, n_clusters)
        if width not in self.any_shape:
            shapes = _ShapeGraph.for_shape(self.X.dtype, (None, width))
            data = (self.X, self.sample_weight, self.offset)
            placeholders = (shapes.X, shapes.sample_weight, shapes.offset)
            self.any_shape[width] = shapes, dict(zip(placeholders, data, strict=True))
        return self.any_shape[width]

    def _prepare(self, name: str, n_clusters: int) -> None:
        self._graph(n_clusters)[0].program(name, n_clusters)  # its ops built into the graph

    def _run(self, name: str, n_clusters: int, *inputs):
        shapes, feed = self._graph(n_clusters)
        placeholders, outputs = shapes.program(name, n_clusters)
        feed = {**feed, **dict(zip(placeholders, inputs, strict=True))}
        return shapes.session.run(outputs, feed)

    def shuffled_rows(self, n_clusters: int, seed: int) -> np.ndarray:
        """The lesson's draw: ``random_shuffle`` with an op seed."""
        # An op seed is an attribute, and a stateful op run again continues its stream
        # (as the lesson's repeated session.run showed): so a new op for every draw.
        shared = self.shared
        with shared.graph.as_default():
            order = tf.random_shuffle(tf.range(self.n_rows), seed=seed)[:n_clusters]
        shared.ops[("random", len(shared.ops))] = order  # counts toward MAX_OPS
        return shared.session.run(order)

    def chain(self, distances: np.ndarray, seed: int) -> int:
        return _chain(distances, seed)

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""
        shared = self.shared
        key = ("transform", len(centers))
        if key not in shared.ops:
            with shared.graph.as_default():
                placeholder = tf.placeholder(shared.dtype, [len(centers), self.n_features])
                transform = lloyd_ops.transform(shared.X, placeholder, shared.offset)
            shared.ops[key] = placeholder, transform
        placeholder, transform = shared.ops[key]
        return shared.session.run(transform, {**self.feed, placeholder: centers})[: self.n_rows]


class _SparseGraph:
    """One graph, its placeholders (of unknown sizes) and its ``Session``, per dtype.

    The sparse ops take every size from the data at run time, so one graph serves every
    CSR matrix of a dtype; its ops are built once, on first use.
    """

    _cache: ClassVar[dict] = {}

    @classmethod
    def for_dtype(cls, dtype) -> "_SparseGraph":
        key = np.dtype(dtype).str
        if key not in cls._cache:
            cls._cache[key] = cls(dtype)
        return cls._cache[key]

    def __init__(self, dtype):
        dtype = tf.as_dtype(dtype)
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.csr = [
                tf.placeholder(dtype, [None], name="values"),
                tf.placeholder(tf.int32, [None], name="indices"),
                tf.placeholder(tf.int64, [None], name="indptr"),
            ]
            self.sample_weight = tf.placeholder(dtype, [None], name="sample_weight")
            self.centers = tf.placeholder(dtype, [None, None], name="centers")
            self.previous_labels = tf.placeholder(tf.int32, [None], name="previous_labels")
            self.max_iter = tf.placeholder(tf.int32, [], name="max_iter")
            self.tol = tf.placeholder(dtype, [], name="tol")
            self.chunk = tf.placeholder(tf.int32, [], name="chunk")
            values, indices, indptr = self.csr
            csr = (values, indices, indptr)
            weights, centers, chunk = self.sample_weight, self.centers, self.chunk
            self.ops = {
                "lloyd": sparse_ops.lloyd(*csr, weights, centers, self.max_iter, self.tol, chunk),
                "elkan": sparse_ops.elkan(*csr, weights, centers, self.max_iter, self.tol, chunk),
                "lloyd_step": sparse_ops.lloyd_step(
                    *csr, weights, centers, self.previous_labels, self.tol, chunk
                ),
                "assign_and_inertia": sparse_ops.assign_and_inertia(*csr, weights, centers, chunk),
                "squared_distances": sparse_ops.squared_distances(*csr, centers, chunk),
                "transform": sparse_ops.transform(*csr, centers, chunk),
            }
        self.session = tf.Session(graph=self.graph)

    def __del__(self):
        self.session.close()


class _SparseGraphCore(KMeansCore):
    """Runs the shared sparse Lloyd ops on one CSR data set, fed to a cached graph."""

    def __init__(self, X: SparseRows, sample_weight: np.ndarray):
        self.sparse = X
        self.weights = sample_weight
        shared = self.shared = _SparseGraph.for_dtype(X.dtype)
        csr = [shareable(part) for part in (X.data, X.indices, X.indptr)]
        self.feed = {**dict(zip(shared.csr, csr, strict=True)), shared.sample_weight: sample_weight}

    def _run(self, name: str, centers: np.ndarray, **feeds):
        shared = self.shared
        feed = {**self.feed, shared.centers: centers, shared.chunk: self._chunk(len(centers))}
        feed.update((getattr(shared, key), value) for key, value in feeds.items())
        return shared.session.run(shared.ops[name], feed)

    def _chunk(self, n_clusters: int) -> int:
        n_samples, nnz = self.sparse.shape[0], len(self.sparse.data)
        return sparse_ops.chunk_size(n_samples, nnz, n_clusters)

    def _squared_distances(self, points: np.ndarray) -> np.ndarray:
        return self._run("squared_distances", points)

    def rows(self, index: np.ndarray) -> np.ndarray:
        return self.sparse.rows(index)

    def shuffled_rows(self, n_clusters: int, seed: int) -> np.ndarray:
        """The lesson's draw: ``random_shuffle`` with an op seed, in a graph of its own (the
        shared graph keeps no stateful op: one run again would continue its stream)."""
        graph = tf.Graph()
        with graph.as_default():
            order = tf.random_shuffle(tf.range(self.sparse.shape[0]), seed=seed)[:n_clusters]
        with tf.Session(graph=graph) as session:
            return session.run(order)

    def chain(self, distances: np.ndarray, seed: int) -> int:
        return _chain(distances, seed)

    def plus_plus_rows(self, n_clusters: int, seed: int) -> np.ndarray:
        """The rows of X that greedy k-means++ chooses (``seeding``), seeded."""
        return seeding.greedy_kmeans_plus_plus(
            self._squared_distances, self.sparse.rows, self.weights, n_clusters, seed
        )

    def lloyd(self, centers: np.ndarray, max_iter: int, tol: float, algorithm: str = "lloyd"):
        """(labels, inertia, centers, n_iter) of one run from ``centers``, by the program
        ``algorithm`` (``sparse_ops.lloyd`` or ``elkan``)."""
        labels, inertia, centers, n_iter = self._run(algorithm, centers, max_iter=max_iter, tol=tol)
        return labels, float(inertia), centers, int(n_iter)

    def step(self, centers: np.ndarray, previous_labels: np.ndarray, tol: float):
        """One iteration: (centers, labels, stop, shift, inertia), as NumPy."""
        centers, labels, stop, shift, inertia = self._run(
            "lloyd_step", centers, previous_labels=previous_labels, tol=tol
        )
        return centers, labels, bool(stop), float(shift), float(inertia)

    def labels_inertia(self, centers: np.ndarray):
        """Nearest-centre labels and their inertia."""
        labels, inertia = self._run("assign_and_inertia", centers)
        return labels, float(inertia)

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""
        return self._run("transform", centers)


def kmeans_plusplus(X, n_clusters, *, sample_weight=None, x_squared_norms=None, random_state=None):
    """Initial centres by greedy k-means++, as ``sklearn.cluster.kmeans_plusplus``.

    The centres the first run of ``KMeans(n_clusters, random_state=random_state).fit(X)``
    starts from. ``x_squared_norms`` (scikit-learn's precomputed |x|², shape (n_samples,))
    is checked and not needed.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), X's dtype
    indices : ndarray of shape (n_clusters,), int64: their rows in X
    """
    return KMeans(n_clusters)._kmeans_plusplus(X, sample_weight, random_state, x_squared_norms)


def k_means(X, n_clusters, *, sample_weight=None, return_n_iter=False, **params):
    """``KMeans(n_clusters, **params).fit(X, sample_weight=sample_weight)`` as
    ``sklearn.cluster.k_means`` returns it: ``(centers, labels, inertia)``, and ``n_iter``
    if ``return_n_iter``."""
    return engine_kmeans.k_means(
        KMeans, X, n_clusters, sample_weight=sample_weight, return_n_iter=return_n_iter, **params
    )
