"""A drop-in for TensorFlow's removed k-means estimator, in ``tf.compat.v1`` graph code.

``tf.compat.v1.estimator.experimental.KMeans`` (before it, ``tf.contrib.factorization.
KMeansClustering``) left TensorFlow with ``tf.estimator`` in 2.16. This package gives a
script that used it the same class, the same constructor, methods, constants, variable
names and checkpoints, on TensorFlow 2.16 and later without ``tensorflow-estimator``:

    # import tensorflow.compat.v1 as tf; KMeans = tf.estimator.experimental.KMeans
    from tf1_graph.estimator import KMeans

or, for a script that also used ``RunConfig`` or ``export.build_raw_serving_input_receiver_fn``:

    # from tensorflow.compat.v1 import estimator
    from tf1_graph import estimator

Each ``train`` step is what the estimator's was: one Lloyd iteration over the batch the
``input_fn`` gives (full batch), or one mini-batch update; the graph is built the way
TensorFlow's ``clustering_ops.KMeans`` builds it, from the same kernels
(``NearestNeighbors``, ``KmeansPlusPlusInitialization``, ``KMC2ChainInitialization``),
so deterministic runs give the estimator's numbers (``nox -s estimator`` compares them
with the real one on TF 2.15). What differs on purpose, each a test:

- the estimator's mini-batch update reads the per-centre counts and centres while it
  writes them, so two runs of one script differ; here the reads come first, so the
  update is the written rule, and runs repeat;
- ``KMC2_INIT`` is accepted (TensorFlow's ``clustering_ops`` had it; the estimator's
  constructor refused it);
- k-means++ without a ``seed`` works (the estimator passed None as the kernel's seed and
  failed);
- ``transform`` gives 0, not the estimator's nan, where a squared distance rounds below 0;
- errors are ``InvalidParameterError`` (a ``ValueError``) naming the value;
- ``model_dir`` gets checkpoints and event files (the loss, the steps a second) but no
  ``graph.pbtxt``.

``docs/MIGRATION.md`` ("From the KMeans estimator") maps every argument and method to
this drop-in and to the TF2-native ``tf2_eager.KMeans``/``MiniBatchKMeans``.

The modules: ``_kmeans`` the estimator, ``_graph`` the graph it builds (``clustering_ops``'),
``_hooks`` the session hooks around its runs, ``_config`` its ``RunConfig``, modes and
``input_fn`` results; ``export`` and ``experimental`` the namespaces scripts import.
"""

from tf1_graph.estimator import experimental, export
from tf1_graph.estimator._kmeans import KMeans, ModeKeys, RunConfig

__all__ = ["KMeans", "ModeKeys", "RunConfig", "experimental", "export"]
