"""Greedy k-means++ as TensorFlow ops, written once for both packages, for dense data.

scikit-learn's algorithm (``sklearn/cluster/_kmeans.py``, ``_kmeans_plusplus``; Arthur and
Vassilvitskii's k-means++ with greedy trials): the first centre is a row drawn in
proportion to its weight; each next one is the best of ``2 + ln k`` candidate rows drawn
in proportion to weight x squared distance to the nearest centre so far, the best being
the candidate after which the weighted potential (the sum of those weighted distances)
is lowest. Distances are ``|x|² - 2 x·cᵀ + |c|²``: one matmul per chunk of rows.

The random numbers are NumPy's, drawn by the driver from the run's seed
(``seeding.draws``) and passed in: the first row and, for each next centre, one uniform
number per candidate. The sparse path (``seeding.greedy_kmeans_plus_plus``) uses the same
draws. Everything else is one program, which both packages compile alike (TF2's
``tf.function(jit_compile=True)``, TF1's ``tf.xla.experimental.compile``), so they choose
the same rows bit for bit.

Shapes: ``X`` (n, d), ``sample_weight`` (n,), ``offset`` (d,), ``first`` a scalar int32,
``uniforms`` (n_clusters - 1, n_trials) float64; static, as in ``lloyd_ops``.
"""

import tensorflow as tf

from kmeans_tutorial.estimator import lloyd_ops
from kmeans_tutorial.estimator.lloyd_ops import chunk_rows, first_argmin, n_chunks_of


def chunk_size(n_samples: int, n_features: int) -> int:
    """Rows per chunk: the chunk's centred copy (chunk x n_features) stays in cache for the
    matmul, as Lloyd's chunk budget keeps its distances (docs/BENCHMARKS.md, design
    choices: "seeding chunk")."""
    return lloyd_ops.chunk_size(n_samples, n_features)


def _chunked_weights(sample_weight, n_chunks: int, chunk: int):
    """The weights in the chunked layout (n_chunks, chunk), 0 on rows an earlier chunk had.

    The last chunk is shifted back to end at the last row (``chunk_rows``); the rows it
    shares with the chunk before count once.
    """
    flat = tf.range(n_chunks * chunk)
    rows = _rows_of(flat, sample_weight.shape[0], chunk)
    fresh = tf.cast(rows >= flat // chunk * chunk, sample_weight.dtype)
    return tf.reshape(tf.gather(sample_weight, rows) * fresh, [n_chunks, chunk])


def _squared_norms(X, offset, chunk):
    """``|x - offset|²`` of every row, in the chunked layout (n_chunks, chunk)."""
    n_chunks = n_chunks_of(X, chunk)

    def body(index, norms):
        _, x = chunk_rows(X, index, chunk)
        return index + 1, norms.write(index, tf.reduce_sum(tf.square(x - offset), axis=1))

    _, norms = tf.while_loop(
        lambda index, _: index < n_chunks,
        body,
        [tf.constant(0), tf.TensorArray(X.dtype, size=n_chunks, element_shape=[chunk])],
    )
    return norms.stack()


def _distances(X, offset, x_squared, points, chunk):
    """Squared distances of every row (centred) to ``points``: (n_chunks, chunk, m).

    ``x_squared`` are the rows' squared norms (``_squared_norms``), computed once, so each
    call reads X once, for the matmul. Clamped at 0, as rounding can make
    ``|x|² - 2 x·c + |c|²`` slightly negative.
    """
    n_chunks = n_chunks_of(X, chunk)
    p_squared = tf.reduce_sum(tf.square(points), axis=1)

    def body(index, distances):
        _, x = chunk_rows(X, index, chunk)
        cross = tf.matmul(x - offset, points, transpose_b=True)
        squared = x_squared[index][:, tf.newaxis] - 2 * cross + p_squared[tf.newaxis, :]
        return index + 1, distances.write(index, tf.maximum(squared, 0))

    _, distances = tf.while_loop(
        lambda index, _: index < n_chunks,
        body,
        [
            tf.constant(0),
            tf.TensorArray(X.dtype, size=n_chunks, element_shape=[chunk, points.shape[0]]),
        ],
    )
    return distances.stack()


def _rows_of(flat, n_samples: int, chunk: int):
    """Row numbers of X for positions in the flattened chunked layout."""
    index, position = flat // chunk, flat % chunk
    return tf.minimum(index * chunk, n_samples - chunk) + position


def kmeans_plus_plus(X, sample_weight, offset, first, uniforms, chunk):
    """The rows of ``n_clusters = len(uniforms) + 1`` centres chosen by greedy k-means++.

    ``first`` is the first centre's row; ``uniforms[c - 1]`` are the uniform numbers in
    [0, 1) that draw centre ``c``'s candidates (searching the cumulative weighted distances,
    in float64, as NumPy's ``searchsorted`` on scikit-learn's ``stable_cumsum``).

    Returns
    -------
    Tensor of shape (n_clusters,), int32: row numbers of X.
    """
    n_clusters = uniforms.shape[0] + 1
    if n_clusters == 1:  # no loop: XLA would still check its (empty) slice of uniforms
        return tf.reshape(tf.cast(first, tf.int32), [1])
    n_samples = X.shape[0]
    n_chunks = n_chunks_of(X, chunk)
    weights = _chunked_weights(sample_weight, n_chunks, chunk)
    flat_weights = tf.cast(tf.reshape(weights, [-1]), tf.float64)
    last = n_chunks * chunk - 1

    def centres_at(rows):
        return tf.gather(X, rows) - offset

    x_squared = _squared_norms(X, offset, chunk)
    closest = _distances(X, offset, x_squared, centres_at(first[tf.newaxis]), chunk)[:, :, 0]
    potential = tf.reduce_sum(weights * closest)

    def body(center, chosen, closest, potential):
        targets = uniforms[center - 1] * tf.cast(potential, tf.float64)
        cumulative = tf.cumsum(flat_weights * tf.cast(tf.reshape(closest, [-1]), tf.float64))
        # searchsorted(cumulative, targets, side="left"): how many sums lie below each target.
        below = tf.cast(cumulative[tf.newaxis, :] < targets[:, tf.newaxis], tf.int32)
        candidates = _rows_of(tf.minimum(tf.reduce_sum(below, axis=1), last), n_samples, chunk)
        distances = _distances(X, offset, x_squared, centres_at(candidates), chunk)
        trial = tf.minimum(closest[:, :, tf.newaxis], distances)
        potentials = tf.einsum("ij,ijt->t", weights, trial)
        best = first_argmin(potentials[tf.newaxis, :])[0]
        chosen = tf.tensor_scatter_nd_update(chosen, [[center]], candidates[best][tf.newaxis])
        return center + 1, chosen, trial[:, :, best], potentials[best]

    chosen = tf.tensor_scatter_nd_update(
        tf.zeros([n_clusters], tf.int32), [[0]], tf.cast(first, tf.int32)[tf.newaxis]
    )
    _, chosen, _, _ = tf.while_loop(
        lambda center, *_: center < n_clusters,
        body,
        [tf.constant(1), chosen, closest, potential],
    )
    return chosen
