"""The k-means engine's TF2 drivers: ``kmeans`` (``KMeans``, ``MiniBatchKMeans`` as
``tf.function``s, and the package's ``Driver``), ``distributed`` (fits under ``tf.distribute``
strategies), ``checkpoint_writer`` (``tf.train.Checkpoint``) and ``summary_writer``
(``tf.summary``). The ``Driver`` in ``kmeans`` is what ``kmeans_tutorial.engine.driver``
declares; ``nox -s typecheck`` holds it to that.

What they drive is shared with ``tf1_graph.engine``: ``kmeans_tutorial.engine``. The lesson
(``tf2_eager.functions``, ``runner`` and the scripts) never imports this package.
"""
