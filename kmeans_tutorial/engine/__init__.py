"""The k-means engine: the scikit-learn-style ``KMeans`` and ``MiniBatchKMeans`` that both
packages' drivers (``tf1_graph.engine``, ``tf2_eager.engine``) run.

The lesson's own helpers live one level up (``kmeans_tutorial.params``, ``results``,
``plotting``); this subpackage is the engine (the estimator drop-in is another thing:
``tf1_graph.estimator``):

- ``base``: ``BaseKMeans``, the interface, restarts and fitted attributes;
- ``core``: ``KMeansCore`` and ``BatchCore``, what ``base`` asks of each package's
  TensorFlow driver;
- ``data``: what every fit computes of its data first (the offset distances are taken
  around, the variance ``tol`` is relative to, unit rows for cosine);
- ``lloyd_ops`` and ``sparse_ops``: Lloyd's algorithm as TF ops, for dense and CSR data,
  written once and run by both drivers (so their fits agree bit for bit);
- ``seeding_ops``: greedy k-means++ as TF ops, one program for dense data;
- ``seeding``: k-means++'s random draws, and its NumPy-driven loop for sparse data;
- ``streaming`` and ``batch_ops``: fits on data read a batch at a time (memmaps, datasets),
  the host adding up what each batch's program returns;
- ``minibatch``: ``BaseMiniBatchKMeans``, scikit-learn's mini-batch k-means;
- ``saved_model``: a fitted model exported as a SavedModel;
- ``checks``, ``sharing``, ``_memory``: input validation, handing arrays to TF without
  copies, and returning freed memory; private to the engine.

Nothing here imports TensorFlow except the ops modules, which only the drivers load.
"""

from kmeans_tutorial.engine.base import BaseKMeans
from kmeans_tutorial.engine.driver import KMeansCore
from kmeans_tutorial.engine.errors import ConvergenceWarning, NotFittedError

__all__ = ["BaseKMeans", "ConvergenceWarning", "KMeansCore", "NotFittedError"]
