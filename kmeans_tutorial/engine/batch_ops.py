"""One batch of a streamed fit as TensorFlow ops, written once for both packages.

Where ``lloyd_ops`` runs a whole Lloyd loop over data held by TensorFlow, a streamed fit
(``streamed``, ``minibatch``) hands TensorFlow one batch at a time: rows of a memmap, or an
element of a ``tf.data.Dataset``. The host adds up what each batch returns, so these ops see only
the batch, the centres and the point distances are taken around. ``minibatch_step`` is
one step of mini-batch k-means (``minibatch``); ``nearest`` serves k-means||
(``parallel_init``); ``transform`` is ``lloyd_ops``'s.

Shapes: ``x`` (rows, n_features), ``w`` (rows,), ``centers`` (n_clusters, n_features);
the drivers give static shapes, padding a batch with rows of weight 0 past ``n_valid``.
"""

import tensorflow as tf

from kmeans_tutorial.engine.lloyd_ops import (
    cluster_sums,
    elementwise_form,
    first_argmin,
    nearest_centers,
    transform,
)

__all__ = ["batch_stats", "farthest", "labels_inertia", "minibatch_step", "nearest", "transform"]


def _assign(x, w, centers, offset):
    """Centred rows, their labels, and their squared distances to their own centre."""
    x = x - offset
    c_squared = tf.reduce_sum(tf.square(centers), axis=1)
    labels = nearest_centers(x, centers, c_squared)
    residual = x - tf.gather(centers, labels)
    return x, labels, tf.reduce_sum(tf.square(residual), axis=1)


def batch_stats(x, w, centers, offset, n_valid, with_moments=False):
    """What one batch adds to a Lloyd pass against fixed ``centers``.

    Returns
    -------
    labels (rows,) int32; weighted per-cluster sums (k, d) and weights (k,); the batch's
    inertia, as |x|² + min(|c|² - 2 x·c) (to rounding: the exact one is
    ``labels_inertia``'s); and if ``with_moments`` (a fit's first pass), the column sums
    and sums of squares of its centred valid rows (2, d), for the data's variance.
    """
    n_clusters = centers.shape[0]
    x = x - offset
    c_squared = tf.reduce_sum(tf.square(centers), axis=1)
    if elementwise_form(n_clusters, x.shape[1]):  # the elementwise form: own distances are cheap
        labels = nearest_centers(x, centers, c_squared)
        distances = tf.reduce_sum(tf.square(x - tf.gather(centers, labels)), axis=1)
    else:  # from the matmul the labels come from, with no second pass over x
        values = c_squared[tf.newaxis, :] - 2 * tf.matmul(x, centers, transpose_b=True)
        labels = first_argmin(values)
        x_squared = tf.reduce_sum(tf.square(x), axis=1)
        distances = tf.maximum(x_squared + tf.reduce_min(values, axis=1), 0)
    sums, weights = cluster_sums(x, w, labels, n_clusters)
    outputs = (labels, sums, weights, tf.reduce_sum(w * distances))
    if not with_moments:
        return outputs
    valid_x = tf.where((tf.range(tf.shape(x)[0]) < n_valid)[:, tf.newaxis], x, 0)
    moments = tf.stack([tf.reduce_sum(valid_x, 0), tf.reduce_sum(tf.square(valid_x), 0)])
    return (*outputs, moments)


def first_pass_stats(x, w, centers, offset, n_valid):
    """``batch_stats`` with the moments: a fit's first pass."""
    return batch_stats(x, w, centers, offset, n_valid, with_moments=True)


def farthest(x, w, centers, offset, n_valid):
    """The batch's ``min(k, rows)`` valid rows farthest from their own centre, for a pass
    that left a cluster empty: their squared distances (-1 past ``n_valid``), their numbers
    in the batch, centred values, weights and labels."""
    n_clusters = centers.shape[0]
    x, labels, distances = _assign(x, w, centers, offset)
    candidates = tf.where(tf.range(tf.shape(x)[0]) < n_valid, distances, -1)
    n_far = n_clusters if x.shape[0] is None else min(n_clusters, x.shape[0])
    far_distances, rows = tf.math.top_k(candidates, k=tf.minimum(n_far, tf.shape(x)[0]))
    return far_distances, rows, tf.gather(x, rows), tf.gather(w, rows), tf.gather(labels, rows)


def labels_inertia(x, w, centers, offset):
    """Nearest-centre labels (rows,) int32 and the batch's weighted inertia."""
    _, labels, distances = _assign(x, w, centers, offset)
    return labels, tf.reduce_sum(w * distances)


def nearest(x, centers, offset):
    """Each row's nearest centre (rows,) int32 and its squared distance to it (rows,), for
    k-means|| (``parallel_init``): no (rows, n_clusters) matrix leaves the program."""
    _, labels, distances = _assign(x, None, centers, offset)
    return labels, distances


def minibatch_step(x, w, centers, counts, offset, reassign, ratio, uniforms, n_valid):
    """One step of mini-batch k-means (scikit-learn's ``_mini_batch_step``).

    Each centre moves to the weighted mean of its old position, counted ``counts`` times,
    and its new members: the learning rate of a centre is its members' weight over its
    count. If ``reassign``, centres whose count is below ``ratio`` times the largest are
    moved onto batch rows drawn without replacement (the rows with the smallest
    ``uniforms``, which the host draws past 1 for padding rows; at most half the
    ``n_valid`` rows, the centres of smallest count first), and their counts set to the
    smallest count of the others.

    Returns
    -------
    new centres (k, d), new counts (k,), the batch's inertia against the old centres, and
    how many centres were reassigned.
    """
    x, sums, weights, inertia = minibatch_sums(x, w, centers, offset)
    return minibatch_update(
        x, centers, counts, sums, weights, inertia, reassign, ratio, uniforms, n_valid
    )


def minibatch_sums(x, w, centers, offset):
    """A step's assignment: the centred rows, per-cluster sums and weights, the inertia
    (what replicas add up under ``tf.distribute``)."""
    x, labels, distances = _assign(x, w, centers, offset)
    sums, weights = cluster_sums(x, w, labels, centers.shape[0])
    return x, sums, weights, tf.reduce_sum(w * distances)


def minibatch_update(
    x, centers, counts, sums, weights, inertia, reassign, ratio, uniforms, n_valid
):
    """A step's move of the centres from the batch's sums (``minibatch_step``)."""
    n_clusters = centers.shape[0]
    new_counts = counts + weights
    moved = (centers * counts[:, tf.newaxis] + sums) / tf.where(new_counts > 0, new_counts, 1)[
        :, tf.newaxis
    ]
    centers = tf.where((weights > 0)[:, tf.newaxis], moved, centers)

    small = tf.logical_and(reassign, new_counts < ratio * tf.reduce_max(new_counts))
    # At most half the batch's rows: the centres of smallest count, ties by index.
    order = tf.argsort(new_counts, stable=True)
    rank = tf.scatter_nd(order[:, tf.newaxis], tf.range(n_clusters), [n_clusters])
    small = tf.logical_and(small, rank < n_valid // 2)
    n_small = tf.reduce_sum(tf.cast(small, tf.int32))
    targets = tf.cast(tf.where(small)[:, 0], tf.int32)
    drawn = tf.argsort(uniforms, stable=True)[:n_small]
    centers = tf.tensor_scatter_nd_update(centers, targets[:, tf.newaxis], tf.gather(x, drawn))
    floor = tf.reduce_min(tf.where(small, new_counts.dtype.max, new_counts))
    new_counts = tf.where(small, floor, new_counts)
    return centers, new_counts, inertia, n_small


def signature(name: str, rows: int, n_features: int, n_clusters: int, dtype) -> list:
    """``(shape, dtype)`` of each input of program ``name``, for one batch shape: what TF1's
    placeholders and TF2's ``input_signature`` are made from (``None``: the data's dtype)."""
    x, w, centers, offset = (rows, n_features), (rows,), (n_clusters, n_features), (n_features,)
    data = [(x, dtype), (w, dtype), (centers, dtype), (offset, dtype)]
    return {
        "batch_stats": [*data, ((), tf.int32)],
        "first_pass_stats": [*data, ((), tf.int32)],
        "farthest": [*data, ((), tf.int32)],
        "labels_inertia": data,
        "transform": [data[0], data[2], data[3]],
        "nearest": [data[0], data[2], data[3]],
        "minibatch_step": [
            *data[:3],
            ((n_clusters,), dtype),
            data[3],
            ((), tf.bool),
            ((), dtype),
            ((rows,), tf.float64),
            ((), tf.int32),
        ],
    }[name]


PROGRAMS = {
    "batch_stats": batch_stats,
    "first_pass_stats": first_pass_stats,
    "farthest": farthest,
    "labels_inertia": labels_inertia,
    "transform": transform,
    "nearest": nearest,
    "minibatch_step": minibatch_step,
}


def as_pairs(dataset, dtype):
    """A dataset of batches, or of ``(x, sample_weight)`` pairs, as pairs of ``dtype``
    (weights of 1 where it has none): what a distributed fit's replicas read."""

    def pairs(*element):
        x = tf.cast(element[0], dtype)
        w = tf.cast(element[1], dtype) if len(element) == 2 else tf.ones_like(x[:, 0])
        return x, w

    return dataset.map(pairs)


def replica_part(x, w, index: int, count: int):
    """Replica ``index`` of ``count``'s consecutive part of a global batch, as
    ``tf.distribute`` splits one: as evenly as can be, the first parts a row longer."""
    rows = tf.shape(x)[0]
    base, extra = rows // count, rows % count
    start = index * base + tf.minimum(index, extra)
    size = base + tf.cast(index < extra, tf.int32)
    return x[start : start + size], w[start : start + size]
