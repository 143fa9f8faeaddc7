"""The estimator itself: its constructor, training loop, evaluation, prediction and export,
around the graph (``_graph``) and hooks (``_hooks``) it builds, as ``tf.estimator``'s
``Estimator`` ran the k-means ``model_fn``."""

from __future__ import annotations

import inspect
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow.compat.v1 as tf

from kmeans_tutorial.common_checks import InvalidParameterError, check_int
from tf1_graph.estimator._config import ModeKeys, RunConfig, features
from tf1_graph.estimator._graph import (
    COSINE_DISTANCE,
    KMC2_INIT,
    KMEANS_PLUS_PLUS_INIT,
    RANDOM_INIT,
    SERVING,
    SQUARED_EUCLIDEAN_DISTANCE,
    Graph,
)
from tf1_graph.estimator._hooks import (
    CheckpointHook,
    InitializeClustersHook,
    LossRelativeChangeHook,
    StopAfterRunsHook,
    global_step_read,
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

    def _graph(self, points, training: bool) -> Graph:
        return Graph(
            points,
            num_clusters=self._num_clusters,
            initial_clusters=self._initial_clusters,
            distance_metric=self._distance_metric,
            seed=self._seed,
            use_mini_batch=self._use_mini_batch,
            mini_batch_steps_per_iteration=self._mini_batch_steps_per_iteration,
            kmeans_plus_plus_num_retries=self._kmeans_plus_plus_num_retries,
            training=training,
        )

    def _build(self, input_fn, mode):
        """A new graph with the model on ``input_fn``'s points: (graph, model, hooks)."""
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(self._config.tf_random_seed)
            global_step = tf.train.create_global_step(graph)
            points, hooks = features(self._call_input_fn(input_fn, mode), self._feature_columns)
            model = self._graph(points, training=mode == ModeKeys.TRAIN)
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
            step_read = global_step_read(model.global_step)
            with tf.control_dependencies([step_read]):
                increment = tf.assign_add(model.global_step, 1)
            with tf.control_dependencies([model.train_op, increment]):
                train_op = tf.identity(model.loss)
            all_hooks = [*input_hooks, InitializeClustersHook(model.init_op, model.initialized)]
            all_hooks.extend(self._summary_hooks(model.loss))
            if self._relative_tolerance is not None:
                all_hooks.append(LossRelativeChangeHook(model.loss, self._relative_tolerance))
            if steps is not None or max_steps is not None:
                all_hooks.append(tf.train.StopAtStepHook(num_steps=steps, last_step=max_steps))
            all_hooks.extend(hooks or [])
            saver = tf.train.Saver(
                sharded=True, max_to_keep=self._config.keep_checkpoint_max, save_relative_paths=True
            )
            tf.add_to_collection(tf.GraphKeys.SAVERS, saver)
            scaffold = tf.train.Scaffold(saver=saver)
            chief_hooks = [
                CheckpointHook(
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
                all_hooks.append(StopAfterRunsHook(steps))
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
            points, _ = features(receiver.features, self._feature_columns)
            model = self._graph(points, training=False)
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
