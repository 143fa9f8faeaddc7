"""Lloyd's algorithm as TensorFlow ops, written once for both packages.

These functions only *build* ops from TF2's API, which works the same inside a TF1 graph
(``tf1_graph.kmeans`` runs them in a ``Session``) and inside a ``tf.function``
(``tf2_eager.kmeans``). The two packages therefore run the same op sequence, so their
results agree bit for bit; the TF1/TF2 difference lives only in the drivers.

Every function trusts its input (validated by ``kmeans_tutorial.estimator``). Shapes:
``X`` (n_samples, n_features), ``sample_weight`` (n_samples,), ``centers``
(n_clusters, n_features); all one floating dtype.
"""

import tensorflow as tf


def squared_distances(X, centers):
    """|x|² - 2 x·cᵀ + |c|², clamped at 0 (rounding can make it slightly negative).

    Returns
    -------
    Tensor of shape (n_samples, n_clusters)
    """
    x_squared = tf.reduce_sum(tf.square(X), axis=1, keepdims=True)
    c_squared = tf.reduce_sum(tf.square(centers), axis=1)
    cross = tf.matmul(X, centers, transpose_b=True)
    return tf.maximum(x_squared - 2 * cross + c_squared[tf.newaxis, :], 0)


def assign(X, centers):
    """Index of the nearest centre, shape (n_samples,), int32; ties go to the smaller index."""
    return tf.argmin(squared_distances(X, centers), axis=1, output_type=tf.int32)


def inertia(X, sample_weight, centers, labels):
    """Σ wᵢ |xᵢ - c_labelᵢ|², from exact differences (as scikit-learn computes it)."""
    residual = X - tf.gather(centers, labels)
    return tf.reduce_sum(sample_weight * tf.reduce_sum(tf.square(residual), axis=1))


def _relocate_empty_clusters(X, sample_weight, centers, labels, sums, weights):
    """Give each empty cluster one of the points farthest from their own centre.

    As scikit-learn: the farthest point moves its weighted value out of its cluster's sum
    into the empty cluster's (its label is not changed). Empty clusters take the farthest
    points in order, the emptiest index first.
    """
    n_clusters = tf.shape(centers)[0]
    empty = tf.cast(tf.where(tf.equal(weights, 0))[:, 0], tf.int32)
    n_empty = tf.size(empty)
    distances = tf.reduce_sum(tf.square(X - tf.gather(centers, labels)), axis=1)
    _, farthest = tf.math.top_k(distances, k=n_clusters)
    farthest = farthest[:n_empty]
    moved_weight = tf.gather(sample_weight, farthest)
    moved = tf.gather(X, farthest) * moved_weight[:, tf.newaxis]
    old = tf.gather(labels, farthest)[:, tf.newaxis]
    sums = tf.tensor_scatter_nd_sub(sums, old, moved)
    sums = tf.tensor_scatter_nd_update(sums, empty[:, tf.newaxis], moved)
    weights = tf.tensor_scatter_nd_sub(weights, old, moved_weight)
    weights = tf.tensor_scatter_nd_update(weights, empty[:, tf.newaxis], moved_weight)
    return sums, weights


def update(X, sample_weight, centers, labels):
    """Weighted means of the clusters, empty ones relocated; shape (n_clusters, n_features)."""
    n_clusters = tf.shape(centers)[0]
    sums = tf.math.unsorted_segment_sum(
        X * sample_weight[:, tf.newaxis], labels, num_segments=n_clusters
    )
    weights = tf.math.unsorted_segment_sum(sample_weight, labels, num_segments=n_clusters)
    sums, weights = tf.cond(
        tf.reduce_any(tf.equal(weights, 0)),
        lambda: _relocate_empty_clusters(X, sample_weight, centers, labels, sums, weights),
        lambda: (sums, weights),
    )
    return sums / weights[:, tf.newaxis]


def assign_and_inertia(X, sample_weight, centers):
    """``(labels, inertia)`` of the samples against fixed centres."""
    labels = assign(X, centers)
    return labels, inertia(X, sample_weight, centers, labels)


def lloyd(X, sample_weight, centers, max_iter, tol):
    """Run Lloyd's iterations until strict convergence, ``shift <= tol`` or ``max_iter``.

    scikit-learn's rules: an iteration assigns the samples to ``centers`` and moves the
    centres to the weighted means; the run stops when the labels are those of the previous
    iteration, or when the summed squared centre shift is at most ``tol``. Unless it stopped
    on unchanged labels, the samples are assigned once more, to the final centres.

    Returns
    -------
    labels : Tensor (n_samples,), int32
    inertia : scalar Tensor
    centers : Tensor (n_clusters, n_features)
    n_iter : scalar Tensor, int32
    """

    def not_done(iteration, centers, previous_labels, stop):
        return tf.logical_and(iteration < max_iter, tf.logical_not(stop))

    def step(iteration, centers, previous_labels, stop):
        labels = assign(X, centers)
        new_centers = update(X, sample_weight, centers, labels)
        shift = tf.reduce_sum(tf.square(new_centers - centers))
        strict = tf.reduce_all(tf.equal(labels, previous_labels))
        return iteration + 1, new_centers, labels, tf.logical_or(strict, shift <= tol)

    no_labels = tf.fill([tf.shape(X)[0]], tf.constant(-1, tf.int32))
    n_iter, centers, _, _ = tf.while_loop(
        not_done, step, [tf.constant(0), centers, no_labels, tf.constant(False)]
    )
    # Strict convergence left labels matching the centres; otherwise assign once more.
    final_labels = assign(X, centers)
    return final_labels, inertia(X, sample_weight, centers, final_labels), centers, n_iter


def transform(X, centers):
    """Euclidean distances, shape (n_samples, n_clusters)."""
    return tf.sqrt(squared_distances(X, centers))


def nearest_rows(X, points):
    """For each of ``points`` (float32 copies of rows of X), the index of its row in X."""
    X32 = tf.cast(X, tf.float32)
    return tf.argmin(squared_distances(X32, points), axis=0, output_type=tf.int32)
