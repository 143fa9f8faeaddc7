"""The k-means engine's TF2 drivers: ``kmeans`` (``KMeans``, ``MiniBatchKMeans`` as
``tf.function``s) and ``distributed`` (fits under ``tf.distribute`` strategies).

What they drive is shared with ``tf1_graph.engine``: ``kmeans_tutorial.engine``. The lesson
(``tf2_eager.functions``, ``runner`` and the scripts) never imports this package.
"""
