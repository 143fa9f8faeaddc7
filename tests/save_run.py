"""Run implementations in this process, with set thread counts, and save every stage.

    python tests/save_run.py tf1|tf2|tf1,tf2 INTRA_OP_THREADS INTER_OP_THREADS OUT_PREFIX

Each implementation named (in order, one after the other in this process) saves its stages
to ``OUT_PREFIX-<impl>.npz``. Used by ``test_processes.py`` (a fresh process and its own TF
thread pools for each thread setting) and ``test_upgrade_tool.py`` (with the upgraded copy
of ``tf1_graph`` first on the path).
"""

import sys

import numpy as np
import tensorflow as tf

IMPLEMENTATIONS = {"tf1": "tf1_graph", "tf2": "tf2_eager"}


def main(impls: str, intra: str, inter: str, out_prefix: str) -> None:
    """Thread counts of 0 leave TensorFlow's defaults."""
    tf.config.threading.set_intra_op_parallelism_threads(int(intra))
    tf.config.threading.set_inter_op_parallelism_threads(int(inter))
    for impl in impls.split(","):
        module = __import__(IMPLEMENTATIONS[impl])
        result = module.run_lesson()
        assert tf.config.threading.get_intra_op_parallelism_threads() == int(intra)
        np.savez(f"{out_prefix}-{impl}.npz", **{stage: array for stage, array in result.stages()})


if __name__ == "__main__":
    main(*sys.argv[1:])
