"""What the lesson's scripts share that is not TensorFlow: their parameters and their output.

The lesson's scripts set ``n_features = 2``, ``n_clusters = 3``, ... at their top and show
the plot in a window. Ours take those values from ``LESSON_DEFAULTS`` and save the plot as a
PNG (the script's first argument, or ``<script>.png``), so they run headless.
"""

from __future__ import annotations

from pathlib import Path

from kmeans_tutorial.plotting import save_plot


def save_script_plot(
    script: str, sample_values, centroid_values, n_samples_per_cluster, path=None
) -> Path:
    """Save a script's plot to ``path``, by default ``<script name>.png``; say where.

    ``script`` is the calling module's ``__file__``.
    """
    name = Path(script).stem
    path = Path(path or f"{name}.png")
    save_plot({name: (sample_values, centroid_values, n_samples_per_cluster)}, path)
    print(f"plot saved to {path}")
    return path
