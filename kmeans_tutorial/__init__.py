"""What the two implementations share: parameters, result records, plotting and the CLI.

Nothing here imports TensorFlow at import time, so that ``kmeans-tutorial --help`` is
instant and so that ``tf2_eager`` can use it without depending on ``tf1_graph``.
"""

from kmeans_tutorial.params import LESSON_DEFAULTS, LessonParams
from kmeans_tutorial.results import EmptyClusterError, LessonResult

__all__ = ["LESSON_DEFAULTS", "EmptyClusterError", "LessonParams", "LessonResult"]
