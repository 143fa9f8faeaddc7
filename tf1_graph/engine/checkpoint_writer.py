"""A fit's checkpoints with TF1's machinery: ``tf.compat.v1.train.Saver`` in a graph.

Twin: ``tf2_eager/engine/checkpoint_writer.py`` (TF2's ``tf.train.Checkpoint`` and
``CheckpointManager``). What is saved and when is shared
(``kmeans_tutorial.engine.checkpoints``); this module only writes and reads. The values
are fed to the variables' initializers, then the ``Saver`` writes them: TF1 has no eager
variable to assign from the host.
"""

from __future__ import annotations

import os

import tensorflow.compat.v1 as tf

from kmeans_tutorial.engine import checkpoints


class Writer:
    """Checkpoints ``ckpt-N`` in ``directory``, the last ``checkpoints.KEEP`` kept."""

    def __init__(self, directory):
        self.directory = os.fspath(directory)
        self.session: tf.Session | None = None

    def _build(self, values) -> tf.Session:
        """The graph of variables fed ``values``' shapes and dtypes, its saver, its session."""
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.feeds, variables = {}, {}
            for name, value in values.items():
                self.feeds[name] = tf.placeholder(tf.as_dtype(value.dtype), value.shape)
                variables[name] = tf.Variable(self.feeds[name], name=name)
            self.initializer = tf.variables_initializer(list(variables.values()))
            self.saver = tf.train.Saver(
                variables, max_to_keep=checkpoints.KEEP, save_relative_paths=True
            )
        self.session = tf.Session(graph=self.graph)
        state = tf.train.get_checkpoint_state(self.directory)
        if state is not None:  # older checkpoints count towards those kept
            self.saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
        return self.session

    def save(self, values, number):
        session = self.session if self.session is not None else self._build(values)
        feed = {self.feeds[name]: value for name, value in values.items()}
        session.run(self.initializer, feed)
        prefix = os.path.join(self.directory, "ckpt")
        with self.graph.as_default():  # else Saver.save saves eagerly, not with its graph
            return self.saver.save(session, prefix, global_step=number, write_meta_graph=False)

    def read(self, path):
        reader = tf.train.NewCheckpointReader(path)
        values = {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()}
        return checkpoints.normalized(values)

    def __del__(self):
        if self.session is not None:
            self.session.close()
