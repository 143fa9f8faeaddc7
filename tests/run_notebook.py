"""Execute ``docs/lesson.ipynb`` in a fresh kernel (nbclient), failing on the first error.

    python tests/run_notebook.py docs/lesson.ipynb   # executes it and saves its outputs

The test (``test_docs.py``) executes a copy and saves nothing; the nox session
``lesson_notebook`` saves the outputs a reader sees on the page, TensorFlow's start-up log
lines left out (they name this machine's paths).
"""

import sys
from pathlib import Path

import nbclient
import nbformat


def execute(path: Path, timeout: int = 600):
    """The notebook at ``path``, executed in its folder; ``CellExecutionError`` on an error."""
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    client.execute()
    return notebook


def without_logs(notebook):
    """The notebook without stderr streams or TensorFlow's logger lines."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                output
                for output in cell.outputs
                if not (
                    output.output_type == "stream"
                    and (output.name == "stderr" or output.text.startswith("WARNING:tensorflow"))
                )
            ]
    return notebook


if __name__ == "__main__":
    target = Path(sys.argv[1])
    nbformat.write(without_logs(execute(target)), target)
