"""A fit's checkpoints with TF2's object-based machinery: ``tf.train.Checkpoint`` and
``tf.train.CheckpointManager``.

Twin: ``tf1_graph/engine/checkpoint_writer.py`` (TF1's name-based ``Saver``). What is saved and
when is shared (``kmeans_tutorial.engine.checkpoints``); this module only writes and reads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import tensorflow as tf

from kmeans_tutorial.engine import checkpoints


class Writer:
    """Checkpoints ``ckpt-N`` in ``directory``, the last ``checkpoints.KEEP`` kept."""

    def __init__(self, directory):
        self.directory = os.fspath(directory)
        self.variables: dict[str, tf.Variable] = {}
        self.manager = None
        # Saves run on a thread of their own, outside any strategy's scope (a scope holds
        # for its thread only): under MultiWorkerMirroredStrategy the chief alone saves,
        # and variables made in the scope would be mirrored, their saving a collective the
        # other workers never join.
        self.thread = ThreadPoolExecutor(1)

    def save(self, values, number):
        return self.thread.submit(self._save, values, number).result()

    def _save(self, values, number):
        if self.manager is None:  # the first save makes the variables: their shapes are fixed
            self.variables = {name: tf.Variable(value) for name, value in values.items()}
            self.manager = tf.train.CheckpointManager(
                tf.train.Checkpoint(**self.variables),
                self.directory,
                max_to_keep=checkpoints.KEEP,
                checkpoint_name="ckpt",
            )
        else:
            for name, value in values.items():
                self.variables[name].assign(value)
        return self.manager.save(checkpoint_number=number)

    def read(self, path):
        reader = tf.train.load_checkpoint(path)
        values = {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()}
        return checkpoints.normalized(values)
