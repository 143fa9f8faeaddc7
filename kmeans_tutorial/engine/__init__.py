"""The k-means engine: the scikit-learn-style ``KMeans``, ``MiniBatchKMeans`` and
``BisectingKMeans`` that both packages' drivers (``tf1_graph.engine``, ``tf2_eager.engine``) run.

The lesson's own helpers live one level up (``kmeans_tutorial.params``, ``results``,
``plotting``); this subpackage imports none of them (what both need is
``kmeans_tutorial.common_checks``). The estimator drop-in is another thing:
``tf1_graph.estimator``. Its modules, by job:

- the estimators: ``base`` (``BaseKMeans``: what they share, scikit-learn's
  ``_BaseKMeans``), ``kmeans`` (``KMeans``), ``minibatch`` (``MiniBatchKMeans``) and
  ``steps`` (the parts of its step loop), ``bisecting`` (``BisectingKMeans``: a tree of
  2-means splits, each a fit of the core on one leaf's rows);
- the contract with the drivers: ``driver`` (``Driver``, ``KMeansCore``, ``BatchCore``,
  ``DistributedPlan``, the Protocols ``nox -s typecheck`` holds the drivers to);
  ``coordinates`` (a core with centres in the data's coordinates: the one place the
  offset is added and taken away);
- the fit loops, free functions: ``loops`` (restarts; the logged and spherical loops),
  ``streamed`` (exact Lloyd on a stream, a pass an iteration), ``init`` (every
  initialisation, chosen in one place);
- data: ``checks`` (input validation, once, at the edge), ``data`` (the offset, the
  variance, unit rows, ``SparseRows``), ``sources`` (streams: memmaps, array-likes,
  datasets), ``batch_core`` (a batch core of one process), ``sharing`` (arrays handed to
  TensorFlow without a copy), ``_memory`` (freed memory handed back);
- TensorFlow ops, written once for both drivers: ``lloyd_ops``, ``sparse_ops``,
  ``seeding_ops``, ``batch_ops``; ``seeding`` (k-means++'s draws, sparse k-means++, k-MC2);
- ``checkpoints`` (what a streamed fit saves, and resuming), ``saved_model`` (export),
  ``errors`` (the engine's errors and warnings).

Nothing here imports TensorFlow except the ops modules, which only the drivers load.
"""

from kmeans_tutorial.engine.base import BaseKMeans
from kmeans_tutorial.engine.driver import Driver, KMeansCore
from kmeans_tutorial.engine.errors import ConvergenceWarning, NotFittedError

__all__ = ["BaseKMeans", "ConvergenceWarning", "Driver", "KMeansCore", "NotFittedError"]
