"""A float64 NumPy Lloyd, one step at a time: the independent reference for both packages."""

import numpy as np


def squared_distances(samples, centroids):
    """Float64 squared Euclidean distances, shape (n_samples, n_clusters)."""
    x = np.asarray(samples, dtype=np.float64)
    c = np.asarray(centroids, dtype=np.float64)
    return ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)


def assign(samples, centroids):
    """Index of the nearest centroid for each sample; ties go to the smaller index."""
    return squared_distances(samples, centroids).argmin(axis=1)


def update(samples, labels, n_clusters):
    """Float64 mean of each cluster's samples; ``nan`` for a cluster with none."""
    x = np.asarray(samples, dtype=np.float64)
    sums = np.zeros((n_clusters, x.shape[1]))
    np.add.at(sums, labels, x)
    counts = np.bincount(labels, minlength=n_clusters)[:, None].astype(np.float64)
    return np.divide(sums, counts, out=np.full_like(sums, np.nan), where=counts > 0)


def lloyd(samples, initial_centroids, n_iterations):
    """Plain float64 Lloyd: per iteration, the labels used and the centroids produced."""
    centroids = np.asarray(initial_centroids, dtype=np.float64)
    labels_per_iteration, centroids_per_iteration = [], []
    for _ in range(n_iterations):
        labels = assign(samples, centroids)
        centroids = update(samples, labels, len(centroids))
        labels_per_iteration.append(labels)
        centroids_per_iteration.append(centroids)
    return np.array(labels_per_iteration), np.array(centroids_per_iteration)
