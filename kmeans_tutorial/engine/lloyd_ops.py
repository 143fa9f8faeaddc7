"""Lloyd's algorithm as TensorFlow ops, written once for both packages.

These functions only *build* ops from TF2's API, which works the same inside a TF1 graph
(``tf1_graph.engine.kmeans`` runs them in a ``Session``) and inside a ``tf.function``
(``tf2_eager.engine.kmeans``), compiled by XLA or, for small data (``compiles``), not. The two
packages therefore run the same op sequence, so their results agree bit for bit; the
TF1/TF2 difference lives only in the drivers.

Every function trusts its input (validated by ``kmeans_tutorial.engine``). Shapes:
``X`` (n_samples, n_features), ``sample_weight`` (n_samples,), ``centers``
(n_clusters, n_features); all one floating dtype. A compiled program's shapes are static,
as both drivers make them: the ops choose their form (and chunk count) from them. An
uncompiled program is made for any number of rows (``dense_core``): its sizes are known
only at run time (``size``) but for the elementwise form's, and its chunk is an input.
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


# Rows per chunk: the chunk holds at most this many numbers (2 MiB in float32), so that it
# is still in cache when the next op reads it (docs/BENCHMARKS.md, design choices: "chunk
# budget"). A Lloyd chunk counts each row's features as well as its distances: its rows and
# their centred copy are read back too ("chunk by d + k").
CHUNK_BUDGET = 2**19


# But never fewer rows than this: past 4,096 centres the budget would leave a matmul of a few
# rows against all the centres, which repacks the centres for every few rows
# (docs/BENCHMARKS.md, "Workflows": large k).
MIN_CHUNK_ROWS = 128


def size(tensor, axis: int):
    """``tensor``'s size along ``axis``: a Python int where the shape is static (so that a
    compiled program's shapes stay static), else the run-time size, a tensor."""
    static = tensor.shape[axis]
    return static if static is not None else tf.shape(tensor)[axis]


def static_or_none(value):
    """``value`` if it is a Python int, else None: a shape's entry for a run-time size."""
    return value if isinstance(value, int) else None


def chunk_size(n_samples: int, width: int) -> int:
    """Rows handled at once, each ``width`` numbers wide in the chunk's largest tensors (a
    Lloyd pass: features and distances, ``dense_core.chunk``), so that memory stays
    O(chunk x width), not O(n x k).

    A power of two, so that every chunk but the last starts on an aligned row.
    """
    rows = 1 << max(0, (CHUNK_BUDGET // width).bit_length() - 1)
    return min(n_samples, max(rows, MIN_CHUNK_ROWS))


# Up to this much work a pass (rows x (features + centres)), the programs run as plain
# TensorFlow ops, uncompiled: XLA's compilation (about half a second a program) costs a
# first fit more than the plain ops lose to the fused ones over a whole fit
# (docs/BENCHMARKS.md, design choices: "compiled or not"). Both drivers ask ``compiles``,
# so they make the same choice, and their results stay bit-identical either way.
UNCOMPILED_WORK = 2**21


def compiles(n_samples: int, n_features: int, n_clusters: int) -> bool:
    """Whether the programs for this data shape and ``n_clusters`` are compiled by XLA."""
    return n_samples * (n_features + n_clusters) > UNCOMPILED_WORK


def n_chunks_of(X, chunk):
    """How many chunks of ``chunk`` rows cover ``X``: an int where both are static."""
    rows = size(X, 0)
    if isinstance(rows, int) and isinstance(chunk, int):
        return -(-rows // chunk)
    return (rows + chunk - 1) // chunk


def chunk_rows(X, index, chunk: int):
    """``(start, rows)``: the ``index``-th chunk of ``X``, shape (chunk, n_features).

    The last chunk is shifted back to end at the last row, so it may share rows with the
    chunk before. The size is written out: with -1, XLA works out the slice at run time,
    which is slower (docs/BENCHMARKS.md, design choices: "static slice size").
    """
    start = tf.minimum(index * chunk, size(X, 0) - chunk)
    return start, tf.slice(X, [start, 0], [chunk, size(X, 1)])


# A tensor as large as the data must not be made from constants alone (``tf.fill`` with a
# static shape, ``tf.range(n)``): TensorFlow's graph optimizer folds such a tensor into a
# constant, which XLA then compiles into the program, costing compile memory and the
# compilation cache's disk (docs/BENCHMARKS.md, "XLA's persistent compilation cache").
# So these are made from values known only at run time, or a chunk at a time.


def fresh_rows(start, index, chunk: int):
    """The rows of chunk ``index`` (starting at row ``start``) that no earlier chunk had:
    all but the first rows of a last chunk shifted back (``chunk_rows``). Boolean (chunk,)."""
    return start + tf.range(chunk) >= index * chunk  # XLA needs the range's size static


def fresh_weights(sample_weight, start, index, chunk: int):
    """The weights of chunk ``index`` (starting at row ``start``), 0 on the rows an earlier
    chunk had (``fresh_rows``), so that every row counts once."""
    fresh = tf.cast(fresh_rows(start, index, chunk), sample_weight.dtype)
    return tf.slice(sample_weight, [start], [chunk]) * fresh


def valid_clusters(centers, n_clusters):
    """Which of ``centers`` are real, not padding (``buckets``): boolean (k,)."""
    return tf.range(tf.shape(centers)[0]) < n_clusters


def masked_squares(centers, n_clusters):
    """``|c|²`` of each centre, infinite for padding centres, which so are nobody's nearest
    (they are finite, so ``inf - 2 x·c`` stays ``inf``, never ``nan``)."""
    squares = tf.reduce_sum(tf.square(centers), axis=1)
    return tf.where(valid_clusters(centers, n_clusters), squares, float("inf"))


def _pass(X, sample_weight, centers, offset, chunk, n_rows, n_clusters, exact_inertia=False):
    """One pass over the samples in chunks of ``chunk`` rows, against fixed ``centers``.

    Each chunk is centred (``X - offset``) on the fly, assigned to its nearest centres, and
    folded into the weighted per-cluster sums, so nothing of size n x k or a second copy of
    ``X`` is ever held. The last chunk is shifted back to end at the last row; rows it
    shares with the chunk before are given weight 0 there.

    Rows from ``n_rows`` on and centres from ``n_clusters`` on are padding (``buckets``):
    the rows have weight 0 and the label 0, so that they never change a stop test; the
    centres are nobody's nearest.

    Returns
    -------
    labels, chunked (n_chunks, chunk) int32 (see ``_unchunk``), sums (k, d), weights (k,),
    and the exact inertia if ``exact_inertia`` (else 0).
    """
    n_chunks = n_chunks_of(X, chunk)
    c_squared = masked_squares(centers, n_clusters)

    def body(index, labels, sums, weights, total):
        start, x = chunk_rows(X, index, chunk)
        x -= offset
        w = fresh_weights(sample_weight, start, index, chunk)
        real = start + tf.range(chunk) < n_rows
        chunk_labels = tf.where(real, nearest_centers(x, centers, c_squared), 0)
        labels = labels.write(index, chunk_labels)
        chunk_sums, chunk_weights = cluster_sums(x, w, chunk_labels, size(centers, 0))
        sums += chunk_sums
        weights += chunk_weights
        if exact_inertia:
            total += _exact_inertia(x, w, centers, chunk_labels)
        return index + 1, labels, sums, weights, total

    _, labels, sums, weights, total = tf.while_loop(
        lambda index, *_: index < n_chunks,
        body,
        [
            tf.constant(0),
            tf.TensorArray(tf.int32, size=n_chunks, element_shape=[static_or_none(chunk)]),
            tf.zeros_like(centers),
            tf.zeros([tf.shape(centers)[0]], X.dtype),
            tf.zeros([], X.dtype),
        ],
    )
    return labels.stack(), sums, weights, total


def _exact_inertia(x, w, centers, labels):
    """A chunk's weighted squared distances to its own centres, summed exactly: from the
    residuals, never from ``|x|² - 2x·c + |c|²``."""
    residual = x - tf.gather(centers, labels)
    return tf.reduce_sum(w * tf.reduce_sum(tf.square(residual), axis=1))


def _inertia(X, sample_weight, centers, offset, labels, chunk):
    """The exact inertia of chunked ``labels``, as ``_pass`` sums it: a loop of its own, so
    that a Lloyd loop's passes need not carry it (``lloyd``)."""
    n_chunks = n_chunks_of(X, chunk)

    def body(index, total):
        start, x = chunk_rows(X, index, chunk)
        w = fresh_weights(sample_weight, start, index, chunk)
        return index + 1, total + _exact_inertia(x - offset, w, centers, labels[index])

    _, total = tf.while_loop(
        lambda index, _: index < n_chunks, body, [tf.constant(0), tf.zeros([], X.dtype)]
    )
    return total


def map_chunks(n_chunks, chunk, dtype, row_values):
    """``row_values(index)`` (one value per row of chunk ``index``) for every chunk, stacked
    in the chunked layout (n_chunks, chunk): a while loop, so written (and compiled) once."""

    def body(index, chunks):
        return index + 1, chunks.write(index, row_values(index))

    _, chunks = tf.while_loop(
        lambda index, _: index < n_chunks,
        body,
        [
            tf.constant(0),
            tf.TensorArray(dtype, size=n_chunks, element_shape=[static_or_none(chunk)]),
        ],
    )
    return chunks.stack()


def chunked(values, chunk, zero_repeats=False):
    """``values`` (n,) in the chunked layout of ``chunk_rows`` (n_chunks, chunk): the last
    chunk shifted back to end at the last row. ``zero_repeats``: 0 on the rows an earlier
    chunk had (weights, so that those rows count once)."""

    def part(index):
        start = tf.minimum(index * chunk, size(values, 0) - chunk)
        if zero_repeats:
            return fresh_weights(values, start, index, chunk)
        return tf.slice(values, [start], [chunk])

    return map_chunks(n_chunks_of(values, chunk), chunk, values.dtype, part)


def _unchunk(chunked, like):
    """Per-chunk rows (n_chunks, chunk) back to one per sample, shaped ``like`` (n,).

    The last chunk's rows that the chunk before also holds are dropped. Iterations compare
    labels in the chunked layout, so only a result pays for this copy.
    """
    n_chunks, chunk = tf.shape(chunked)[0], tf.shape(chunked)[1]
    overlap = n_chunks * chunk - tf.shape(like)[0]
    joined = tf.concat([tf.reshape(chunked[:-1], [-1]), chunked[-1][overlap:]], axis=0)
    return tf.ensure_shape(joined, like.shape)


# Up to this many features and clusters, a chunk is assigned one centre at a time by
# elementwise ops, which XLA fuses into one loop, where a matmul with two products per output
# and a scatter cost more (docs/BENCHMARKS.md, design choices: "few centres in 2-D"). With
# more features or clusters the matmul form wins.
FEW_FEATURES, FEW_CLUSTERS = 2, 8


def elementwise_form(n_clusters, n_features) -> bool:
    """Whether the centres are few and low-dimensional: the elementwise form. Never for
    sizes known only at run time (tensors, or None): its ops are written a centre at a time."""
    if not (isinstance(n_clusters, int) and isinstance(n_features, int)):
        return False
    return n_clusters <= FEW_CLUSTERS and n_features <= FEW_FEATURES


def nearest_centers(x, centers, c_squared):
    """Each row's nearest centre, the first on ties: shape (n_rows,), int32.

    ``|x|²`` is the same for every centre, so the argmin needs only ``|c|² - 2 x·cᵀ``
    (scikit-learn's form too): one matmul and one add, or for few centres in few
    dimensions, the same sums elementwise.
    """
    if not elementwise_form(*centers.shape):
        return first_argmin(c_squared[tf.newaxis, :] - 2 * tf.matmul(x, centers, transpose_b=True))
    smallest = c_squared[0] - 2 * tf.reduce_sum(x * centers[0], axis=1)
    if centers.shape[0] == 1:
        return tf.zeros_like(smallest, dtype=tf.int32)
    labels = None  # from the first comparison: zeros would be a constant (see fresh_rows)
    for cluster in range(1, centers.shape[0]):
        partial = c_squared[cluster] - 2 * tf.reduce_sum(x * centers[cluster], axis=1)
        closer = partial < smallest  # strictly: a tie keeps the smaller index
        smallest = tf.where(closer, partial, smallest)
        labels = tf.cast(closer, tf.int32) if labels is None else tf.where(closer, cluster, labels)
    return labels


def cluster_sums(x, w, labels, n_clusters):
    """Weighted per-cluster sums (k, d) and weights (k,) of one chunk.

    A segment sum (a scatter, one row at a time); for few centres in few dimensions, one
    masked column sum per cluster, which XLA fuses and vectorises.
    """
    if not elementwise_form(n_clusters, x.shape[1]):
        return (
            tf.math.unsorted_segment_sum(x * w[:, tf.newaxis], labels, n_clusters),
            tf.math.unsorted_segment_sum(w, labels, n_clusters),
        )
    members = [tf.where(tf.equal(labels, cluster), w, 0) for cluster in range(n_clusters)]
    return (
        tf.stack([tf.reduce_sum(x * member[:, tf.newaxis], axis=0) for member in members]),
        tf.stack([tf.reduce_sum(member) for member in members]),
    )


def first_argmin(values):
    """Index of each row's smallest value, the first one on ties: ``tf.argmin(values, 1)``.

    Written as a min and a second min over the matching column numbers (as floats, exact
    up to 2**24 columns): XLA compiles these two plain reductions to vector code, where its
    argmin (a reduction over value-index pairs) is scalar (docs/BENCHMARKS.md, design
    choices: "nearest centre").

    Returns
    -------
    Tensor of shape (n_rows,), int32
    """
    n_columns = size(values, 1)
    if not isinstance(n_columns, int):
        n_columns = tf.cast(n_columns, values.dtype)
    smallest = tf.reduce_min(values, axis=1, keepdims=True)
    columns = tf.range(n_columns, dtype=values.dtype)[tf.newaxis, :]
    first = tf.reduce_min(tf.where(tf.equal(values, smallest), columns, n_columns), axis=1)
    return tf.cast(first, tf.int32)


def _own_centre_distances(X, centers, offset, labels, chunk, n_rows):
    """Squared distance of each sample to its own centre, exactly (scikit-learn's way);
    -1 for padding rows (from ``n_rows`` on), which so are never the farthest.

    Chunk by chunk, as ``labels`` (n_chunks, chunk) are; returns the same layout.
    """

    def distances(index):
        start, x = chunk_rows(X, index, chunk)
        residual = x - offset - tf.gather(centers, labels[index])
        squared = tf.reduce_sum(tf.square(residual), axis=1)
        return tf.where(start + tf.range(chunk) < n_rows, squared, -1)

    return map_chunks(n_chunks_of(X, chunk), chunk, X.dtype, distances)


def _relocate_empty_clusters(
    X, sample_weight, centers, offset, chunk, labels, sums, weights, n_rows, valid
):
    """Give each empty cluster one of the points farthest from their own centre.

    As scikit-learn: the farthest point moves its weighted value out of its cluster's sum
    into the empty cluster's (its label is not changed). Empty clusters take the farthest
    points in order, the smallest empty index first (``empty_and_farthest``). Padding rows
    (from ``n_rows`` on) are never taken, nor padding centres (not ``valid``) given any.
    """
    distances = _own_centre_distances(X, centers, offset, labels, chunk, n_rows)
    distances, labels = _unchunk(distances, sample_weight), _unchunk(labels, sample_weight)
    n_clusters, n_samples = size(centers, 0), size(X, 0)
    if isinstance(n_clusters, int) and isinstance(n_samples, int):
        top = tf.math.top_k(distances, k=min(n_clusters, n_samples))
    else:
        top = tf.math.top_k(distances, k=tf.minimum(n_clusters, n_samples))
    empty, farthest, moving = empty_and_farthest(weights, top.values, top.indices, valid)
    moved_weight = tf.gather(sample_weight, farthest) * moving
    moved = (tf.gather(X, farthest) - offset) * moved_weight[:, tf.newaxis]
    return move_points(sums, weights, empty, tf.gather(labels, farthest), moved, moved_weight)


def empty_and_farthest(weights, far_distances, farthest, valid=None):
    """The empty clusters, as many of the points ``farthest`` (by ``far_distances``, largest
    first) to give them, and 1, or 0 when every point sits on its centre: the factor of the
    moved weights, so that then nothing moves.

    Then there are more centres than distinct points, and moving a point would only make a
    centre that is another's twin (scikit-learn relocates nothing then too). A factor, not
    a shorter slice: XLA cannot slice a tensor of run-time size to a run-time size.
    Only ``valid`` clusters count as empty (all, if None): the others are padding.
    """
    is_empty = tf.equal(weights, 0)
    if valid is not None:
        is_empty = tf.logical_and(is_empty, valid)
    empty = tf.cast(tf.where(is_empty)[:, 0], tf.int32)
    moving = tf.cast(far_distances[0] > 0, far_distances.dtype)
    return empty, farthest[: tf.size(empty)], moving


def average_centers(sums, weights):
    """The weighted means ``sums / weights``; a cluster of weight 0 (empty, or given only
    points of weight 0) is put on the centre of the heaviest cluster, never ``nan``.

    scikit-learn's rule (``_average_centers``): the centre then coincides with another, so
    ties send no point to it, and the fit can converge.
    """
    filled = weights > 0
    means = sums / tf.where(filled, weights, 1)[:, tf.newaxis]
    heaviest = tf.gather(means, tf.argmax(weights, output_type=tf.int32))
    return tf.where(filled[:, tf.newaxis], means, heaviest[tf.newaxis, :])


def move_points(sums, weights, empty, old_labels, moved, moved_weight):
    """Move weighted points (``moved``, rows of their weighted values) to the ``empty`` clusters.

    Each point leaves its cluster's sum and weight (``old_labels``) and becomes the whole of
    one empty cluster's; the label it is counted under is not changed (as scikit-learn).
    """
    old = old_labels[:, tf.newaxis]
    sums = tf.tensor_scatter_nd_sub(sums, old, moved)
    sums = tf.tensor_scatter_nd_update(sums, empty[:, tf.newaxis], moved)
    weights = tf.tensor_scatter_nd_sub(weights, old, moved_weight)
    weights = tf.tensor_scatter_nd_update(weights, empty[:, tf.newaxis], moved_weight)
    return sums, weights


def assign_and_inertia(X, sample_weight, centers, offset, n_rows, n_clusters, chunk):
    """``(labels, inertia)`` of the samples against fixed (centred) centres."""
    labels, _, _, total = _pass(
        X, sample_weight, centers, offset, chunk, n_rows, n_clusters, exact_inertia=True
    )
    return _unchunk(labels, sample_weight), total


def _iterate(X, sample_weight, centers, offset, chunk, n_rows, n_clusters, with_inertia=False):
    """Assign, and move the centres to their clusters' means (relocating empty clusters).
    Padding centres (``buckets``) stay where they are.

    Returns
    -------
    new_centers (k, d), chunked labels (n_chunks, chunk), the summed squared shift, and the
    inertia of this assignment (exact, if ``with_inertia``; else 0).
    """
    labels, sums, weights, inertia = _pass(
        X, sample_weight, centers, offset, chunk, n_rows, n_clusters, exact_inertia=with_inertia
    )
    valid = valid_clusters(centers, n_clusters)
    sums, weights = tf.cond(
        tf.reduce_any(tf.logical_and(tf.equal(weights, 0), valid)),
        lambda: _relocate_empty_clusters(
            X, sample_weight, centers, offset, chunk, labels, sums, weights, n_rows, valid
        ),
        lambda: (sums, weights),
    )
    new_centers = tf.where(valid[:, tf.newaxis], average_centers(sums, weights), centers)
    return new_centers, labels, tf.reduce_sum(tf.square(new_centers - centers)), inertia


def lloyd_step(
    X,
    sample_weight,
    centers,
    offset,
    previous_labels,
    tol,
    n_rows,
    n_clusters,
    chunk,
    with_inertia=False,
):
    """One Lloyd iteration: assign, move the centres (relocating empty clusters), test.

    Returns
    -------
    new_centers (k, d), labels (n,) int32, stop (the labels are ``previous_labels``, or the
    summed squared shift is at most ``tol``), shift, and the inertia of this assignment
    (exact, if ``with_inertia``; else 0).
    """
    new_centers, labels, shift, inertia = _iterate(
        X, sample_weight, centers, offset, chunk, n_rows, n_clusters, with_inertia
    )
    labels = _unchunk(labels, sample_weight)
    return new_centers, labels, stopped(labels, previous_labels, shift, tol), shift, inertia


def stopped(labels, previous_labels, shift, tol):
    """scikit-learn's stop rule, the one every Lloyd loop here keeps (in ops; its host twin
    is ``streamed.stopped``): the labels are the previous iteration's (strict convergence),
    or the summed squared centre shift is at most ``tol``."""
    return tf.logical_or(tf.reduce_all(tf.equal(labels, previous_labels)), shift <= tol)


def lloyd(
    X, sample_weight, centers, offset, previous_labels, max_iter, tol, n_rows, n_clusters, chunk
):
    """Run Lloyd's iterations until strict convergence, ``shift <= tol``, ``max_iter``, or
    a pass that leaves a cluster empty.

    scikit-learn's rules: an iteration assigns the samples to ``centers`` and moves the
    centres to the weighted means; the run stops when the labels are those of the previous
    iteration (``previous_labels`` (n,) before the first: -1 for a fresh run), or when the
    summed squared centre shift is at most ``tol``. The samples are then assigned once
    more, to the final centres: the loop's last pass, so that a pass is written (and
    compiled) once.

    An empty cluster is relocated by ``lloyd_step``'s iteration, not here: it is rare, and
    its ops (a sort of the distances among them) cost about a third of the loop's tracing
    and compiling (docs/KMEANS.md, "Why it is fast").
    So a pass that leaves a real cluster empty ends the run before that iteration, with
    ``empty`` true, ``centers`` those it was given and ``labels`` the previous iteration's;
    the host runs that iteration and resumes (``dense_core.DenseCore.lloyd``).

    ``centers`` are in centred coordinates (``x - offset``), as are the returned ones.
    Rows from ``n_rows`` on and centres from ``n_clusters`` on are padding (``buckets``).

    Returns
    -------
    labels : Tensor (n_samples,), int32
    inertia : scalar Tensor (0 if ``empty``)
    centers : Tensor (n_clusters, n_features)
    n_iter : scalar Tensor, int32: the iterations run
    empty : scalar Tensor, bool
    """
    valid = valid_clusters(centers, n_clusters)

    def step(iteration, centers, previous, last, _, __, ___):
        labels, sums, weights, _ = _pass(
            X, sample_weight, centers, offset, chunk, n_rows, n_clusters
        )
        inertia = tf.cond(
            last,
            lambda: _inertia(X, sample_weight, centers, offset, labels, chunk),
            lambda: tf.zeros([], X.dtype),
        )
        empty = tf.logical_and(
            tf.logical_not(last), tf.reduce_any(tf.logical_and(tf.equal(weights, 0), valid))
        )
        moves = tf.logical_not(tf.logical_or(last, empty))
        new_centers = tf.where(valid[:, tf.newaxis], average_centers(sums, weights), centers)
        new_centers = tf.where(moves, new_centers, centers)
        # Both label sets are chunked alike.
        stop = stopped(labels, previous, tf.reduce_sum(tf.square(new_centers - centers)), tol)
        iteration += tf.cast(moves, tf.int32)
        next_last = tf.logical_or(stop, iteration >= max_iter)
        done = tf.logical_or(last, empty)
        labels = tf.where(empty, previous, labels)
        return iteration, new_centers, labels, next_last, done, empty, inertia

    n_iter, centers, labels, _, _, empty, inertia = tf.while_loop(
        lambda *state: tf.logical_not(state[4]),
        step,
        [
            tf.constant(0),
            centers,
            chunked(previous_labels, chunk),
            max_iter <= 0,
            tf.constant(False),
            tf.constant(False),
            tf.zeros([], X.dtype),
        ],
    )
    return _unchunk(labels, sample_weight), inertia, centers, n_iter, empty


def transform(X, centers, offset):
    """Euclidean distances to (centred) ``centers``, shape (n_samples, n_clusters).

    The distance to each row's nearest centre is its residual |x - c|, exactly: from
    |x|² - 2x·c + |c|² it would be what cancellation leaves, magnified by the square root
    (in float32, a point on a centre came out 1e-3 away from it; in float64, 1e-8).
    """
    x = X - offset
    squared = squared_distances(x, centers)
    nearest = tf.argmin(squared, axis=1, output_type=tf.int32)  # any number of centres
    residual = tf.reduce_sum(tf.square(x - tf.gather(centers, nearest)), axis=1)
    own = tf.equal(tf.range(tf.shape(centers)[0])[tf.newaxis, :], nearest[:, tf.newaxis])
    return tf.sqrt(tf.where(own, residual[:, tf.newaxis], squared))
