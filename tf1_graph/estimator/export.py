"""What ``export_saved_model`` takes, as ``tf.compat.v1.estimator.export`` had it."""

import collections

import tensorflow.compat.v1 as tf


class ServingInputReceiver(
    collections.namedtuple("ServingInputReceiver", ["features", "receiver_tensors"])
):
    """The features the model reads, and the tensors a served request feeds.

    A single tensor is named as the estimator named it: ``"feature"`` among the features,
    ``"input"`` among the receiver tensors.
    """

    def __new__(cls, features, receiver_tensors):
        if not isinstance(features, dict):
            features = {"feature": features}
        if not isinstance(receiver_tensors, dict):
            receiver_tensors = {"input": receiver_tensors}
        return super().__new__(cls, features, receiver_tensors)


def build_raw_serving_input_receiver_fn(features, default_batch_size=None):
    """A ``serving_input_receiver_fn`` fed ``features`` (name to tensor) directly: one
    placeholder of each one's dtype and shape, with ``default_batch_size`` rows."""

    def serving_input_receiver_fn():
        placeholders = {}
        for name, tensor in features.items():
            shape = [default_batch_size, *tensor.shape.as_list()[1:]]
            placeholders[name] = tf.placeholder(tensor.dtype, shape, name=name)
        return ServingInputReceiver(placeholders, placeholders)

    return serving_input_receiver_fn


__all__ = ["ServingInputReceiver", "build_raw_serving_input_receiver_fn"]
