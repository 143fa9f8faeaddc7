"""The estimator's graph, its training loop, evaluation, prediction and export.

The graph follows TensorFlow's ``clustering_ops.KMeans.training_graph`` (TF 2.15), which
the estimator's ``model_fn`` called: the variables ``clusters`` (the centres, no shape
until they are chosen), ``initialized``, and for mini-batch training the per-centre
counts (``Variable``) and, with several steps an iteration, ``clusters_updated`` and
``update_in_steps``; an initialisation op that a hook runs until every centre is chosen;
and a training op. Variable names are the estimator's, so ``get_variable_names`` and the
checkpoints in ``model_dir`` are too.
"""

from __future__ import annotations

import inspect
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf2
import tensorflow.compat.v1 as tf
from tensorflow.python.training import training_util

from kmeans_tutorial.validation import InvalidParameterError, check_int

SQUARED_EUCLIDEAN_DISTANCE = "squared_euclidean"
COSINE_DISTANCE = "cosine"
RANDOM_INIT = "random"
KMEANS_PLUS_PLUS_INIT = "kmeans_plus_plus"
KMC2_INIT = "kmc2"
KMC2_CHAIN_LENGTH = 200  # clustering_ops' default: candidate rows per k-MC2 centre
FULL_BATCH_EPSILON = 1e-6  # added to each cluster's count before dividing, as the estimator
SERVING = "serve"


class ModeKeys:
    """The estimator's modes."""

    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"


class RunConfig:
    """What of ``tf.estimator.RunConfig`` the k-means estimator used.

    ``save_checkpoints_secs`` defaults to 600 when neither it nor
    ``save_checkpoints_steps`` is given, as the estimator's; a checkpoint is also saved
    at the end of every ``train``. Every ``save_summary_steps`` steps ``train`` writes the
    loss (``loss`` and the model's ``loss/raw``) to ``model_dir`` for TensorBoard, and
    every ``log_step_count_steps`` the steps a second (``global_step/sec``), as the
    estimator did.
    """

    def __init__(
        self,
        model_dir=None,
        tf_random_seed=None,
        save_summary_steps=100,
        save_checkpoints_steps=None,
        save_checkpoints_secs=None,
        keep_checkpoint_max=5,
        session_config=None,
        log_step_count_steps=100,
    ):
        if save_checkpoints_steps is not None and save_checkpoints_secs is not None:
            raise InvalidParameterError(
                "save_checkpoints_steps and save_checkpoints_secs cannot both be set."
            )
        if save_checkpoints_steps is None and save_checkpoints_secs is None:
            save_checkpoints_secs = 600
        self.model_dir = model_dir
        self.tf_random_seed = tf_random_seed
        self.save_checkpoints_steps = save_checkpoints_steps
        self.save_checkpoints_secs = save_checkpoints_secs
        self.keep_checkpoint_max = keep_checkpoint_max
        self.session_config = session_config
        self.save_summary_steps = save_summary_steps
        self.log_step_count_steps = log_step_count_steps
        self.is_chief = True

    def replace(self, **changes) -> RunConfig:
        values = {name: getattr(self, name) for name in inspect.signature(RunConfig).parameters}
        return RunConfig(**{**values, **changes})


def _features(result, feature_columns):
    """The points an ``input_fn``'s result holds, as one float tensor (n, d), and the
    hooks it needs (a dataset's iterator initialiser)."""
    hooks = []
    if isinstance(result, tf2.data.Dataset):  # TF2's class: TF1's derive from it
        iterator = tf.data.make_initializable_iterator(result)
        hooks.append(_IteratorInitializerHook(iterator))
        result = iterator.get_next()
    if isinstance(result, list | tuple):
        if len(result) != 2:
            raise InvalidParameterError(
                f"input_fn should return features or (features, labels); got a "
                f"{type(result).__name__} of {len(result)} items."
            )
        result = result[0]
    if isinstance(result, dict):
        if feature_columns:
            result = tf.feature_column.input_layer(result, feature_columns)
        else:  # the features side by side, by sorted name, as the estimator
            result = tf.concat([result[key] for key in sorted(result)], axis=1)
    points = tf.convert_to_tensor(result)
    if points.dtype != tf.float32:
        raise InvalidParameterError(
            f"the input_fn's points are {points.dtype.name}; the estimator takes float32 "
            f"(its centres are float32): cast them, e.g. tf.cast(x, tf.float32)."
        )
    if points.shape.rank is not None and points.shape.rank != 2:
        raise InvalidParameterError(
            f"the input_fn's points have shape {points.shape}; they must be (batch, features)."
        )
    return points, hooks


class _IteratorInitializerHook(tf.train.SessionRunHook):
    """Initialises a dataset's iterator when the session is made."""

    def __init__(self, iterator):
        self.iterator = iterator

    def after_create_session(self, session, coord):
        session.run(self.iterator.initializer)


class _InitializeClustersHook(tf.train.SessionRunHook):
    """Runs the initialisation op until every centre is chosen (each run may read a new
    batch), as the estimator's hook did on its chief."""

    def __init__(self, init_op, initialized):
        self.init_op, self.initialized = init_op, initialized

    def after_create_session(self, session, coord):
        while not session.run(self.initialized):
            session.run(self.init_op)


class _LossRelativeChangeHook(tf.train.SessionRunHook):
    """Stops training when ``|loss - previous| / (1 + |previous|)`` is below ``tolerance``
    (the estimator's rule; a previous loss of 0 does not count, as there)."""

    def __init__(self, loss, tolerance):
        self.loss, self.tolerance, self.previous = loss, tolerance, None

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(self.loss)

    def after_run(self, run_context, run_values):
        loss = run_values.results
        if self.previous and abs(loss - self.previous) / (1 + abs(self.previous)) < self.tolerance:
            run_context.request_stop()
        self.previous = loss


def _normalize(x):
    return tf.nn.l2_normalize(x, axis=1)


class _Graph:
    """The k-means graph on ``points``: what one ``model_fn`` call built."""

    def __init__(self, estimator: KMeans, points, training: bool):
        self.estimator = estimator
        self.metric = estimator._distance_metric
        mini_batch = estimator._use_mini_batch
        self.steps_per_iteration = int(estimator._mini_batch_steps_per_iteration)
        initial = estimator._initial_clusters
        if isinstance(initial, str) or callable(initial):
            n_clusters = tf.convert_to_tensor(estimator._num_clusters)
        else:
            initial = tf.convert_to_tensor(initial, tf.float32)
            n_clusters = tf.shape(initial)[0]
        self.n_clusters, self.initial = n_clusters, initial
        # With a seed, clustering_ops took the first of random_seed.get_seed(seed): the
        # graph's seed, or TensorFlow's default one when the graph has none. So the
        # estimator's seed chose *whether* the draws repeat, not which they are (a test).
        self.seed = tf.get_seed(estimator._seed)[0]
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
                    num_retries_per_sample=tf.cast(
                        self.estimator._kmeans_plus_plus_num_retries, tf.int64
                    ),
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


def _check_steps(steps, max_steps):
    if steps is not None and max_steps is not None:
        raise InvalidParameterError("Can not provide both steps and max_steps.")
    for name, value in (("steps", steps), ("max_steps", max_steps)):
        if value is not None:
            check_int(name, value, 1)


class KMeans:
    """An estimator for k-means clustering: ``tf.compat.v1.estimator.experimental.KMeans``.

    Parameters are the estimator's. ``use_mini_batch`` defaults to True, as it did: each
    ``train`` step is then a mini-batch update; with ``use_mini_batch=False`` a step is one
    Lloyd iteration over the whole batch the ``input_fn`` returns, which should be all the
    data. ``initial_clusters``: ``RANDOM_INIT`` (rows of the first batch drawn at random),
    ``KMEANS_PLUS_PLUS_INIT`` (k-means++ on the first batch), ``KMC2_INIT`` (k-MC2), an
    array of centres, or a callable ``f(inputs, k)`` returning up to ``k`` centres.
    """

    SQUARED_EUCLIDEAN_DISTANCE = SQUARED_EUCLIDEAN_DISTANCE
    COSINE_DISTANCE = COSINE_DISTANCE
    RANDOM_INIT = RANDOM_INIT
    KMEANS_PLUS_PLUS_INIT = KMEANS_PLUS_PLUS_INIT
    KMC2_INIT = KMC2_INIT
    SCORE = "score"
    CLUSTER_INDEX = "cluster_index"
    ALL_DISTANCES = "all_distances"
    CLUSTER_CENTERS_VAR_NAME = "clusters"

    def __init__(
        self,
        num_clusters,
        model_dir=None,
        initial_clusters=RANDOM_INIT,
        distance_metric=SQUARED_EUCLIDEAN_DISTANCE,
        seed=None,
        use_mini_batch=True,
        mini_batch_steps_per_iteration=1,
        kmeans_plus_plus_num_retries=2,
        relative_tolerance=None,
        config=None,
        feature_columns=None,
    ):
        inits = (RANDOM_INIT, KMEANS_PLUS_PLUS_INIT, KMC2_INIT)
        if isinstance(initial_clusters, str) and initial_clusters not in inits:
            raise InvalidParameterError(
                f"Unsupported initialization algorithm {initial_clusters!r}; "
                f"use one of {inits}, an array of centres or a callable."
            )
        if distance_metric not in (SQUARED_EUCLIDEAN_DISTANCE, COSINE_DISTANCE):
            raise InvalidParameterError(
                f"Unsupported distance metric {distance_metric!r}; use "
                f"{SQUARED_EUCLIDEAN_DISTANCE!r} or {COSINE_DISTANCE!r}."
            )
        if isinstance(initial_clusters, str) or callable(initial_clusters):
            check_int("num_clusters", num_clusters, 1)
        else:
            centers = np.asarray(initial_clusters)
            if centers.ndim != 2 or not np.issubdtype(centers.dtype, np.number):
                raise InvalidParameterError(
                    f"initial_clusters should be a 2-D array of centres, got shape "
                    f"{centers.shape} of {centers.dtype}."
                )
            initial_clusters = centers.astype(np.float32)
        steps = mini_batch_steps_per_iteration
        check_int("mini_batch_steps_per_iteration", steps, 1)
        config = config or RunConfig()
        if model_dir is None:
            model_dir = config.model_dir
        elif config.model_dir is not None and os.fspath(model_dir) != os.fspath(config.model_dir):
            raise InvalidParameterError(
                f"model_dir={model_dir!r} and config.model_dir={config.model_dir!r} differ."
            )
        if model_dir is None:  # as the estimator: a temporary folder, said in the log
            model_dir = tempfile.mkdtemp()
            tf.logging.warning(f"Using temporary folder as model directory: {model_dir}")
        self._model_dir = os.fspath(model_dir)
        self._config = config.replace(model_dir=self._model_dir)
        self._num_clusters = num_clusters
        self._initial_clusters = initial_clusters
        self._distance_metric = distance_metric
        self._seed = seed
        self._use_mini_batch = bool(use_mini_batch)
        self._mini_batch_steps_per_iteration = int(steps)
        self._kmeans_plus_plus_num_retries = kmeans_plus_plus_num_retries
        self._relative_tolerance = relative_tolerance
        self._feature_columns = feature_columns

    @property
    def model_dir(self) -> str:
        return self._model_dir

    @property
    def config(self) -> RunConfig:
        return self._config

    # -- graphs --

    def _call_input_fn(self, input_fn, mode):
        if not callable(input_fn):
            raise InvalidParameterError(
                f"input_fn must be a function returning the points (a tensor, a dict of "
                f"tensors or a tf.data.Dataset); got {type(input_fn).__name__}."
            )
        names = inspect.signature(input_fn).parameters
        kwargs = {
            name: value
            for name, value in (("mode", mode), ("params", {}), ("config", self._config))
            if name in names
        }
        return input_fn(**kwargs)

    def _build(self, input_fn, mode):
        """A new graph with the model on ``input_fn``'s points: (graph, model, hooks)."""
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(self._config.tf_random_seed)
            global_step = tf.train.create_global_step(graph)
            points, hooks = _features(self._call_input_fn(input_fn, mode), self._feature_columns)
            model = _Graph(self, points, training=mode == ModeKeys.TRAIN)
            model.global_step = global_step
        return graph, model, hooks

    def latest_checkpoint(self):
        """The path of the last checkpoint in ``model_dir``, or None."""
        return tf.train.latest_checkpoint(self._model_dir)

    def _checkpoint(self, checkpoint_path=None) -> str:
        path = checkpoint_path or self.latest_checkpoint()
        if path is None:
            raise InvalidParameterError(
                f"Could not find trained model in model_dir: {self._model_dir}."
            )
        return path

    def get_variable_names(self) -> list[str]:
        """The names of the variables in the last checkpoint."""
        return [name for name, _ in tf.train.list_variables(self._checkpoint())]

    def get_variable_value(self, name: str) -> np.ndarray:
        """A variable's value in the last checkpoint."""
        return tf.train.load_variable(self._checkpoint(), name)

    def cluster_centers(self) -> np.ndarray:
        """The cluster centres, from the last checkpoint."""
        return self.get_variable_value(self.CLUSTER_CENTERS_VAR_NAME)

    # -- training --

    def train(self, input_fn, hooks=None, steps=None, max_steps=None, saving_listeners=None):
        """Train: each step one Lloyd iteration (full batch) or one mini-batch update, for
        ``steps`` more steps, up to global step ``max_steps``, or until ``input_fn``'s
        data ends or ``relative_tolerance`` is met; resumes from ``model_dir``."""
        _check_steps(steps, max_steps)
        if max_steps is not None:
            latest = self.latest_checkpoint()
            if latest is not None and tf.train.load_variable(latest, "global_step") >= max_steps:
                tf.logging.info("Skipping training since max_steps has already saved.")
                return self
        graph, model, input_hooks = self._build(input_fn, ModeKeys.TRAIN)
        tf.io.gfile.makedirs(self._model_dir)
        with graph.as_default():
            # The hooks fetch TensorFlow's cached read of the step (summaries are written at
            # the step it says); the estimator built its model after that read, so the
            # read is the step before this run's update, never after it.
            step_read = training_util._get_or_create_global_step_read()
            with tf.control_dependencies([step_read]):
                increment = tf.assign_add(model.global_step, 1)
            with tf.control_dependencies([model.train_op, increment]):
                train_op = tf.identity(model.loss)
            all_hooks = [*input_hooks, _InitializeClustersHook(model.init_op, model.initialized)]
            all_hooks.extend(self._summary_hooks(model.loss))
            if self._relative_tolerance is not None:
                all_hooks.append(_LossRelativeChangeHook(model.loss, self._relative_tolerance))
            if steps is not None or max_steps is not None:
                all_hooks.append(tf.train.StopAtStepHook(num_steps=steps, last_step=max_steps))
            all_hooks.extend(hooks or [])
            saver = tf.train.Saver(
                sharded=True, max_to_keep=self._config.keep_checkpoint_max, save_relative_paths=True
            )
            tf.add_to_collection(tf.GraphKeys.SAVERS, saver)
            scaffold = tf.train.Scaffold(saver=saver)
            chief_hooks = [
                _CheckpointHook(
                    os.path.join(self._model_dir, "model.ckpt"),
                    saver,
                    model.global_step,
                    self._config,
                    saving_listeners or [],
                )
            ]
            creator = tf.train.ChiefSessionCreator(
                scaffold=scaffold,
                checkpoint_dir=self._model_dir,
                config=self._config.session_config,
            )
            with tf.train.MonitoredSession(creator, hooks=all_hooks + chief_hooks) as session:
                while not session.should_stop():
                    session.run(train_op)
        return self

    def _summary_hooks(self, loss) -> list:
        """The loss for TensorBoard, as the estimator wrote it: its model's ``loss/raw``
        and the estimator's own ``loss``, every ``save_summary_steps`` steps; the steps a
        second every ``log_step_count_steps``."""
        config, hooks = self._config, []
        if config.save_summary_steps:
            tf.summary.scalar("loss/raw", loss)
            tf.summary.scalar("loss", loss)
            hooks.append(
                tf.train.SummarySaverHook(
                    save_steps=config.save_summary_steps,
                    output_dir=self._model_dir,
                    summary_op=tf.summary.merge_all(),
                )
            )
        if config.log_step_count_steps:
            hooks.append(
                tf.train.StepCounterHook(
                    every_n_steps=config.log_step_count_steps, output_dir=self._model_dir
                )
            )
        return hooks

    # -- using the model --

    def _restored_session(self, graph, hooks, checkpoint_path):
        with graph.as_default():
            creator = tf.train.ChiefSessionCreator(
                scaffold=tf.train.Scaffold(),
                checkpoint_filename_with_path=self._checkpoint(checkpoint_path),
                config=self._config.session_config,
            )
            return tf.train.MonitoredSession(creator, hooks=hooks)

    def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None, name=None):
        """The mean over batches (``steps`` of them at most) of the batch's summed distance
        to the nearest centres: ``{"score", "loss", "global_step"}``."""
        _check_steps(steps, None)
        graph, model, input_hooks = self._build(input_fn, ModeKeys.EVAL)
        with graph.as_default():
            score, update = tf.metrics.mean(model.loss)
            final = tf.train.FinalOpsHook([score, model.global_step])  # run as the data ends
            all_hooks = [*input_hooks, *(hooks or []), final]
            if steps is not None:
                all_hooks.append(_StopAfterRunsHook(steps))
        with self._restored_session(graph, all_hooks, checkpoint_path) as session:
            while not session.should_stop():
                session.run(update)
        value, step = final.final_ops_values
        value = float(value)
        return {self.SCORE: value, "loss": value, "global_step": int(step)}

    def score(self, input_fn):
        """The summed squared distance (cosine: 1 - cos) of the *first* batch's points to
        their nearest centres (the estimator's, not scikit-learn's negative sum)."""
        return self.evaluate(input_fn, steps=1)[self.SCORE]

    def predict(
        self,
        input_fn,
        predict_keys=None,
        hooks=None,
        checkpoint_path=None,
        yield_single_examples=True,
    ):
        """Per point (or per batch), ``{"all_distances", "cluster_index"}`` as the estimator
        gave them: squared Euclidean (or cosine) distances, the nearest centre's index."""
        graph, model, input_hooks = self._build(input_fn, ModeKeys.PREDICT)
        predictions = {
            self.ALL_DISTANCES: model.all_distances,
            self.CLUSTER_INDEX: model.cluster_index,
        }
        if predict_keys is not None:
            keys = [predict_keys] if isinstance(predict_keys, str) else list(predict_keys)
            unknown = [key for key in keys if key not in predictions]
            if unknown:
                raise InvalidParameterError(
                    f"Expected to run at least one output from {list(predictions)}, "
                    f"provided {unknown}."
                )
            predictions = {key: predictions[key] for key in keys}
        with self._restored_session(
            graph, [*input_hooks, *(hooks or [])], checkpoint_path
        ) as session:
            while not session.should_stop():
                batch = session.run(predictions)
                if not yield_single_examples:
                    yield batch
                    continue
                for row in range(len(next(iter(batch.values())))):
                    yield {key: value[row] for key, value in batch.items()}

    def _predict_one_key(self, input_fn, key):
        for prediction in self.predict(input_fn, predict_keys=[key]):
            yield prediction[key]

    def predict_cluster_index(self, input_fn):
        """The index of each point's nearest centre."""
        yield from self._predict_one_key(input_fn, self.CLUSTER_INDEX)

    def transform(self, input_fn):
        """Each point's distances to every centre: Euclidean (not squared), or cosine."""
        for distances in self._predict_one_key(input_fn, self.ALL_DISTANCES):
            if self._distance_metric == SQUARED_EUCLIDEAN_DISTANCE:
                # |x|² - 2x·c + |c|² can round below 0 near a centre: the estimator's
                # square root gave nan there; 0 is the distance.
                yield np.sqrt(np.maximum(distances, 0))
            else:
                yield distances

    def export_saved_model(
        self,
        export_dir_base,
        serving_input_receiver_fn,
        assets_extra=None,
        as_text=False,
        checkpoint_path=None,
        experimental_mode=ModeKeys.PREDICT,
    ):
        """A SavedModel in a new timestamped folder of ``export_dir_base``, with the
        estimator's signatures: ``cluster_index`` (also ``serving_default``) and
        ``all_distances``, each with one output, ``output``. Returns its path, as bytes."""
        if experimental_mode != ModeKeys.PREDICT:
            raise InvalidParameterError(
                f"experimental_mode={experimental_mode!r}: this estimator exports PREDICT only."
            )
        graph = tf.Graph()
        with graph.as_default():
            tf.train.create_global_step(graph)
            receiver = serving_input_receiver_fn()
            points, _ = _features(receiver.features, self._feature_columns)
            model = _Graph(self, points, training=False)
            inputs = {
                name: tf.saved_model.utils.build_tensor_info(tensor)
                for name, tensor in receiver.receiver_tensors.items()
            }

            def signature(tensor):
                return tf.saved_model.signature_def_utils.build_signature_def(
                    inputs,
                    {"output": tf.saved_model.utils.build_tensor_info(tensor)},
                    tf.saved_model.signature_constants.PREDICT_METHOD_NAME,
                )

            signatures = {
                self.ALL_DISTANCES: signature(model.all_distances),
                self.CLUSTER_INDEX: signature(model.cluster_index),
                tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: signature(
                    model.cluster_index
                ),
            }
            export_dir = Path(os.fspath(export_dir_base)) / str(int(time.time()))
            while export_dir.exists():  # one export a second, as the estimator's names allow
                time.sleep(1)
                export_dir = Path(os.fspath(export_dir_base)) / str(int(time.time()))
            saver = tf.train.Saver(sharded=True)
            with tf.Session(config=self._config.session_config) as session:
                saver.restore(session, self._checkpoint(checkpoint_path))
                builder = tf.saved_model.Builder(str(export_dir))
                builder.add_meta_graph_and_variables(
                    session, [SERVING], signature_def_map=signatures, strip_default_attrs=True
                )
                builder.save(as_text)
        for name, source in (assets_extra or {}).items():
            destination = export_dir / "assets.extra" / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(Path(source).read_bytes())
        return str(export_dir).encode()


class _CheckpointHook(tf.train.SessionRunHook):
    """Saves a checkpoint when the session starts, every ``save_checkpoints_secs`` or
    ``_steps``, and at the end, calling the saving listeners around each save: what the
    estimator's ``CheckpointSaverHook`` did, less its ``graph.pbtxt``. That text dump
    fails on TF 2.20 with protobuf 7 (``MessageToString() got an unexpected keyword
    argument 'float_format'``), and nothing reads it."""

    def __init__(self, path, saver, global_step, config, listeners):
        self.path, self.saver, self.global_step, self.listeners = (
            path,
            saver,
            global_step,
            listeners,
        )
        self.timer = tf.train.SecondOrStepTimer(
            every_secs=config.save_checkpoints_secs, every_steps=config.save_checkpoints_steps
        )
        self.saved = None

    def begin(self):
        for listener in self.listeners:
            listener.begin()

    def after_create_session(self, session, coord):
        self._save(session, session.run(self.global_step))

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(self.global_step)

    def after_run(self, run_context, run_values):
        # The step fetched may be read before or after this run's increment: when it may
        # be time, the step is read again, once the run is done.
        if not self.timer.should_trigger_for_step(run_values.results + 1):
            return
        step = run_context.session.run(self.global_step)
        if self.timer.should_trigger_for_step(step) and self._save(run_context.session, step):
            run_context.request_stop()

    def end(self, session):
        step = session.run(self.global_step)
        if step != self.saved:
            self._save(session, step)
        for listener in self.listeners:
            listener.end(session, step)

    def _save(self, session, step) -> bool:
        """Save at ``step``; whether a listener asked training to stop."""
        self.timer.update_last_triggered_step(step)
        for listener in self.listeners:
            listener.before_save(session, step)
        self.saver.save(session, self.path, global_step=step)
        self.saved = step
        return any(listener.after_save(session, step) for listener in self.listeners)


class _StopAfterRunsHook(tf.train.SessionRunHook):
    """Stops after ``runs`` session runs (evaluate's ``steps``)."""

    def __init__(self, runs):
        self.runs, self.done = runs, 0

    def after_run(self, run_context, run_values):
        self.done += 1
        if self.done >= self.runs:
            run_context.request_stop()
