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

import numpy as np
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


def _partial_distances(x, centers, c_squared):
    """``|c|² - 2 x·cᵀ`` for every row and centre, (rows, k), as ``nearest_centers`` computes
    it (elementwise, a centre at a time, for few centres in few dimensions)."""
    if not elementwise_form(*centers.shape):
        return c_squared[tf.newaxis, :] - 2 * tf.matmul(x, centers, transpose_b=True)
    return tf.stack(
        [
            c_squared[cluster] - 2 * tf.reduce_sum(x * centers[cluster], axis=1)
            for cluster in range(centers.shape[0])
        ],
        axis=1,
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

    def assign(centers, previous, state):
        labels, sums, weights, _ = _pass(
            X, sample_weight, centers, offset, chunk, n_rows, n_clusters
        )
        return labels, sums, weights, state

    return _loop(
        X, sample_weight, centers, offset, previous_labels, max_iter, tol, n_clusters, chunk,
        assign, lambda _: (),
    )  # fmt: skip


def elkan(
    X, sample_weight, centers, offset, previous_labels, max_iter, tol, n_rows, n_clusters, chunk
):
    """``lloyd``'s run, its iterations, stops and results, with distance work skipped where
    the triangle inequality proves that a row keeps its centre (``algorithm="elkan"``;
    ``_bounded_pass``). Inputs and outputs are ``lloyd``'s.

    Each row keeps Hamerly's two bounds (2010), an upper bound on the distance to its own
    centre and a lower bound on the distance to any other, carried between iterations as
    tensors in the chunked layout; n x 2 numbers, where Elkan's (2003) n x k lower bounds
    would hold as much as the distances themselves. A run starts with bounds that prove
    nothing (upper infinite, lower 0), so its first pass computes nearly every distance.
    """
    valid = valid_clusters(centers, n_clusters)

    def assign(centers, previous, state):
        upper, lower, bound_centers = state
        labels, upper, lower, sums, weights = _bounded_pass(
            X, sample_weight, centers, offset, chunk, n_rows, valid, previous, upper, lower,
            bound_centers,
        )  # fmt: skip
        return labels, sums, weights, (upper, lower, centers)

    def unknown(previous):
        # Made from the labels, a run-time input, never from constants (see ``fresh_rows``):
        # a filled tensor of the data's size would be folded into the compiled program.
        never = previous < -1  # labels are -1 at least: all False
        upper = tf.where(never, tf.zeros([], X.dtype), float("inf"))
        return upper, tf.where(never, upper, 0), centers

    return _loop(
        X, sample_weight, centers, offset, previous_labels, max_iter, tol, n_clusters, chunk,
        assign, unknown,
    )  # fmt: skip


def _loop(
    X, sample_weight, centers, offset, previous_labels, max_iter, tol, n_clusters, chunk,
    assign, initial,
):  # fmt: skip
    """The iterations of ``lloyd`` and ``elkan``: ``assign(centers, previous_labels, state)``
    gives a pass's chunked labels, per-cluster sums and weights, and its ``state`` for the
    next (the bounds of ``elkan``; none for ``lloyd``), the first made by
    ``initial(previous_labels)`` (chunked)."""
    valid = valid_clusters(centers, n_clusters)
    previous = chunked(previous_labels, chunk)

    def step(iteration, centers, previous, last, _, __, ___, state):
        labels, sums, weights, state = assign(centers, previous, state)
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
        return iteration, new_centers, labels, next_last, done, empty, inertia, state

    n_iter, centers, labels, _, _, empty, inertia, _ = tf.while_loop(
        lambda *loop: tf.logical_not(loop[4]),
        step,
        [
            tf.constant(0),
            centers,
            previous,
            max_iter <= 0,
            tf.constant(False),
            tf.constant(False),
            tf.zeros([], X.dtype),
            initial(previous),
        ],
    )
    return _unchunk(labels, sample_weight), inertia, centers, n_iter, empty


# How far the bounds of ``_bounded_pass`` allow for rounding, as a multiple of the dtype's
# machine epsilon per feature: the computed |c|² - 2x·c of a width-d dot product is within
# about (2d + 2) eps (|x|² + |c|²) of the true value. Twice that, so that a skipped row is
# one whose nearest centre the computed distances would also choose: the labels of
# ``elkan`` are ``lloyd``'s.
ROUNDING_PER_FEATURE = 4


def rounding_of(X):
    """The relative rounding allowance of the bounds for data of ``X``'s width and dtype (a
    Python float where the width is static)."""
    eps = float(np.finfo(tf.as_dtype(X.dtype).as_numpy_dtype).eps)
    width = size(X, 1)
    if isinstance(width, int):
        return ROUNDING_PER_FEATURE * (width + 4) * eps
    return ROUNDING_PER_FEATURE * (tf.cast(width, X.dtype) + 4) * eps


def bound_moves(centers, bound_centers, valid, rounding):
    """What moving the bounds from ``bound_centers`` to ``centers`` takes: the largest
    squared norm of a real centre (the scale of the rounding), each centre's shift and the
    largest (rounded up), and the half gaps (``_half_gaps``, rounded down)."""
    squares = tf.reduce_sum(tf.square(centers), axis=1)
    scale = tf.reduce_max(tf.where(valid, squares, 0))
    reach = rounding * tf.sqrt(scale)
    shifts = tf.sqrt(tf.reduce_sum(tf.square(centers - bound_centers), axis=1))
    shifts = tf.where(valid, shifts * (1 + rounding) + reach, 0)
    half_gaps = _half_gaps(centers, valid, 2 * rounding * scale)
    return scale, shifts, tf.reduce_max(shifts), half_gaps


def bounds_prove(half_gaps, own, upper, lower, allowance):
    """Which rows keep their centre ``own``, by their bounds: nothing is nearer than
    ``lower`` but ``own``, nor, by the triangle inequality, than 2 s - u; and the gap in
    squared distances exceeds twice the rounding (``allowance``) of each."""
    nearest_other = tf.maximum(lower, 2 * tf.gather(half_gaps, own) - upper)
    gap = (nearest_other - upper) * (nearest_other + upper)
    return tf.logical_and(nearest_other > upper, gap >= 2 * allowance)


def _half_gaps(centers, valid, slack):
    """Half the distance from each centre to its nearest other (real) centre, rounded down
    (``slack``: the computed squared distances' allowance): a row within it of its own
    centre has no nearer one (Hamerly's ``s``). Infinite for a lone centre.

    A chunk of centres at a time against all of them (``chunk_size``), so that 16,384
    centres hold 8 MiB of gaps, not their k x k (1 GiB); at once where the number of
    centres is known only at run time (uncompiled data, whose k is small).
    """
    squares = tf.reduce_sum(tf.square(centers), axis=1)
    k = size(centers, 0)

    def halves(start, rows):
        gaps = (
            tf.slice(squares, [start], [rows])[:, tf.newaxis]
            + squares[tf.newaxis, :]
            - 2 * tf.matmul(tf.slice(centers, [start, 0], [rows, -1]), centers, transpose_b=True)
        )
        own = tf.equal((start + tf.range(rows))[:, tf.newaxis], tf.range(k)[tf.newaxis, :])
        others = tf.logical_and(valid[tf.newaxis, :], tf.logical_not(own))
        nearest = tf.reduce_min(tf.where(others, gaps, float("inf")), axis=1)
        return 0.5 * tf.sqrt(tf.maximum(nearest - slack, 0))

    if not isinstance(k, int):
        return halves(0, k)
    chunk = chunk_size(k, k)
    return _unchunk(
        map_chunks(n_chunks_of(centers, chunk), chunk, centers.dtype,
                   lambda index: halves(tf.minimum(index * chunk, k - chunk), chunk)),
        squares,
    )  # fmt: skip


# ``elkan`` computes the distances of the rows its bounds leave unproved this many at a time,
# gathered from their chunk: few enough that a few unproved rows cost little, enough that
# each matmul runs at speed (docs/BENCHMARKS.md, "elkan").
ELKAN_BLOCK = 256


def _nearest_where(x, centers, c_squared, need, labels, upper, lower, x_squared, allowance):
    """Labels and fresh bounds for the rows of chunk ``x`` that ``need`` them; the other
    rows keep ``labels``, ``upper`` and ``lower``.

    The needed rows are gathered to the front of the chunk (a permutation by running
    counts), and taken ``ELKAN_BLOCK`` at a time: as many blocks as they fill, each a
    matmul of the block against the centres. A last block shifted back to the chunk's end
    recomputes a few rows that needed nothing: their computed labels are the ones they
    had (the bounds proved it) and their bounds become exact.
    """
    rows = size(x, 0)
    block = ELKAN_BLOCK if isinstance(rows, int) and rows >= ELKAN_BLOCK else None
    if block is None:
        block = tf.minimum(ELKAN_BLOCK, rows)
    needed = tf.cast(need, tf.int32)
    count = tf.reduce_sum(needed)
    # Needed rows first, in order, then the others: slot of each row, then its inverse.
    slots = tf.where(need, tf.cumsum(needed) - 1, count + tf.cumsum(1 - needed) - 1)
    order = tf.scatter_nd(slots[:, tf.newaxis], tf.range(rows), tf.shape(slots))
    n_blocks = (count + block - 1) // block

    def computed(x, squares, slack):
        block_labels = nearest_centers(x, centers, c_squared)  # ``_pass``'s op
        partial = _partial_distances(x, centers, c_squared)
        return (block_labels, *fresh_bounds(partial, block_labels, squares, slack))

    def body(index, labels, upper, lower):
        begin = tf.minimum(index * block, rows - block)
        picked = tf.slice(order, [begin], [block])
        squares, slack = tf.gather(x_squared, picked), tf.gather(allowance, picked)
        block_labels, block_upper, block_lower = computed(tf.gather(x, picked), squares, slack)
        at = picked[:, tf.newaxis]
        return (
            index + 1,
            tf.tensor_scatter_nd_update(labels, at, block_labels),
            tf.tensor_scatter_nd_update(upper, at, block_upper),
            tf.tensor_scatter_nd_update(lower, at, block_lower),
        )

    def by_blocks():
        _, *results = tf.while_loop(
            lambda index, *_: index < n_blocks, body, [tf.constant(0), labels, upper, lower]
        )
        return tuple(results)

    # Past half the chunk, gathering costs more than the rows it spares: all of it, at once.
    return tf.cond(count * 2 > rows, lambda: computed(x, x_squared, allowance), by_blocks)


def fresh_bounds(partial, labels, squares, slack):
    """Rows' bounds from their partial distances ``|c|² - 2x·c`` (rows, k) and ``labels``:
    the distance to their own centre, rounded up by ``slack``, and to the nearest other,
    rounded down (``squares``: the rows' ``|x|²``)."""
    columns = tf.range(tf.shape(partial)[1])[tf.newaxis, :]
    own = tf.gather(partial, labels, batch_dims=1)
    others = tf.where(tf.not_equal(columns, labels[:, tf.newaxis]), partial, float("inf"))
    second = tf.reduce_min(others, axis=1)
    return (
        tf.sqrt(tf.maximum(squares + own + slack, 0)),
        tf.sqrt(tf.maximum(squares + second - slack, 0)),
    )


def _bounded_pass(
    X, sample_weight, centers, offset, chunk, n_rows, valid, previous, upper, lower,
    bound_centers,
):  # fmt: skip
    """``_pass`` (without its inertia) with Hamerly's bounds: a row proved to keep its
    centre keeps its label without its distances computed.

    ``upper`` and ``lower`` (chunked, as ``previous``) bound each row's distance to its
    centre ``previous`` and to any other, for ``bound_centers``; moved to ``centers`` by
    each centre's shift. The rows they fail to prove have their distances computed
    (``_nearest_where``) with ``_pass``'s ops, and their bounds set afresh. Hamerly's
    tightening (a failing row's exact distance to its own centre, tried before all its
    distances) is left out: over a chunk it cost more than the matmuls it spared
    (docs/BENCHMARKS.md, "scikit-learn's family"). Rounding is allowed for on every side
    (``ROUNDING_PER_FEATURE``), so that a row is skipped only where the computed
    distances would keep its label too.

    Returns chunked labels, upper and lower bounds (n_chunks, chunk), sums (k, d) and
    weights (k,).
    """
    n_chunks = n_chunks_of(X, chunk)
    rounding = rounding_of(X)
    squares = tf.reduce_sum(tf.square(centers), axis=1)
    c_squared = tf.where(valid, squares, float("inf"))  # ``masked_squares``
    scale, shifts, largest_shift, half_gaps = bound_moves(centers, bound_centers, valid, rounding)

    def proved(own, upper, lower, allowance):
        return bounds_prove(half_gaps, own, upper, lower, allowance)

    def body(index, labels, uppers, lowers, sums, weights):
        start, x = chunk_rows(X, index, chunk)
        x -= offset
        w = fresh_weights(sample_weight, start, index, chunk)
        padding = start + tf.range(chunk) >= n_rows
        own = tf.maximum(previous[index], 0)  # a fresh run's -1: any centre, bounds say none
        row_upper = upper[index] + tf.gather(shifts, own)
        row_lower = lower[index] - largest_shift
        x_squared = tf.reduce_sum(tf.square(x), axis=1)
        allowance = rounding * (x_squared + scale)
        need = tf.logical_not(tf.logical_or(proved(own, row_upper, row_lower, allowance), padding))
        chunk_labels, row_upper, row_lower = _nearest_where(
            x, centers, c_squared, need, own, row_upper, row_lower, x_squared, allowance
        )
        chunk_labels = tf.where(padding, 0, chunk_labels)
        chunk_sums, chunk_weights = cluster_sums(x, w, chunk_labels, size(centers, 0))
        return (
            index + 1,
            labels.write(index, chunk_labels),
            uppers.write(index, row_upper),
            lowers.write(index, row_lower),
            sums + chunk_sums,
            weights + chunk_weights,
        )

    def chunk_array(dtype):
        return tf.TensorArray(dtype, size=n_chunks, element_shape=[static_or_none(chunk)])

    _, labels, uppers, lowers, sums, weights = tf.while_loop(
        lambda index, *_: index < n_chunks,
        body,
        [
            tf.constant(0),
            chunk_array(tf.int32),
            chunk_array(X.dtype),
            chunk_array(X.dtype),
            tf.zeros_like(centers),
            tf.zeros([tf.shape(centers)[0]], X.dtype),
        ],
    )
    return labels.stack(), uppers.stack(), lowers.stack(), sums, weights


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
