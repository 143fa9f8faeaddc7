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

_PROGRAMS = {
    "lloyd": lloyd_ops.lloyd,
    "assign_and_inertia": lloyd_ops.assign_and_inertia,
    "lloyd_step": functools.partial(lloyd_ops.lloyd_step, with_inertia=True),
    "nearest_rows": lloyd_ops.nearest_rows,
}


@functools.lru_cache(maxsize=32)
def _compiled(name: str, shape: tuple, dtype: str, n_clusters: int):
    """``lloyd_ops.<name>`` as one XLA computation, for one data shape and ``n_clusters``.

    One ``tf.function(jit_compile=True)`` per shape, each traced once with static shapes,
    as TF1's twin keeps one graph per shape: the ops choose their form from the static
    ``n_clusters``, and a single ``tf.function`` called with many shapes would relax them
    to unknown (or warn about retracing).
    """
    return tf.function(_PROGRAMS[name], jit_compile=True)


_transform = tf.function(lloyd_ops.transform, reduce_retracing=True)


def _in_place(array: np.ndarray) -> tf.Tensor:
    """A tensor on ``array``'s own buffer, through DLPack (``kmeans_tutorial.sharing``)."""
    return tf.experimental.dlpack.from_dlpack(array.__dlpack__())


class KMeans(BaseKMeans):
    __doc__ = BaseKMeans.__doc__

    def _make_core(self, X, sample_weight, offset):
        return _EagerCore(X, sample_weight, offset)


class _EagerCore:
    """Runs the shared Lloyd ops on one data set, eagerly and through ``tf.function``."""

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray, offset: np.ndarray):
        # The arrays' own buffers (tf.constant would copy them); TF1 feeds them as they are.
        self.X = _in_place(X)
        self.sample_weight = _in_place(sample_weight)
        self.offset = tf.constant(offset)

    def _program(self, name: str, n_clusters: int):
        return _compiled(name, tuple(self.X.shape), self.X.dtype.name, n_clusters)

    def init_centroids(self, init: str, n_clusters: int, seed: int) -> np.ndarray:
        """Initial centres: the lesson's seeded shuffle, or TensorFlow's k-means++ op."""
        if init == "random":
            order = tf1_random.random_shuffle(tf.range(self.X.shape[0]), seed=seed)
            return (tf.gather(self.X, order[:n_clusters]) - self.offset).numpy()
        return self._kmeans_plus_plus(n_clusters, seed).numpy()

    def _kmeans_plus_plus(self, n_clusters: int, seed: int) -> tf.Tensor:
        """``n_clusters`` centres by TF's k-means++, as rows of X (centred)."""
        points = tf.raw_ops.KmeansPlusPlusInitialization(
            points=tf.cast(self.X, tf.float32),
            num_to_sample=n_clusters,
            seed=seed,
            num_retries_per_sample=-1,
        )
        chunk = lloyd_ops.chunk_size(self.X.shape[0], n_clusters)
        rows = self._program("nearest_rows", n_clusters)(self.X, points, chunk)
        return tf.gather(self.X, rows) - self.offset

    def lloyd(self, centers: np.ndarray, max_iter: int, tol: float):
        """(labels, inertia, centers, n_iter) of one run from ``centers``."""
        labels, inertia, centers, n_iter = self._program("lloyd", len(centers))(
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
        outputs = self._program("lloyd_step", len(centers))(
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
        labels, inertia = self._program("assign_and_inertia", len(centers))(
            self.X, self.sample_weight, tf.constant(centers), self.offset, chunk
        )
        return labels.numpy(), float(inertia)

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""
        return _transform(self.X, tf.constant(centers), self.offset).numpy()
