"""A fit with a checkpoint directory, killed with SIGKILL, for ``test_killed_fits.py``.

    python killed_fit.py IMPL KIND DATA.npy CHECKPOINT_DIR OUT.npz [--kill-at-pass=P]
                                                                   [--kill-at-step=S]
                                                                   [--kill-in-save=N]

IMPL: ``tf1`` or ``tf2``; KIND: ``kmeans`` or ``minibatch``, fitted on the ``.npy`` file
opened as a memmap. ``--kill-at-pass``: the process kills itself on the first batch of
pass ``P`` (``KMeans``); ``--kill-at-step``: before mini-batch step ``S`` (from 1);
``--kill-in-save``: in the save of checkpoint ``N``, once its files are written and before
the checkpoint index names it. Without these, the fit ends and its result is saved, with
the pass numbers it read batches in (``passes``) and the steps it took (``steps``).
"""

import os
import signal
import sys

import numpy as np

PARAMS = {
    "kmeans": {"n_clusters": 20, "n_init": 2, "max_iter": 8, "random_state": 5},
    "minibatch": {
        "n_clusters": 20,
        "batch_size": 256,
        "max_iter": 4,
        "max_no_improvement": None,
        "checkpoint_steps": 25,
        "random_state": 5,
    },
}


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    impl, kind, data, checkpoint_dir, out = sys.argv[1:6]
    flags = dict(arg[2:].split("=") for arg in sys.argv[6:])
    if "kill-in-save" in flags:
        from tensorflow.python.checkpoint import checkpoint_management

        update = checkpoint_management.update_checkpoint_state_internal
        dying = f"ckpt-{flags['kill-in-save']}"

        def update_or_die(*args, **kwargs):
            named = kwargs.get("model_checkpoint_path", args[1] if len(args) > 1 else "")
            if str(named).endswith(dying):
                die()
            return update(*args, **kwargs)

        checkpoint_management.update_checkpoint_state_internal = update_or_die
    if impl == "tf1":
        import tf1_graph as package
    else:
        import tf2_eager as package
    cls = package.KMeans if kind == "kmeans" else package.MiniBatchKMeans
    estimator = cls(checkpoint_dir=checkpoint_dir, **PARAMS[kind])
    passes, steps = [], []

    def progress(number, *_):
        passes.append(number)
        if number == int(flags.get("kill-at-pass", 0)):
            die()

    estimator._progress = progress
    if kind == "minibatch":
        step = estimator._step

        def counted_step(*args, **kwargs):
            steps.append(1)
            if len(steps) == int(flags.get("kill-at-step", 0)):
                die()
            return step(*args, **kwargs)

        estimator._step = counted_step
    estimator.fit(np.load(data, mmap_mode="r"))
    np.savez(
        out,
        centers=estimator.cluster_centers_,
        labels=estimator.labels_,
        inertia=estimator.inertia_,
        n_iter=estimator.n_iter_,
        passes=np.array(passes),
        steps=len(steps),
    )


if __name__ == "__main__":
    main()
