"""TensorBoard scalars of a fit (``log_dir``), with TF2's ``tf.summary`` writer.

Twin: ``tf1_graph/engine/summary_writer.py`` (TF1's ``FileWriter`` and ``Summary`` protos).
Both write TensorFlow's event files, which TensorBoard reads alike. ``tf.summary.scalar``
itself is TensorBoard's (it fails without the ``tensorboard`` package, which TensorFlow no
longer installs); its core, ``tf.summary.write`` of a float32 tensor marked for the
scalars plugin, is TensorFlow's.
"""

from __future__ import annotations

import os

import tensorflow as tf
from tensorflow.core.framework import summary_pb2

# What tells TensorBoard a summary is a scalar: its plugin's name, and its data class.
SCALAR = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
    data_class=summary_pb2.DATA_CLASS_SCALAR,
)


class Writer:
    """Scalars written to an event file in ``log_dir``, flushed as they come."""

    def __init__(self, log_dir):
        self.writer = tf.summary.create_file_writer(os.fspath(log_dir))

    def scalar(self, tag: str, step: int, value: float) -> None:
        with self.writer.as_default():
            tf.summary.write(tag, tf.constant(value, tf.float32), step=step, metadata=SCALAR)
        self.writer.flush()
