"""The lesson's ``plot_clusters``, written once for both packages, and a headless PNG writer.

``tf1_graph.functions`` and ``tf2_eager.functions`` both re-export ``plot_clusters``: it is
plain matplotlib, so there is nothing to migrate.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from kmeans_tutorial.report import counted
from kmeans_tutorial.results import LessonResult
from kmeans_tutorial.validation import InvalidParameterError


def plot_clusters(all_samples, centroids, n_samples_per_cluster):
    """Draw each generated cluster in its own colour, and a big magenta X per centroid.

    Draws on pyplot's current axes, as the lesson does. Faithful to the lesson: a point's
    colour is the cluster that *generated* it (its rows' block), not the centroid it is
    assigned to; ``progress`` colours by assignment (``draw_progress_panel``).

    Parameters
    ----------
    all_samples : array of shape (n_clusters * n_samples_per_cluster, 2)
    centroids : array of shape (n_clusters, 2)
    n_samples_per_cluster : int
    """
    import matplotlib.pyplot as plt

    # Plot out the different clusters
    # Choose a different colour for each cluster
    colour = plt.cm.rainbow(np.linspace(0, 1, len(centroids)))  # restored (docs/LESSON.md)
    for i, centroid in enumerate(centroids):
        # Grab just the samples for the given cluster and plot them out with a new colour
        samples = all_samples[i * n_samples_per_cluster : (i + 1) * n_samples_per_cluster]
        # changed: the lesson's c=colour[i] makes matplotlib guess whether 4 numbers are one
        # RGBA colour or 4 values to map; color= says which.
        plt.scatter(samples[:, 0], samples[:, 1], color=colour[i])
        # Also plot centroid
        plt.plot(centroid[0], centroid[1], markersize=35, marker="x", color="k", mew=10)
        plt.plot(centroid[0], centroid[1], markersize=30, marker="x", color="m", mew=5)


def save_lesson_plot(panels: Mapping[str, LessonResult], path: str | Path) -> Path:
    """Write the lesson's final plot, one panel per run, to a PNG without a display.

    Parameters
    ----------
    panels : mapping of title to LessonResult
        Each run's samples with its final centroids. Only the first two features are drawn.
    path : str or Path
        Where the PNG goes.
    """
    return save_plot(
        {
            f"{title}: after {counted(result.params.n_iterations, 'iteration')}\n"
            "(colours: the cluster that generated each point, as the lesson draws them)": (
                result.samples,
                result.final_centroids,
                result.params.n_samples_per_cluster,
            )
            for title, result in panels.items()
        },
        path,
    )


def save_plot(panels: Mapping[str, tuple], path: str | Path) -> Path:
    """Draw ``plot_clusters(*arguments)`` for each titled panel, side by side, into a PNG.

    Parameters
    ----------
    panels : mapping of title to (all_samples, centroids, n_samples_per_cluster)
        ``plot_clusters``'s arguments; only the first two features are drawn.
    path : str or Path
        Where the PNG goes.
    """
    import matplotlib

    matplotlib.use("Agg")  # headless: no window, whatever the machine has
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(6 * len(panels), 6))
    try:
        for index, (title, (samples, centroids, n_samples_per_cluster)) in enumerate(
            panels.items()
        ):
            plt.subplot(1, len(panels), index + 1)
            plot_clusters(
                np.asarray(samples)[:, :2], np.asarray(centroids)[:, :2], n_samples_per_cluster
            )
            plt.title(title)
        path = Path(path)
        figure.savefig(path, dpi=80, bbox_inches="tight")
    finally:
        plt.close(figure)
    return path


def check_iterations(name: str, iterations, n_iterations: int) -> None:
    """Each of ``iterations`` is an iteration the run has: 0 (the start) to ``n_iterations``."""
    outside = [i for i in iterations if not 0 <= i <= n_iterations]
    if outside or not iterations:
        raise InvalidParameterError(
            f"{name}={','.join(map(str, iterations))} should list iterations in "
            f"[0, {n_iterations}] (0 is the initial centroids; the run has {n_iterations} "
            f"iterations), got {outside or 'none'}."
        )


def save_progress_plot(result: LessonResult, iterations, path: str | Path) -> Path:
    """Small multiples of the run at chosen iterations (``draw_progress_panel``: points
    coloured by their nearest centroid), then inertia per iteration.

    Parameters
    ----------
    result : LessonResult
        A run; iteration 0 is the initial centroids.
    iterations : sequence of int
        Which iterations to draw, each in ``[0, number of iterations run]``.
    path : str or Path
        Where the PNG goes.
    """
    check_iterations("iterations", iterations, len(result.centroids))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path_of_centroids = np.concatenate([result.initial_centroids[None], result.centroids])
    shown = sorted(set(iterations))
    figure = plt.figure(figsize=(4.5 * (len(shown) + 1), 4.5))
    try:
        for index, iteration in enumerate(shown):
            axes = plt.subplot(1, len(shown) + 1, index + 1)
            draw_progress_panel(axes, result, path_of_centroids, iteration)
        figure.suptitle("each point in the colour of its nearest centroid at that iteration")
        plt.subplot(1, len(shown) + 1, len(shown) + 1)
        steps = np.arange(1, len(result.centroids) + 1)
        plt.plot(steps, result.inertia, "o-")
        plt.xlabel("iteration")
        plt.ylabel("inertia")
        plt.title("inertia per iteration")
        path = Path(path)
        figure.savefig(path, dpi=70, bbox_inches="tight")
    finally:
        plt.close(figure)
    return path


def assignment_at(result: LessonResult, iteration: int) -> np.ndarray:
    """Each sample's nearest centroid when the centroids are those of ``iteration`` (0: the
    initial ones): the run's own labels, and for its last centroids the same argmin (ties
    to the smaller index, as ``tf.argmin``)."""
    if iteration < len(result.labels):
        return result.labels[iteration]
    final = result.centroids[-1].astype(np.float64)
    squared = ((result.samples[:, None, :].astype(np.float64) - final[None]) ** 2).sum(axis=2)
    return np.argmin(squared, axis=1)


def draw_progress_panel(axes, result: LessonResult, path_of_centroids, iteration: int) -> None:
    """One panel of ``progress``: k-means at work, where the lesson's ``plot_clusters`` shows
    where the points came from. Each point in the colour of the centroid it is assigned to
    now, each centroid's path so far drawn over the points, the centroids as black-edged X
    marks of their own colour, and a legend saying so."""
    import matplotlib

    n_clusters = result.params.n_clusters
    colour = matplotlib.colormaps["rainbow"](np.linspace(0, 1, n_clusters))
    labels = assignment_at(result, iteration)
    axes.scatter(result.samples[:, 0], result.samples[:, 1], color=colour[labels], s=8, zorder=2)
    for cluster in range(n_clusters):
        trail = path_of_centroids[: iteration + 1, cluster, :2]
        axes.plot(trail[:, 0], trail[:, 1], "-", color="k", linewidth=2, zorder=4,
                  label="path of each centroid" if cluster == 0 else None)  # fmt: skip
        axes.plot(trail[:-1, 0], trail[:-1, 1], "o", color="k", markersize=4, zorder=4)
        axes.plot(*trail[-1], marker="X", markersize=14, color=colour[cluster],
                  markeredgecolor="k", markeredgewidth=1.5, linestyle="none", zorder=5,
                  label="centroid (points: its colour)" if cluster == 0 else None)  # fmt: skip
    axes.legend(loc="best", fontsize=8)
    axes.set_title("initial centroids" if iteration == 0 else f"iteration {iteration}")


def save_fit_plot(samples, labels, centers, path: str | Path, max_points: int = 100_000) -> Path:
    """The samples of a 2-feature fit coloured by cluster, with the centres, into a PNG.

    At most ``max_points`` samples are drawn (evenly spaced rows): a plot of millions of
    points shows no more and takes minutes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    step = max(1, -(-len(labels) // max_points))
    points = np.asarray(samples[::step])
    figure = plt.figure(figsize=(6, 6))
    try:
        plt.scatter(points[:, 0], points[:, 1], c=labels[::step], s=2, cmap="tab10")
        plt.plot(centers[:, 0], centers[:, 1], "kx", markersize=14, mew=3)
        plt.title(f"{len(centers)} clusters, {len(labels)} samples")
        path = Path(path)
        figure.savefig(path, dpi=80, bbox_inches="tight")
    finally:
        plt.close(figure)
    return path
