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


# Rows per chunk: the chunk's distance matrix holds about this many numbers (16 MiB float32).
CHUNK_BUDGET = 2**22


def chunk_size(n_samples: int, n_clusters: int) -> int:
    """Rows assigned at once, so that memory stays O(chunk x n_clusters), not O(n x k)."""
    return max(1, min(n_samples, CHUNK_BUDGET // max(n_clusters, 1)))


def _pass(X, sample_weight, centers, offset, chunk, exact_inertia):
    """One pass over the samples in chunks of ``chunk`` rows, against fixed ``centers``.

    Each chunk is centred (``X - offset``) on the fly, assigned by matmul distances, and
    folded into the weighted per-cluster sums, so nothing of size n x k or a second copy of
    ``X`` is ever held. The last chunk is shifted back to end at the last row; rows it
    shares with the chunk before are given weight 0 there.

    Returns
    -------
    labels (n,) int32, distances (n,) to the nearest centre, sums (k, d), weights (k,), and
    the exact inertia if ``exact_inertia`` else 0.
    """
    n_samples = tf.shape(X)[0]
    n_clusters = tf.shape(centers)[0]
    n_chunks = (n_samples + chunk - 1) // chunk
    rows = tf.range(chunk)

    def body(index, labels, distances, sums, weights, total):
        start = tf.minimum(index * chunk, n_samples - chunk)
        x = tf.slice(X, [start, 0], [chunk, -1]) - offset
        fresh = tf.cast(start + rows >= index * chunk, X.dtype)  # 0 on rows done before
        w = tf.slice(sample_weight, [start], [chunk]) * fresh
        chunk_distances = squared_distances(x, centers)
        chunk_labels = tf.argmin(chunk_distances, axis=1, output_type=tf.int32)
        where = (start + rows)[:, tf.newaxis]
        labels = tf.tensor_scatter_nd_update(labels, where, chunk_labels)
        distances = tf.tensor_scatter_nd_update(
            distances, where, tf.reduce_min(chunk_distances, axis=1)
        )
        sums += tf.math.unsorted_segment_sum(x * w[:, tf.newaxis], chunk_labels, n_clusters)
        weights += tf.math.unsorted_segment_sum(w, chunk_labels, n_clusters)
        if exact_inertia:
            residual = x - tf.gather(centers, chunk_labels)
            total += tf.reduce_sum(w * tf.reduce_sum(tf.square(residual), axis=1))
        return index + 1, labels, distances, sums, weights, total

    _, labels, distances, sums, weights, total = tf.while_loop(
        lambda index, *_: index < n_chunks,
        body,
        [
            tf.constant(0),
            tf.zeros([n_samples], tf.int32),
            tf.zeros([n_samples], X.dtype),
            tf.zeros_like(centers),
            tf.zeros([n_clusters], X.dtype),
            tf.zeros([], X.dtype),
        ],
    )
    return labels, distances, sums, weights, total


def _relocate_empty_clusters(X, sample_weight, offset, labels, distances, sums, weights):
    """Give each empty cluster one of the points farthest from their own centre.

    As scikit-learn: the farthest point moves its weighted value out of its cluster's sum
    into the empty cluster's (its label is not changed). Empty clusters take the farthest
    points in order, the smallest empty index first.
    """
    n_clusters = tf.shape(sums)[0]
    empty = tf.cast(tf.where(tf.equal(weights, 0))[:, 0], tf.int32)
    n_empty = tf.size(empty)
    _, farthest = tf.math.top_k(distances, k=n_clusters)
    farthest = farthest[:n_empty]
    moved_weight = tf.gather(sample_weight, farthest)
    moved = (tf.gather(X, farthest) - offset) * moved_weight[:, tf.newaxis]
    old = tf.gather(labels, farthest)[:, tf.newaxis]
    sums = tf.tensor_scatter_nd_sub(sums, old, moved)
    sums = tf.tensor_scatter_nd_update(sums, empty[:, tf.newaxis], moved)
    weights = tf.tensor_scatter_nd_sub(weights, old, moved_weight)
    weights = tf.tensor_scatter_nd_update(weights, empty[:, tf.newaxis], moved_weight)
    return sums, weights


def assign_and_inertia(X, sample_weight, centers, offset, chunk):
    """``(labels, inertia)`` of the samples against fixed (centred) centres."""
    labels, _, _, _, total = _pass(X, sample_weight, centers, offset, chunk, True)
    return labels, total


def lloyd(X, sample_weight, centers, offset, max_iter, tol, chunk):
    """Run Lloyd's iterations until strict convergence, ``shift <= tol`` or ``max_iter``.

    scikit-learn's rules: an iteration assigns the samples to ``centers`` and moves the
    centres to the weighted means (empty clusters relocated); the run stops when the labels
    are those of the previous iteration, or when the summed squared centre shift is at most
    ``tol``. The samples are then assigned once more, to the final centres.

    ``centers`` are in centred coordinates (``x - offset``), as are the returned ones.

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
        labels, distances, sums, weights, _ = _pass(X, sample_weight, centers, offset, chunk, False)
        sums, weights = tf.cond(
            tf.reduce_any(tf.equal(weights, 0)),
            lambda: _relocate_empty_clusters(
                X, sample_weight, offset, labels, distances, sums, weights
            ),
            lambda: (sums, weights),
        )
        new_centers = sums / weights[:, tf.newaxis]
        shift = tf.reduce_sum(tf.square(new_centers - centers))
        strict = tf.reduce_all(tf.equal(labels, previous_labels))
        return iteration + 1, new_centers, labels, tf.logical_or(strict, shift <= tol)

    no_labels = tf.fill([tf.shape(X)[0]], tf.constant(-1, tf.int32))
    n_iter, centers, _, _ = tf.while_loop(
        not_done, step, [tf.constant(0), centers, no_labels, tf.constant(False)]
    )
    labels, inertia = assign_and_inertia(X, sample_weight, centers, offset, chunk)
    return labels, inertia, centers, n_iter


def transform(X, centers, offset):
    """Euclidean distances to (centred) ``centers``, shape (n_samples, n_clusters)."""
    return tf.sqrt(squared_distances(X - offset, centers))


def nearest_rows(X, points):
    """For each of ``points`` (float32 copies of rows of X), the index of its row in X."""
    X32 = tf.cast(X, tf.float32)
    return tf.argmin(squared_distances(X32, points), axis=0, output_type=tf.int32)
