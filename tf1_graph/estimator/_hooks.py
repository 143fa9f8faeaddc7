"""The session run hooks of the estimator's ``train``, ``evaluate`` and ``predict``: what
``tf.estimator`` and the k-means ``model_fn`` put around a ``MonitoredSession``, and the
step's read the hooks share."""

from __future__ import annotations

import tensorflow.compat.v1 as tf

# The collection in which a graph keeps the read of its global step that TensorFlow's own
# hooks fetch (``SummarySaverHook`` and ``StepCounterHook`` write summaries at the step it
# says): ``tf.estimator`` made it before the model, so that it reads the step before each
# run's update.
GLOBAL_STEP_READ = "global_step_read_op_cache"


def global_step_read(global_step):
    """The graph's read of ``global_step`` that the hooks fetch, made once: its value (its
    initial value until it is initialised) plus 0, so a tensor of its own."""
    cached = tf.get_collection(GLOBAL_STEP_READ)
    if cached:
        return cached[0]
    graph = tf.get_default_graph()
    with graph.name_scope(None), graph.name_scope(global_step.op.name + "/"):
        value = tf.cond(
            tf.is_variable_initialized(global_step),
            global_step.read_value,
            lambda: global_step.initial_value,
        )
        read = value + 0
    tf.add_to_collection(GLOBAL_STEP_READ, read)
    return read


class IteratorInitializerHook(tf.train.SessionRunHook):
    """Initialises a dataset's iterator when the session is made."""

    def __init__(self, iterator):
        self.iterator = iterator

    def after_create_session(self, session, coord):
        session.run(self.iterator.initializer)


class InitializeClustersHook(tf.train.SessionRunHook):
    """Runs the initialisation op until every centre is chosen (each run may read a new
    batch), as the estimator's hook did on its chief."""

    def __init__(self, init_op, initialized):
        self.init_op, self.initialized = init_op, initialized

    def after_create_session(self, session, coord):
        while not session.run(self.initialized):
            session.run(self.init_op)


class LossRelativeChangeHook(tf.train.SessionRunHook):
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


class CheckpointHook(tf.train.SessionRunHook):
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


class StopAfterRunsHook(tf.train.SessionRunHook):
    """Stops after ``runs`` session runs (evaluate's ``steps``)."""

    def __init__(self, runs):
        self.runs, self.done = runs, 0

    def after_run(self, run_context, run_values):
        self.done += 1
        if self.done >= self.runs:
            run_context.request_stop()
