"""Lloyd's algorithm on a CSR matrix as TensorFlow ops, written once for both packages.

The twin of ``lloyd_ops`` for sparse ``X``: the same functions, the same rules (nearest
centre first on ties, weighted means, empty clusters given the farthest points, strict
convergence or ``shift <= tol``), but ``X`` is never made dense. It arrives as its three
CSR arrays, ``values`` (nnz,), ``indices`` (nnz,) int32 and ``indptr`` (n + 1,) int64, with
``sample_weight`` (n,) and dense ``centers`` (k, d).

A pass takes the rows a chunk at a time; within a chunk every stored value ``x[i, j]``
meets column ``j`` of every centre (a gather of the centres' transpose), and the products
are summed per row: ``x·cᵀ`` with work proportional to nnz x k, and memory to the chunk's
nnz x k. Per-cluster sums scatter each stored value into its row's cluster. Sparse
kernels have no XLA form and nnz differs per chunk, so these ops run uncompiled, with
dynamic shapes; both drivers give them the same unknown shapes (placeholders in TF1, an
``input_signature`` in TF2), so that both run the same kernels and agree bit for bit.

Distances are |x|² - 2x·c + |c|², not taken around the mean: centring would fill in
the zeros (scikit-learn does not centre sparse data either).
"""

import tensorflow as tf

from kmeans_tutorial.engine import lloyd_ops

# Products (stored values x centres) a chunk may hold: 2**19 numbers, as lloyd_ops.
PRODUCT_BUDGET = lloyd_ops.CHUNK_BUDGET


def chunk_size(n_samples: int, nnz: int, n_clusters: int) -> int:
    """Rows a chunk takes, so that its nnz x n_clusters products stay within the budget."""
    per_row = max(1, nnz // max(1, n_samples)) * n_clusters
    return max(1, min(n_samples, PRODUCT_BUDGET // per_row))


def _n_rows(indptr):
    return tf.shape(indptr, out_type=tf.int32)[0] - 1


def _chunk(X, index, chunk):
    """Chunk ``index``: its first row, row count, values, columns and local row numbers."""
    values, indices, indptr = X
    first = index * chunk
    n_rows = tf.minimum(chunk, _n_rows(indptr) - first)
    bounds = indptr[first : first + n_rows + 1]
    start, stop = bounds[0], bounds[-1]
    lengths = tf.cast(bounds[1:] - bounds[:-1], tf.int32)
    rows = tf.repeat(tf.range(n_rows), lengths)
    return first, n_rows, values[start:stop], indices[start:stop], rows


def _row_squares(v, rows, n_rows):
    return tf.math.unsorted_segment_sum(tf.square(v), rows, n_rows)


def _products(v, c, rows, n_rows, centers_t):
    """``x·cᵀ`` for the chunk's rows, shape (n_rows, k).

    The rows are in order, so the sorted segment sum serves, a single sweep; it makes as
    many rows as the last one stored, so a zero product for the chunk's last row is
    appended (adding zero changes no sum).
    """
    products = v[:, tf.newaxis] * tf.gather(centers_t, c)
    padded = tf.concat([products, tf.zeros_like(centers_t[:1])], axis=0)
    return tf.math.segment_sum(padded, tf.concat([rows, [n_rows - 1]], axis=0))


def _cluster_sums(v, c, rows, w, labels, like):
    """A chunk's weighted per-cluster sums (k, d), shaped ``like``, and weights (k,): each
    stored value scattered into its row's cluster."""
    n_clusters, n_features = tf.shape(like)[0], tf.shape(like)[1]
    value_labels = tf.gather(labels, rows)
    sums = tf.math.unsorted_segment_sum(
        v * tf.gather(w, rows), value_labels * n_features + c, n_clusters * n_features
    )
    return (
        tf.reshape(sums, [n_clusters, n_features]),
        tf.math.unsorted_segment_sum(w, labels, n_clusters),
    )


def _n_chunks(indptr, chunk):
    return (_n_rows(indptr) + chunk - 1) // chunk


def _pass(X, sample_weight, centers, chunk, with_sums=True):
    """One pass against fixed ``centers``.

    Returns
    -------
    labels (n,) int32, each sample's squared distance to its centre (n,), the weighted
    per-cluster sums (k, d) and weights (k,) (zeros unless ``with_sums``).
    """
    indptr = X[2]
    n_clusters = tf.shape(centers)[0]
    centers_t = tf.transpose(centers)
    c_squared = tf.reduce_sum(tf.square(centers), axis=1)

    def body(index, labels, distances, sums, weights):
        first, n_rows, v, c, rows = _chunk(X, index, chunk)
        products = _products(v, c, rows, n_rows, centers_t)
        chunk_labels = tf.argmin(
            c_squared[tf.newaxis, :] - 2 * products, axis=1, output_type=tf.int32
        )
        own = tf.gather(products, chunk_labels, batch_dims=1)
        squared = _row_squares(v, rows, n_rows) - 2 * own + tf.gather(c_squared, chunk_labels)
        labels = labels.write(index, chunk_labels)
        distances = distances.write(index, tf.maximum(squared, 0))
        if with_sums:
            w = sample_weight[first : first + n_rows]
            chunk_sums, chunk_weights = _cluster_sums(v, c, rows, w, chunk_labels, sums)
            sums, weights = sums + chunk_sums, weights + chunk_weights
        return index + 1, labels, distances, sums, weights

    n_chunks = _n_chunks(indptr, chunk)
    _, labels, distances, sums, weights = tf.while_loop(
        lambda index, *_: index < n_chunks,
        body,
        [
            tf.constant(0),
            tf.TensorArray(tf.int32, size=n_chunks, infer_shape=False, element_shape=[None]),
            tf.TensorArray(centers.dtype, size=n_chunks, infer_shape=False, element_shape=[None]),
            tf.zeros_like(centers),
            tf.zeros([n_clusters], centers.dtype),
        ],
    )
    return labels.concat(), distances.concat(), sums, weights


def dense_rows(X, rows, n_features):
    """Rows ``rows`` of the CSR matrix as a dense (len(rows), n_features) tensor."""
    values, indices, indptr = X
    starts, stops = tf.gather(indptr, rows), tf.gather(indptr, rows + 1)
    positions = tf.ragged.range(starts, stops)
    flat = positions.flat_values
    where = tf.stack(
        [tf.cast(positions.value_rowids(), tf.int64), tf.cast(tf.gather(indices, flat), tf.int64)],
        axis=1,
    )
    shape = tf.cast(tf.stack([tf.size(rows), n_features]), tf.int64)
    return tf.scatter_nd(where, tf.gather(values, flat), shape)


def _relocate_empty_clusters(X, sample_weight, distances, labels, sums, weights):
    """As ``lloyd_ops``: each empty cluster takes one of the farthest points, in order."""
    n_clusters, n_features = tf.shape(sums)[0], tf.shape(sums)[1]
    top = tf.math.top_k(distances, k=tf.minimum(n_clusters, tf.size(distances)))
    empty, farthest, moving = lloyd_ops.empty_and_farthest(weights, *top)
    moved_weight = tf.gather(sample_weight, farthest) * moving
    moved = dense_rows(X, farthest, n_features) * moved_weight[:, tf.newaxis]
    old_labels = tf.gather(labels, farthest)
    return lloyd_ops.move_points(sums, weights, empty, old_labels, moved, moved_weight)


def _iterate(X, sample_weight, centers, chunk):
    """Assign, then move the centres to their clusters' means; as ``lloyd_ops._iterate``."""
    labels, distances, sums, weights = _pass(X, sample_weight, centers, chunk)
    sums, weights = tf.cond(
        tf.reduce_any(tf.equal(weights, 0)),
        lambda: _relocate_empty_clusters(X, sample_weight, distances, labels, sums, weights),
        lambda: (sums, weights),
    )
    new_centers = lloyd_ops.average_centers(sums, weights)
    inertia = tf.reduce_sum(sample_weight * distances)
    return new_centers, labels, tf.reduce_sum(tf.square(new_centers - centers)), inertia


def assign_and_inertia(values, indices, indptr, sample_weight, centers, chunk):
    """``(labels, inertia)`` of the samples against fixed centres."""
    labels, distances, _, _ = _pass((values, indices, indptr), sample_weight, centers, chunk, False)
    return labels, tf.reduce_sum(sample_weight * distances)


def lloyd_step(values, indices, indptr, sample_weight, centers, previous_labels, tol, chunk):
    """One Lloyd iteration, as ``lloyd_ops.lloyd_step`` (the inertia always computed)."""
    new_centers, labels, shift, inertia = _iterate(
        (values, indices, indptr), sample_weight, centers, chunk
    )
    stop = lloyd_ops.stopped(labels, previous_labels, shift, tol)
    return new_centers, labels, stop, shift, inertia


def lloyd(values, indices, indptr, sample_weight, centers, max_iter, tol, chunk):
    """Lloyd's iterations, as ``lloyd_ops.lloyd``: (labels, inertia, centers, n_iter)."""
    X = (values, indices, indptr)

    def step(iteration, centers, previous_labels, stop):
        new_centers, labels, shift, _ = _iterate(X, sample_weight, centers, chunk)
        stop = lloyd_ops.stopped(labels, previous_labels, shift, tol)
        return iteration + 1, new_centers, labels, stop

    no_labels_yet = tf.fill([_n_rows(indptr)], tf.constant(-1, tf.int32))
    n_iter, centers, _, _ = tf.while_loop(
        lambda iteration, _c, _l, stop: tf.logical_and(iteration < max_iter, tf.logical_not(stop)),
        step,
        [tf.constant(0), centers, no_labels_yet, tf.constant(False)],
        shape_invariants=[
            tf.TensorShape([]),
            centers.shape,
            tf.TensorShape([None]),
            tf.TensorShape([]),
        ],
    )
    labels, inertia = assign_and_inertia(values, indices, indptr, sample_weight, centers, chunk)
    return labels, inertia, centers, n_iter


def _bounded_pass(X, sample_weight, centers, chunk, previous, upper, lower, bound_centers):
    """``_pass``'s labels, sums and weights with Hamerly's bounds, as
    ``lloyd_ops._bounded_pass``: the rows they prove keep their centre; the others have
    their products with the centres computed, over their stored values alone. Labels and
    bounds are (n,), as this module keeps labels."""
    indptr = X[2]
    n_clusters = tf.shape(centers)[0]
    centers_t = tf.transpose(centers)
    c_squared = tf.reduce_sum(tf.square(centers), axis=1)
    valid = tf.ones([n_clusters], tf.bool)
    rounding = lloyd_ops.rounding_of(centers)
    scale, shifts, largest_shift, half_gaps = lloyd_ops.bound_moves(
        centers, bound_centers, valid, rounding
    )

    def body(index, labels, uppers, lowers, sums, weights):
        first, n_rows, v, c, rows = _chunk(X, index, chunk)
        own = tf.maximum(previous[first : first + n_rows], 0)
        row_upper = upper[first : first + n_rows] + tf.gather(shifts, own)
        row_lower = lower[first : first + n_rows] - largest_shift
        x_squared = _row_squares(v, rows, n_rows)
        allowance = rounding * (x_squared + scale)
        kept = lloyd_ops.bounds_prove(half_gaps, own, row_upper, row_lower, allowance)
        # Each row's exact distance to its own centre: its stored values against that one.
        own_values = tf.gather_nd(centers, tf.stack([tf.gather(own, rows), c], axis=1))
        own_products = tf.math.unsorted_segment_sum(v * own_values, rows, n_rows)
        own_squared = x_squared - 2 * own_products + tf.gather(c_squared, own)
        exact = tf.sqrt(tf.maximum(own_squared + allowance, 0))
        row_upper = tf.where(kept, row_upper, exact)
        kept = tf.logical_or(
            kept, lloyd_ops.bounds_prove(half_gaps, own, row_upper, row_lower, allowance)
        )
        need = tf.logical_not(kept)
        needed = tf.cast(tf.where(need)[:, 0], tf.int32)
        # The needed rows' stored values, their rows numbered among the needed.
        stored = tf.gather(need, rows)
        renumbered = tf.cumsum(tf.cast(need, tf.int32)) - 1
        needed_rows = tf.gather(renumbered, tf.boolean_mask(rows, stored))
        products = tf.cond(
            tf.size(needed) > 0,
            lambda: _products(
                tf.boolean_mask(v, stored), tf.boolean_mask(c, stored), needed_rows,
                tf.size(needed), centers_t,
            ),
            lambda: tf.zeros([0, n_clusters], centers.dtype),
        )  # fmt: skip
        partial = c_squared[tf.newaxis, :] - 2 * products
        new_labels = tf.argmin(partial, axis=1, output_type=tf.int32)  # ``_pass``'s
        squares, slack = tf.gather(x_squared, needed), tf.gather(allowance, needed)
        new_upper, new_lower = lloyd_ops.fresh_bounds(partial, new_labels, squares, slack)
        at = needed[:, tf.newaxis]
        chunk_labels = tf.tensor_scatter_nd_update(own, at, new_labels)
        row_upper = tf.tensor_scatter_nd_update(row_upper, at, new_upper)
        row_lower = tf.tensor_scatter_nd_update(row_lower, at, new_lower)
        w = sample_weight[first : first + n_rows]
        chunk_sums, chunk_weights = _cluster_sums(v, c, rows, w, chunk_labels, sums)
        return (
            index + 1,
            labels.write(index, chunk_labels),
            uppers.write(index, row_upper),
            lowers.write(index, row_lower),
            sums + chunk_sums,
            weights + chunk_weights,
        )

    def flat(dtype):
        return tf.TensorArray(dtype, size=n_chunks, infer_shape=False, element_shape=[None])

    n_chunks = _n_chunks(indptr, chunk)
    _, labels, uppers, lowers, sums, weights = tf.while_loop(
        lambda index, *_: index < n_chunks,
        body,
        [
            tf.constant(0),
            flat(tf.int32),
            flat(centers.dtype),
            flat(centers.dtype),
            tf.zeros_like(centers),
            tf.zeros([n_clusters], centers.dtype),
        ],
    )
    return labels.concat(), uppers.concat(), lowers.concat(), sums, weights


def elkan(values, indices, indptr, sample_weight, centers, max_iter, tol, chunk):
    """``lloyd``'s run with distance work skipped where Hamerly's bounds prove a row keeps
    its centre (``algorithm="elkan"``; ``_bounded_pass``): (labels, inertia, centers,
    n_iter). A pass that leaves a cluster empty has its distances to their own centres
    computed again by ``_pass``, for the relocation."""
    X = (values, indices, indptr)
    n_rows = _n_rows(indptr)

    def step(iteration, centers, previous, stop, upper, lower, bound_centers):
        labels, upper, lower, sums, weights = _bounded_pass(
            X, sample_weight, centers, chunk, previous, upper, lower, bound_centers
        )

        def relocated():
            _, distances, _, _ = _pass(X, sample_weight, centers, chunk, with_sums=False)
            return _relocate_empty_clusters(X, sample_weight, distances, labels, sums, weights)

        sums, weights = tf.cond(
            tf.reduce_any(tf.equal(weights, 0)), relocated, lambda: (sums, weights)
        )
        new_centers = lloyd_ops.average_centers(sums, weights)
        shift = tf.reduce_sum(tf.square(new_centers - centers))
        stop = lloyd_ops.stopped(labels, previous, shift, tol)
        return iteration + 1, new_centers, labels, stop, upper, lower, centers

    unknown = tf.fill([n_rows], tf.constant(float("inf"), centers.dtype))
    vector = tf.TensorShape([None])
    n_iter, centers, *_ = tf.while_loop(
        lambda iteration, _c, _l, stop, *_: tf.logical_and(
            iteration < max_iter, tf.logical_not(stop)
        ),
        step,
        [
            tf.constant(0),
            centers,
            tf.fill([n_rows], tf.constant(-1, tf.int32)),
            tf.constant(False),
            unknown,
            tf.zeros_like(unknown),
            centers,
        ],
        shape_invariants=[
            tf.TensorShape([]), centers.shape, vector, tf.TensorShape([]), vector, vector,
            centers.shape,
        ],
    )  # fmt: skip
    labels, inertia = assign_and_inertia(values, indices, indptr, sample_weight, centers, chunk)
    return labels, inertia, centers, n_iter


def squared_distances(values, indices, indptr, points, chunk):
    """Squared distances of every row to each of ``points``, shape (n_samples, n_points)."""
    X = (values, indices, indptr)
    points_t = tf.transpose(points)
    p_squared = tf.reduce_sum(tf.square(points), axis=1)

    def body(index, out):
        _, n_rows, v, c, rows = _chunk(X, index, chunk)
        products = _products(v, c, rows, n_rows, points_t)
        squared = _row_squares(v, rows, n_rows)[:, tf.newaxis] - 2 * products + p_squared
        return index + 1, out.write(index, tf.maximum(squared, 0))

    n_chunks = _n_chunks(indptr, chunk)
    _, out = tf.while_loop(
        lambda index, _: index < n_chunks,
        body,
        [
            tf.constant(0),
            tf.TensorArray(points.dtype, size=n_chunks, infer_shape=False),
        ],
    )
    return out.concat()


def transform(values, indices, indptr, centers, chunk):
    """Euclidean distances to ``centers``, shape (n_samples, n_clusters)."""
    return tf.sqrt(squared_distances(values, indices, indptr, centers, chunk))
