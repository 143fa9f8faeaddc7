"""A driver's core in the data's own coordinates: the one place a fit's centres are moved
to and from the coordinates the core computes in.

A core (``driver.KMeansCore``) computes around an offset, its centres in ``X - offset``
coordinates; ``DataCore`` takes and gives centres as the user sees them. A loop of single
steps (``loops``) stays in the core's coordinates from its first step to its last, so that
its centres are those of the core's compiled loop, bit for bit.
"""

from __future__ import annotations

import numpy as np

from kmeans_tutorial.engine.driver import KMeansCore


class DataCore:
    """``core`` with centres in the data's coordinates; the initialisation's primitives
    (``init``) as the core has them."""

    def __init__(self, core: KMeansCore, offset: np.ndarray):
        self.core, self.offset = core, offset
        self.weights = core.weights
        self.rows = core.rows
        self.shuffled_rows = core.shuffled_rows
        self.plus_plus_rows = core.plus_plus_rows
        self.chain = core.chain

    def expect(self, name: str) -> None:
        """Tell a dense core which program the fit runs after its seeding, so that it may
        compile it meanwhile (``dense_core.DenseCore.then``); other cores need not know."""
        if hasattr(self.core, "then"):
            self.core.then = name

    def centred(self, centers: np.ndarray) -> np.ndarray:
        """``centers`` in the core's coordinates."""
        return centers - self.offset

    def uncentred(self, centers: np.ndarray) -> np.ndarray:
        """Centres of the core's coordinates in the data's."""
        return centers + self.offset

    def lloyd(
        self, centers: np.ndarray, max_iter: int, tol: float, algorithm: str = "lloyd"
    ) -> tuple[np.ndarray, float, np.ndarray, int]:
        """One whole run from ``centers``: (labels, inertia, centers, n_iter); ``algorithm``
        as ``KMeansCore.lloyd`` takes it."""
        centers = self.centred(centers)
        labels, inertia, centers, n_iter = self.core.lloyd(centers, max_iter, tol, algorithm)
        return labels, inertia, self.uncentred(centers), n_iter

    def labels_inertia(self, centers: np.ndarray) -> tuple[np.ndarray, float]:
        """Nearest-centre labels and their weighted inertia."""
        return self.core.labels_inertia(self.centred(centers))

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Euclidean distances to ``centers``, (n_samples, n_clusters)."""
        return self.core.distances(self.centred(centers))
