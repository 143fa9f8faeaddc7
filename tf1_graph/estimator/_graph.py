"""The estimator's graph, as TensorFlow's ``clustering_ops.KMeans.training_graph`` (TF 2.15)
built it for the estimator's ``model_fn``: the variables ``clusters`` (the centres, no shape
until they are chosen), ``initialized``, and for mini-batch training the per-centre counts
(``Variable``) and, with several steps an iteration, ``clusters_updated`` and
``update_in_steps``; an initialisation op that a hook runs until every centre is chosen;
and a training op. Variable names are the estimator's, so ``get_variable_names`` and the
checkpoints in ``model_dir`` are too.
"""

from __future__ import annotations

import tensorflow.compat.v1 as tf

SQUARED_EUCLIDEAN_DISTANCE = "squared_euclidean"
COSINE_DISTANCE = "cosine"
RANDOM_INIT = "random"
KMEANS_PLUS_PLUS_INIT = "kmeans_plus_plus"
KMC2_INIT = "kmc2"
KMC2_CHAIN_LENGTH = 200  # clustering_ops' default: candidate rows per k-MC2 centre
FULL_BATCH_EPSILON = 1e-6  # added to each cluster's count before dividing, as the estimator
SERVING = "serve"


def _normalize(x):
    return tf.nn.l2_normalize(x, axis=1)


class Graph:
    """The k-means graph on ``points``: what one ``model_fn`` call built, from the
    estimator's parameters (as ``clustering_ops.KMeans`` took them) and whether it trains.
    """

    def __init__(
        self,
        points,
        *,
        num_clusters,
        initial_clusters,
        distance_metric: str,
        seed,
        use_mini_batch: bool,
        mini_batch_steps_per_iteration: int,
        kmeans_plus_plus_num_retries: int,
        training: bool,
    ):
        self.metric = distance_metric
        mini_batch = use_mini_batch
        self.steps_per_iteration = int(mini_batch_steps_per_iteration)
        self.kmeans_plus_plus_num_retries = kmeans_plus_plus_num_retries
        initial = initial_clusters
        if isinstance(initial, str) or callable(initial):
            n_clusters = tf.convert_to_tensor(num_clusters)
        else:
            initial = tf.convert_to_tensor(initial, tf.float32)
            n_clusters = tf.shape(initial)[0]
        self.n_clusters, self.initial = n_clusters, initial
        # With a seed, clustering_ops took the first of random_seed.get_seed(seed): the
        # graph's seed, or TensorFlow's default one when the graph has none. So the
        # estimator's seed chose *whether* the draws repeat, not which they are (a test).
        self.seed = tf.get_seed(seed)[0]
        empty = tf.placeholder_with_default([], shape=None)
        self.centers = tf.Variable(empty, name="clusters", validate_shape=False)
        self.initialized = tf.Variable(False, dtype=tf.bool, name="initialized")
        self.several_steps = mini_batch and self.steps_per_iteration > 1
        self.counts = self.updated = self.update_in_steps = None
        if self.several_steps:
            self.updated = tf.Variable(empty, name="clusters_updated", validate_shape=False)
            self.update_in_steps = tf.Variable(
                self.steps_per_iteration, dtype=tf.int64, name="update_in_steps"
            )
            self.counts = tf.Variable(tf.zeros([n_clusters], dtype=tf.int64))
        elif mini_batch:  # the initial centre counts as one point (a test)
            self.counts = tf.Variable(tf.ones([n_clusters], dtype=tf.int64))
        # The centres stay unit vectors when a whole update replaces them.
        self.normalized = self.metric == COSINE_DISTANCE and (not mini_batch or self.several_steps)
        self.raw_points = points
        self.points = _normalize(points) if self.metric == COSINE_DISTANCE else points
        self.init_op = self._init_op()
        # Training reads the centres after an iteration's end has synced them (the
        # estimator left the two unordered); evaluation and prediction never sync.
        sync = self._sync() if mini_batch and training else tf.no_op()
        with tf.control_dependencies([sync]):
            centers = tf.identity(self.centers.read_value())
        if self.metric == COSINE_DISTANCE and not self.normalized:
            centers = _normalize(centers)
        self.all_distances = self._distances(self.points, centers)
        indices, nearest = tf.raw_ops.NearestNeighbors(
            points=self.points, centers=centers, k=tf.constant(1, tf.int64)
        )
        if self.metric == COSINE_DISTANCE:
            nearest = 0.5 * nearest  # |a - b|² / 2 = 1 - cos for unit vectors
        self.cluster_index = tf.squeeze(indices, [-1])
        self.scores = tf.squeeze(nearest, [-1])
        self.loss = tf.reduce_sum(self.scores)
        if mini_batch:
            with tf.control_dependencies([sync]):  # its reads too: counts just reset
                self.train_op = self._mini_batch_update(self.cluster_index)
        else:
            self.train_op = self._full_batch_update(self.cluster_index)

    def _distances(self, points, centers):
        if self.metric == COSINE_DISTANCE:
            return 1 - tf.matmul(points, centers, transpose_b=True)
        return (
            tf.reduce_sum(tf.square(points), 1, keepdims=True)
            - 2 * tf.matmul(points, centers, transpose_b=True)
            + tf.transpose(tf.reduce_sum(tf.square(centers), 1, keepdims=True))
        )

    # -- initial centres --

    def _assign_centers(self, value):
        assigned = tf.assign(self.centers, value, validate_shape=False)
        if self.updated is not None:
            assigned = tf.assign(self.updated, assigned, validate_shape=False)
        return assigned

    def _init_op(self):
        selected = tf.shape(self.centers)[0]
        remaining = self.n_clusters - selected

        def initialize():
            with tf.control_dependencies([tf.assert_positive(remaining)]):
                if isinstance(self.initial, str) and self.initial == KMC2_INIT:
                    left = self._kmc2(remaining)
                else:
                    new = self._choose(remaining)
                    if self.metric == COSINE_DISTANCE:
                        new = _normalize(new)
                    joined = tf.cond(
                        tf.equal(selected, 0),
                        lambda: new,
                        lambda: tf.concat([self.centers, new], 0),
                    )
                    left = self.n_clusters - tf.shape(self._assign_centers(joined))[0]
                return tf.cond(
                    tf.equal(left, 0),
                    lambda: tf.assign(self.initialized, True),
                    tf.no_op,
                )

        return tf.cond(
            tf.equal(remaining, 0),
            lambda: tf.assert_equal(self.initialized, True),
            initialize,
        )

    def _choose(self, remaining):
        points, n_rows = self.raw_points, tf.shape(self.raw_points)[0]
        if isinstance(self.initial, str) and self.initial == RANDOM_INIT:

            def sample():
                rows = tf.random_uniform(
                    tf.reshape(remaining, [-1]),
                    maxval=tf.cast(n_rows, tf.int64),
                    seed=self.seed,
                    dtype=tf.int64,
                )
                return tf.gather(points, rows)

            # A batch no larger than what is missing is taken whole.
            return tf.cond(n_rows <= remaining, lambda: points, sample)
        if isinstance(self.initial, str):  # k-means++ on one batch, which must be large enough
            with tf.control_dependencies([tf.assert_greater_equal(n_rows, remaining)]):
                rows = self.points  # unit vectors for the cosine metric
                return tf.raw_ops.KmeansPlusPlusInitialization(
                    points=rows,
                    num_to_sample=tf.cast(remaining, tf.int64),
                    seed=self._op_seed(),
                    num_retries_per_sample=tf.cast(self.kmeans_plus_plus_num_retries, tf.int64),
                )
        if callable(self.initial):
            return self.initial([points], remaining)
        with tf.control_dependencies([tf.assert_equal(remaining, tf.shape(self.initial)[0])]):
            return tf.identity(self.initial)

    def _op_seed(self):
        """The seed input of TensorFlow's seeding kernels. Without a seed the estimator
        passed None and failed ("None values not supported", a test); here an unseeded
        draw seeds them, as an unseeded random op would be."""
        if self.seed is None:
            return tf.random_uniform([], maxval=2**31 - 1, dtype=tf.int64)
        return tf.constant(self.seed, tf.int64)

    def _kmc2(self, remaining):
        """k-MC2: one new centre per chain of ``KMC2_CHAIN_LENGTH`` rows of the batch (one
        from the whole batch if it is shorter); the very first centre is its first row."""
        batch = self.raw_points
        chains = tf.cast(tf.shape(batch)[0] / KMC2_CHAIN_LENGTH, tf.int32)
        count = tf.maximum(tf.minimum(remaining, chains), 1)

        # The centres so far are carried through the loop and written once after it:
        # clustering_ops wrote the variable in each iteration and read it in the next,
        # unordered, so a run could mix them up.
        def body(i, centers):
            def first():
                center = tf.reshape(batch[0], [1, -1])
                return _normalize(center) if self.metric == COSINE_DISTANCE else center

            def chain():
                subset = batch[i * KMC2_CHAIN_LENGTH : (i + 1) * KMC2_CHAIN_LENGTH]
                _, distances = tf.raw_ops.NearestNeighbors(
                    points=subset, centers=centers, k=tf.constant(1, tf.int64)
                )
                index = tf.raw_ops.KMC2ChainInitialization(
                    distances=tf.squeeze(distances), seed=self._op_seed()
                )
                center = tf.reshape(subset[index], [1, -1])
                if self.metric == COSINE_DISTANCE:
                    center = _normalize(center)
                return tf.concat([centers, center], 0)

            return i + 1, tf.cond(tf.equal(tf.shape(centers)[0], 0), first, chain)

        start = tf.reshape(self.centers.read_value(), [-1, tf.shape(batch)[1]])
        _, centers = tf.while_loop(
            lambda i, _: i < count,
            body,
            [0, start],
            shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, batch.shape[1]])],
        )
        return self.n_clusters - tf.shape(self._assign_centers(centers))[0]

    # -- training --

    def _full_batch_update(self, index):
        points = self.points
        sums = tf.unsorted_segment_sum(points, index, self.n_clusters)
        ones = tf.ones([tf.shape(points)[0], 1])
        counts = tf.unsorted_segment_sum(ones, index, self.n_clusters)
        centers = sums / (counts + tf.constant(FULL_BATCH_EPSILON, points.dtype))
        if self.normalized:
            centers = _normalize(centers)
        return tf.assign(self.centers, centers)

    def _sync(self):
        """Every ``steps_per_iteration`` steps, the updated copy becomes the centres and
        the counts restart from 0."""
        if not self.several_steps:
            return tf.no_op()

        def sync():
            with tf.control_dependencies(
                [tf.assign(self.update_in_steps, self.steps_per_iteration - 1)]
            ):
                updated = (
                    _normalize(self.updated) if self.metric == COSINE_DISTANCE else self.updated
                )
                # The counts restart only once the centres are written. (Nested, not one
                # parenthesised `with`: tf_upgrade_v2's parser predates that syntax.)
                with tf.control_dependencies([tf.assign(self.centers, updated)]):  # noqa: SIM117
                    with tf.control_dependencies(
                        [tf.assign(self.counts, tf.zeros_like(self.counts))]
                    ):
                        return tf.identity(self.update_in_steps)

        return tf.cond(
            self.update_in_steps <= 0, sync, lambda: tf.assign_sub(self.update_in_steps, 1)
        )

    def _mini_batch_update(self, index):
        """Each centre moves to the running mean of the points it has had: its step is
        (sum of its new points - their count x centre) / (old count + new count). Both
        reads come before both writes (the estimator's did not order them)."""
        points = self.points
        target = self.updated if self.several_steps else self.centers
        ids, position = tf.unique(index)
        unique = tf.size(ids)
        old_counts = tf.gather(self.counts.read_value(), ids)
        old_centers = tf.gather(target.read_value(), ids)
        new_counts = tf.unsorted_segment_sum(tf.ones_like(position, tf.int64), position, unique)
        sums = tf.unsorted_segment_sum(points, position, unique)
        step = sums - tf.cast(new_counts, points.dtype)[:, None] * old_centers
        step *= tf.math.reciprocal(tf.cast(old_counts + new_counts, points.dtype))[:, None]
        with tf.control_dependencies([old_counts, old_centers]):
            return tf.group(
                tf.scatter_add(self.counts, ids, new_counts),
                tf.scatter_add(target, ids, step),
            )
