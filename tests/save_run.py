"""Run one implementation in this process, with set thread counts, and save every stage.

    python tests/save_run.py tf1|tf2 INTRA_OP_THREADS INTER_OP_THREADS OUT.npz

Used by ``test_processes.py`` (each run gets a fresh process and its own TF thread pools)
and ``test_upgrade_tool.py`` (with the upgraded copy of ``tf1_graph`` first on the path).
"""

import sys

import numpy as np
import tensorflow as tf

IMPLEMENTATIONS = {"tf1": "tf1_graph", "tf2": "tf2_eager"}


def main(impl: str, intra: str, inter: str, out: str) -> None:
    """Thread counts of 0 leave TensorFlow's defaults."""
    tf.config.threading.set_intra_op_parallelism_threads(int(intra))
    tf.config.threading.set_inter_op_parallelism_threads(int(inter))
    module = __import__(IMPLEMENTATIONS[impl])
    result = module.run_lesson()
    assert tf.config.threading.get_intra_op_parallelism_threads() == int(intra)
    np.savez(out, **{stage: array for stage, array in result.stages()})


if __name__ == "__main__":
    main(*sys.argv[1:])
