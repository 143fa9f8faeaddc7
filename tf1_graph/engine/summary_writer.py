"""TensorBoard scalars of a fit (``log_dir``), with TF1's ``FileWriter``.

Twin: ``tf2_eager/engine/summary_writer.py`` (TF2's ``tf.summary`` writer). Both write
TensorFlow's event files, which TensorBoard reads alike.
"""

from __future__ import annotations

import os

import tensorflow.compat.v1 as tf


class Writer:
    """Scalars written to an event file in ``log_dir``, flushed as they come: each a
    ``tf.Summary`` proto of one ``simple_value``, as TF1's summary ops made them."""

    def __init__(self, log_dir):
        with tf.Graph().as_default():  # FileWriter refuses to be made in eager mode
            self.writer = tf.summary.FileWriter(os.fspath(log_dir))

    def scalar(self, tag: str, step: int, value: float) -> None:
        summary = tf.Summary(value=[tf.Summary.Value(tag=tag, simple_value=value)])
        self.writer.add_summary(summary, step)
        self.writer.flush()
