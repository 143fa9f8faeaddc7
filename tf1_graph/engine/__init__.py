"""The k-means engine's TF1 drivers: ``kmeans`` (``KMeans``, ``MiniBatchKMeans`` in graphs run
by a ``Session``, and the package's ``Driver``), ``distributed`` (fits on a ``TF_CONFIG``
cluster of ``train.Server``s), ``checkpoint_writer`` (``Saver``) and ``summary_writer``
(``FileWriter``). The ``Driver`` in ``kmeans`` is what ``kmeans_tutorial.engine.driver``
declares; ``nox -s typecheck`` holds it to that.

What they drive is shared with ``tf2_eager.engine``: ``kmeans_tutorial.engine``. The lesson
(``tf1_graph.functions``, ``runner`` and the scripts) never imports this package.
"""
