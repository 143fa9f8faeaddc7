"""What of ``tf.estimator`` the k-means estimator's users met besides the estimator itself:
its modes (``ModeKeys``) and its ``RunConfig``, and how an ``input_fn``'s result becomes the
points the graph clusters."""

from __future__ import annotations

import inspect

import tensorflow as tf2
import tensorflow.compat.v1 as tf

from kmeans_tutorial.common_checks import InvalidParameterError
from tf1_graph.estimator._hooks import IteratorInitializerHook


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


def features(result, feature_columns):
    """The points an ``input_fn``'s result holds, as one float tensor (n, d), and the
    hooks it needs (a dataset's iterator initialiser)."""
    hooks = []
    if isinstance(result, tf2.data.Dataset):  # TF2's class: TF1's derive from it
        iterator = tf.data.make_initializable_iterator(result)
        hooks.append(IteratorInitializerHook(iterator))
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
