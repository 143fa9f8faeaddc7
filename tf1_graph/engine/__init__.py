"""The k-means engine's TF1 drivers: ``kmeans`` (``KMeans``, ``MiniBatchKMeans`` in graphs run
by a ``Session``) and ``distributed`` (fits on a ``TF_CONFIG`` cluster of ``train.Server``s).

What they drive is shared with ``tf2_eager.engine``: ``kmeans_tutorial.engine``. The lesson
(``tf1_graph.functions``, ``runner`` and the scripts) never imports this package.
"""
