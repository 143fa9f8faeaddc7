"""Golden values of the lesson's defaults: recorded once, checked on every TensorFlow release.

``goldens.json`` holds, for each stage of ``run_lesson()`` with the lesson's defaults, a
SHA-256 of its dtype, shape and bytes, plus the final centroids in full (the values the
shared tutorial README publishes) and the TensorFlow version they were recorded with.
``python tests/goldens.py`` records them again on the installed TensorFlow; nothing else
writes them.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

PATH = Path(__file__).with_name("goldens.json")


def digest(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes: equal digests mean bit-identical arrays."""
    header = f"{array.dtype.str}{array.shape}".encode()
    return hashlib.sha256(header + np.ascontiguousarray(array).tobytes()).hexdigest()


def load() -> dict:
    return json.loads(PATH.read_text())


def _record() -> None:
    import tensorflow as tf

    import tf1_graph

    result = tf1_graph.run_lesson()
    goldens = load() if PATH.exists() else {}
    goldens.update(
        tensorflow=tf.__version__,
        final_centroids=[[float(str(v)) for v in row] for row in result.final_centroids],
        stages={stage: digest(array) for stage, array in result.stages()},
    )
    PATH.write_text(json.dumps(goldens, indent=2) + "\n")


if __name__ == "__main__":
    _record()
