"""Fixtures of the engine's tests."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def sorted_blobs():
    """20 well-separated blobs, 1,000 rows each, stored blob after blob (as files written
    class by class are), and their blobs."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(20_000, 4, centers=20, cluster_std=0.5, random_state=0)
    order = np.argsort(y, kind="stable")
    return X[order].astype(np.float32), y[order]
