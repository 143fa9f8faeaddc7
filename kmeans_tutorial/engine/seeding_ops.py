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
draws. Everything else is one program, which both packages build alike (compiled by TF2's
``tf.function(jit_compile=True)`` and TF1's ``tf.xla.experimental.compile``, or for small
data plain ops: ``lloyd_ops.compiles``), so they choose the same rows bit for bit.

Shapes: ``X`` (n, d), ``sample_weight`` (n,), ``offset`` (d,), ``first`` a scalar int32,
``uniforms`` (n_clusters - 1, n_trials) float64, or larger (padded); static, as in
``lloyd_ops``.
"""

import tensorflow as tf

from kmeans_tutorial.engine import lloyd_ops
from kmeans_tutorial.engine.lloyd_ops import (
    chunk_rows,
    first_argmin,
    n_chunks_of,
    size,
    static_or_none,
)


def chunk_size(n_samples: int, n_features: int) -> int:
    """Rows per chunk: the chunk's centred copy (chunk x n_features) stays in cache for the
    matmul, as Lloyd's chunk budget keeps its distances (docs/BENCHMARKS.md, design
    choices: "seeding chunk")."""
    return lloyd_ops.chunk_size(n_samples, n_features)


def _squared_norms(X, offset, chunk):
    """``|x - offset|²`` of every row, in the chunked layout (n_chunks, chunk)."""

    def norms(index):
        _, x = chunk_rows(X, index, chunk)
        return tf.reduce_sum(tf.square(x - offset), axis=1)

    return lloyd_ops.map_chunks(n_chunks_of(X, chunk), chunk, X.dtype, norms)


def _trials(X, offset, x_squared, weights, closest, points, chunk):
    """Each row's squared distance to its nearest centre if each of ``points`` were added.

    One pass over X: per chunk, the rows' distances to ``points`` (one matmul; the rows'
    squared norms ``x_squared`` are computed once, by ``_squared_norms``), their minimum
    with ``closest`` (the distance to the nearest centre so far), and the chunk's weighted
    sum of each column, so that no later pass is needed for the potentials.

    Returns
    -------
    trials : (n_chunks, chunk, m), the distances with each point added; clamped at 0, as
        rounding can make ``|x|² - 2 x·c + |c|²`` slightly negative.
    masses : (n_chunks, m), their weighted sums per chunk.
    """
    n_chunks = n_chunks_of(X, chunk)
    n_points = points.shape[0]
    p_squared = tf.reduce_sum(tf.square(points), axis=1)

    def body(index, trials, masses):
        _, x = chunk_rows(X, index, chunk)
        cross = tf.matmul(x - offset, points, transpose_b=True)
        squared = x_squared[index][:, tf.newaxis] - 2 * cross + p_squared[tf.newaxis, :]
        trial = tf.minimum(closest[index][:, tf.newaxis], tf.maximum(squared, 0))
        mass = tf.reduce_sum(weights[index][:, tf.newaxis] * trial, axis=0)
        return index + 1, trials.write(index, trial), masses.write(index, mass)

    _, trials, masses = tf.while_loop(
        lambda index, *_: index < n_chunks,
        body,
        [
            tf.constant(0),
            tf.TensorArray(X.dtype, size=n_chunks, element_shape=[static_or_none(chunk), n_points]),
            tf.TensorArray(X.dtype, size=n_chunks, element_shape=[n_points]),
        ],
    )
    return trials.stack(), masses.stack()


def _count_below(cumulative, targets):
    """``searchsorted(cumulative, targets, side="left")`` along the last axis: how many sums
    lie below each target (``cumulative`` (..., m), ``targets`` (...,))."""
    return tf.reduce_sum(tf.cast(cumulative < targets[..., tf.newaxis], tf.int32), axis=-1)


def _rows_of(flat, n_samples: int, chunk: int):
    """Row numbers of X for positions in the flattened chunked layout."""
    index, position = flat // chunk, flat % chunk
    return tf.minimum(index * chunk, n_samples - chunk) + position


def _draw(uniforms, closest, weights, masses, n_samples: int, chunk: int):
    """The rows that ``uniforms`` draw in proportion to weight x ``closest``.

    The point ``u x potential`` on the cumulative weighted distances, found in two steps:
    the chunk it falls in (from the per-chunk ``masses``), then the row within that chunk.
    All sums in float64, as scikit-learn's ``stable_cumsum``.
    """
    n_chunks = size(masses, 0)
    masses = tf.cast(masses, tf.float64)
    targets = uniforms * tf.reduce_sum(masses)
    chunk_index = tf.minimum(_count_below(tf.cumsum(masses), targets), n_chunks - 1)
    before = tf.gather(tf.cumsum(masses, exclusive=True), chunk_index)
    inside = tf.cumsum(
        tf.cast(tf.gather(weights, chunk_index) * tf.gather(closest, chunk_index), tf.float64),
        axis=1,
    )
    position = tf.minimum(_count_below(inside, targets - before), chunk - 1)
    return _rows_of(chunk_index * chunk + position, n_samples, chunk)


def kmeans_plus_plus(X, sample_weight, offset, first, uniforms, n_clusters, chunk):
    """The rows of ``n_clusters`` centres chosen by greedy k-means++.

    ``first`` is the first centre's row; ``uniforms[c - 1]`` are the uniform numbers in
    [0, 1) that draw centre ``c``'s candidates, as NumPy's ``searchsorted`` on the
    cumulative weighted distances would (``_draw``). ``uniforms`` may be padded
    (``buckets``), so that nearby numbers of centres share one program: rows past
    ``n_clusters - 1`` are never read; columns past a row's own trials repeat its first
    number, so they draw the first trial's row again, which the first trial wins on the tie
    (``first_argmin``). (A count of trials would serve as well, but XLA compiles the
    program again for each value of an input an index depends on.) Padding rows of X have
    weight 0, so they are never drawn.

    Returns
    -------
    Tensor of shape (len(uniforms) + 1,), int32: row numbers of X, the first
    ``n_clusters`` chosen (the rest 0).
    """
    slots = size(uniforms, 0) + 1
    # No loop for one centre: XLA would still check its (empty) slice of uniforms. (A
    # program made for any number of centres runs only the first centre's step then.)
    if isinstance(slots, int) and slots == 1:
        return tf.reshape(tf.cast(first, tf.int32), [1])
    n_samples = size(X, 0)
    n_chunks = n_chunks_of(X, chunk)
    weights = lloyd_ops.chunked(sample_weight, chunk, zero_repeats=True)
    x_squared = _squared_norms(X, offset, chunk)

    def centres_at(rows):
        return tf.gather(X, rows) - offset

    no_centre = tf.maximum(x_squared, float("inf"))  # inf, from run-time values (fresh_rows)
    first_trials = tf.fill([size(uniforms, 1)], tf.cast(first, tf.int32))

    # The first centre is a step of the loop too, its every candidate the first row (which
    # the first trial wins), so that the pass over X is written (and compiled) once.
    def body(center, chosen, closest, masses):
        candidates = tf.cond(
            center > 0,
            lambda: _draw(
                uniforms[tf.maximum(center - 1, 0)], closest, weights, masses, n_samples, chunk
            ),
            lambda: first_trials,
        )
        trials, masses = _trials(
            X, offset, x_squared, weights, closest, centres_at(candidates), chunk
        )
        best = first_argmin(tf.reduce_sum(masses, axis=0)[tf.newaxis, :])[0]
        chosen = tf.tensor_scatter_nd_update(chosen, [[center]], candidates[best][tf.newaxis])
        return center + 1, chosen, trials[:, :, best], masses[:, best]

    _, chosen, _, _ = tf.while_loop(
        lambda center, *_: center < n_clusters,
        body,
        [tf.constant(0), tf.zeros([slots], tf.int32), no_centre, tf.zeros([n_chunks], X.dtype)],
    )
    return chosen
