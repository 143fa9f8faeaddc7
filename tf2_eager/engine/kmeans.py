"""``KMeans`` for TF2: scikit-learn's interface, the Lloyd loop compiled by ``tf.function``.

Twin: ``tf1_graph/engine/kmeans.py``. The interface, validation and restarts are shared
(``kmeans_tutorial.engine.base``); so are the Lloyd ops (``lloyd_ops`` for dense data,
``sparse_ops`` for CSR), and the host side of a dense core (``dense_core``: the data padded
to a few shapes, ``buckets``). This module is only the driver: where TF1 builds a graph with
placeholders, compiles the loop with ``tf.xla.experimental.compile`` and runs it in a
``Session``, TF2 passes tensors to ``tf.function(jit_compile=True)``, traced once per
dtype and padded shape. Both leave small data uncompiled (``lloyd_ops.compiles``), in one
program for any shape (TF2: a ``tf.function`` whose ``input_signature`` has unknown sizes;
TF1: placeholders of unknown shape), as sparse data's plain ``tf.function``s are.
"""

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from kmeans_tutorial.engine import batch_ops, dense_core, lloyd_ops, seeding, sparse_ops
from kmeans_tutorial.engine import bisecting as engine_bisecting
from kmeans_tutorial.engine import kmeans as engine_kmeans
from kmeans_tutorial.engine import minibatch as engine_minibatch
from kmeans_tutorial.engine.batch_core import LocalBatchCore, compiles
from kmeans_tutorial.engine.data import SparseRows
from kmeans_tutorial.engine.dense_core import DenseCore
from kmeans_tutorial.engine.driver import DistributedPlan, Driver, KMeansCore
from kmeans_tutorial.engine.sharing import shareable
from tf2_eager import tf1_random
from tf2_eager.engine import checkpoint_writer, distributed, summary_writer


@functools.lru_cache(maxsize=32)
def _compiled(name: str, rows: int, n_features: int, dtype: str, n_clusters: int, chunk: int):
    """``dense_core.PROGRAMS[name]`` as one XLA computation for one padded shape and its
    ``chunk`` (``dense_core.chunk``; both baked in, both in the cache's key); its
    ``input_signature`` is TF1's placeholders.

    One ``tf.function`` per shape, traced once with static shapes, as TF1's twin keeps one
    graph per shape: the ops choose their form (and chunk size) from the static sizes. The
    ops write their loops as ``tf.while_loop`` already, so AutoGraph (``autograph=False``)
    would only add to the first call's tracing time.
    """
    data = [([rows, n_features], dtype), ([rows], dtype), ([n_features], dtype)]
    specs = data + dense_core.signature(name, rows, n_features, n_clusters, tf.as_dtype(dtype))
    function = functools.partial(dense_core.PROGRAMS[name], chunk=chunk)
    return tf.function(
        function,
        input_signature=[tf.TensorSpec(shape, spec_dtype) for shape, spec_dtype in specs],
        jit_compile=True,
        autograph=False,
    )


@functools.lru_cache(maxsize=32)
def _any_shape(name: str, dtype: str, n_features: int | None, n_clusters: int | None):
    """``dense_core.PROGRAMS[name]`` as plain ops, traced once for data of any number of
    rows, and of any width and number of centres where these are None
    (``dense_core.any_shape_sizes``); it takes its chunk as an input
    (``dense_core.with_chunk_input``). TF1's placeholders of unknown shape are its twin."""
    data_type = tf.as_dtype(dtype)
    data = [([None, n_features], data_type), ([None], data_type), ([n_features], data_type)]
    specs = data + dense_core.signature(name, None, n_features, n_clusters, data_type)
    return _program(
        dense_core.with_chunk_input(name),
        input_signature=[tf.TensorSpec(shape, spec_dtype) for shape, spec_dtype in specs],
        autograph=False,
    )


def _program(function: Any, **options: Any) -> Any:
    """``tf.function(function, **options)``, one of the programs a cache keeps a shape each.
    TensorFlow counts traces by the Python function's code to warn of a function retraced in
    a loop: many programs of one function (a shape each, bounded by the caches) would read
    as that, and print its warning into a user's own loop over ``n_clusters``. A
    ``functools.partial`` is counted by itself."""
    return tf.function(functools.partial(function), **options)


_transform = tf.function(lloyd_ops.transform, reduce_retracing=True, autograph=False)


_Spec = tuple[list[int | None], tf.DType | None]  # a shape, and a dtype (None: the data's)


def _sparse_signature(dtype: tf.DType, *rest: _Spec) -> list[tf.TensorSpec]:
    """CSR arrays, weights and centres with unknown sizes (TF1's placeholders), then ``rest``."""
    csr = [
        tf.TensorSpec([None], dtype),  # values
        tf.TensorSpec([None], tf.int32),  # indices
        tf.TensorSpec([None], tf.int64),  # indptr
    ]
    return csr + [tf.TensorSpec(shape, spec_dtype or dtype) for shape, spec_dtype in rest]


_WEIGHTS: _Spec = ([None], None)
_CENTERS: _Spec = ([None, None], None)
_CHUNK: _Spec = ([], tf.int32)
_SPARSE_PROGRAMS: dict[str, tuple[Callable, list[_Spec]]] = {
    "lloyd": (sparse_ops.lloyd, [_WEIGHTS, _CENTERS, ([], tf.int32), ([], None), _CHUNK]),
    "elkan": (sparse_ops.elkan, [_WEIGHTS, _CENTERS, ([], tf.int32), ([], None), _CHUNK]),
    "lloyd_step": (
        sparse_ops.lloyd_step,
        [_WEIGHTS, _CENTERS, ([None], tf.int32), ([], None), _CHUNK],
    ),
    "assign_and_inertia": (sparse_ops.assign_and_inertia, [_WEIGHTS, _CENTERS, _CHUNK]),
    "squared_distances": (sparse_ops.squared_distances, [_CENTERS, _CHUNK]),
    "transform": (sparse_ops.transform, [_CENTERS, _CHUNK]),
}


@functools.lru_cache(maxsize=16)
def _sparse_program(name: str, dtype: str):
    """``sparse_ops.<name>`` as a ``tf.function`` for one dtype, traced once."""
    function, rest = _SPARSE_PROGRAMS[name]
    signature = _sparse_signature(tf.as_dtype(dtype), *rest)
    return tf.function(function, input_signature=signature, autograph=False)


def _in_place(array: np.ndarray) -> tf.Tensor:
    """A tensor on ``array``'s own buffer, through DLPack (``estimator._sharing``)."""
    return tf.experimental.dlpack.from_dlpack(array.__dlpack__())


@functools.lru_cache(maxsize=32)
def _batch_program(name: str, rows: int, n_features: int, n_clusters: int, dtype: str):
    """``batch_ops.<name>`` as one program for one batch shape, traced once (its
    ``input_signature`` is TF1's placeholders), compiled as ``batch_core.compiles`` says;
    with the dtypes of its inputs. A stream calls it once a batch, with tensors: NumPy
    arguments would cost a conversion each through the signature, and a concrete
    function's own call costs more than the ``tf.function``'s."""
    signature = [
        tf.TensorSpec(shape, spec_dtype)
        for shape, spec_dtype in batch_ops.signature(
            name, rows, n_features, n_clusters, tf.as_dtype(dtype)
        )
    ]
    jit = compiles(rows, n_features, n_clusters)
    program = _program(
        batch_ops.PROGRAMS[name], input_signature=signature, jit_compile=jit, autograph=False
    )
    return program, [spec.dtype for spec in signature]


class _EagerBatchCore(LocalBatchCore):
    """Runs ``batch_ops`` on one batch at a time, through ``tf.function``."""

    def _run(self, name: str, x: np.ndarray, centers: np.ndarray, *inputs):
        program, dtypes = _batch_program(name, *x.shape, len(centers), x.dtype.name)
        tensors = [
            tf.constant(value, dtype) for value, dtype in zip(inputs, dtypes[1:], strict=True)
        ]
        outputs = program(_in_place(x), *tensors)  # the rest are small: copied
        return [value.numpy() for value in tf.nest.flatten(outputs)]


def _chain(distances: np.ndarray, seed: int) -> int:
    """TensorFlow's k-MC2 chain (``KMC2ChainInitialization``) over candidates' squared
    distances: the index of the next centre among them (``seeding.kmc2_rows``)."""
    return int(
        tf.raw_ops.KMC2ChainInitialization(
            distances=tf.constant(distances), seed=tf.constant(seed, tf.int64)
        )
    )


class _EagerDriver(Driver):
    """TF2's runtime for the estimators: ``tf.function``s, ``tf.train.Checkpoint``,
    ``tf.summary``, and ``tf.distribute`` (under ``with strategy.scope():``, ``fit`` fits
    a dataset over the strategy's replicas)."""

    def core(self, X, sample_weight, offset) -> KMeansCore:
        if isinstance(X, SparseRows):
            return _SparseEagerCore(X, sample_weight)
        return _EagerCore(X, sample_weight, offset)

    def batch_core(self) -> LocalBatchCore:
        return _EagerBatchCore()

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
    driver = _EagerDriver()


class MiniBatchKMeans(engine_minibatch.MiniBatchKMeans):
    __doc__ = engine_minibatch.MiniBatchKMeans.__doc__
    driver = KMeans.driver


class BisectingKMeans(engine_bisecting.BisectingKMeans):
    __doc__ = engine_bisecting.BisectingKMeans.__doc__
    driver = KMeans.driver


class _EagerCore(DenseCore):
    """Runs the shared dense programs (``dense_core``) through ``tf.function``."""

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray, offset: np.ndarray):
        super().__init__(X, sample_weight, offset)
        # The arrays' own buffers (tf.constant would copy them); TF1 feeds them as they are.
        self.tensors = [_in_place(self.X), _in_place(self.sample_weight), tf.constant(offset)]

    def _program(self, name: str, n_clusters: int):
        if not self.compiled(n_clusters):
            sizes = dense_core.any_shape_sizes(self.n_features, n_clusters)
            return _any_shape(name, self.X.dtype.name, *sizes)
        rows, n_features = self.X.shape
        chunk = dense_core.chunk(name, rows, n_features, n_clusters)
        return _compiled(name, rows, n_features, self.X.dtype.name, n_clusters, chunk)

    def _run(self, name: str, n_clusters: int, *inputs):
        program = self._program(name, n_clusters)
        return [value.numpy() for value in tf.nest.flatten(program(*self.tensors, *inputs))]

    def _prepare(self, name: str, n_clusters: int) -> None:
        self._program(name, n_clusters).get_concrete_function()  # traced here

    def shuffled_rows(self, n_clusters: int, seed: int) -> np.ndarray:
        """The lesson's draw: TF1's seeded shuffle, bit for bit (``tf1_random``)."""
        return tf1_random.random_shuffle(tf.range(self.n_rows), seed=seed)[:n_clusters].numpy()

    def chain(self, distances: np.ndarray, seed: int) -> int:
        return _chain(distances, seed)

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""
        distances = _transform(self.tensors[0], tf.constant(centers), self.tensors[2])
        return distances.numpy()[: self.n_rows]


class _SparseEagerCore(KMeansCore):
    """Runs the shared sparse Lloyd ops on one CSR data set, through ``tf.function``."""

    def __init__(self, X: SparseRows, sample_weight: np.ndarray):
        self.sparse = X
        self.csr = [_in_place(shareable(part)) for part in (X.data, X.indices, X.indptr)]
        self.sample_weight = _in_place(sample_weight)
        self.weights = sample_weight
        self.dtype = X.dtype.name

    def _run(self, name: str, *args):
        return _sparse_program(name, self.dtype)(*self.csr, *args)

    def _chunk(self, n_clusters: int) -> tf.Tensor:
        n_samples, nnz = self.sparse.shape[0], len(self.sparse.data)
        return tf.constant(sparse_ops.chunk_size(n_samples, nnz, n_clusters))

    def _squared_distances(self, points: np.ndarray) -> np.ndarray:
        return self._run("squared_distances", points, self._chunk(len(points))).numpy()

    def rows(self, index: np.ndarray) -> np.ndarray:
        return self.sparse.rows(index)

    def shuffled_rows(self, n_clusters: int, seed: int) -> np.ndarray:
        """The lesson's draw: TF1's seeded shuffle, bit for bit (``tf1_random``)."""
        order = tf1_random.random_shuffle(tf.range(self.sparse.shape[0]), seed=seed)
        return order[:n_clusters].numpy()

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
        labels, inertia, new_centers, n_iter = self._run(
            algorithm,
            self.sample_weight,
            centers,
            max_iter,
            tf.constant(tol, self.dtype),
            self._chunk(len(centers)),
        )
        return labels.numpy(), float(inertia), new_centers.numpy(), int(n_iter)

    def step(self, centers: np.ndarray, previous_labels: np.ndarray, tol: float):
        """One iteration: (centers, labels, stop, shift, inertia), as NumPy."""
        outputs = self._run(
            "lloyd_step",
            self.sample_weight,
            centers,
            previous_labels,
            tf.constant(tol, self.dtype),
            self._chunk(len(centers)),
        )
        centers, labels, stop, shift, inertia = (value.numpy() for value in outputs)
        return centers, labels, bool(stop), float(shift), float(inertia)

    def labels_inertia(self, centers: np.ndarray):
        """Nearest-centre labels and their inertia."""
        labels, inertia = self._run(
            "assign_and_inertia", self.sample_weight, centers, self._chunk(len(centers))
        )
        return labels.numpy(), float(inertia)

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""
        return self._run("transform", centers, self._chunk(len(centers))).numpy()


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
