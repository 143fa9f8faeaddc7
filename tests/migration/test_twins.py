"""The lesson's twin modules read as their migration: every code line of ``tf2_eager/X.py``
that differs from ``tf1_graph/X.py`` carries ``# TF2:`` (on the line, or in the comment block
right above it). Docstrings and comments are prose, not code; the package's own name
(``tf1_graph`` for ``tf2_eager``) is not a difference; indentation is not either (a TF1
``with graph.as_default():`` block is plain code in TF2).

The engine's drivers (``engine/kmeans.py``, ``engine/distributed.py``) are two designs, not a
line-by-line port: docs/MIGRATION.md says where and why, row by row.
"""

import difflib
import io
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSON_MODULES = [
    "functions",
    "runner",
    "step1_generate_samples",
    "step2_initial_centroids",
    "step3_one_iteration",
    "exercise2_iterate",
]
PROSE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
STATEMENT_START = {None, tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE, tokenize.NL}


def code_lines(source: str) -> list[tuple[int, str]]:
    """``(line number, code)`` for each line holding code: docstrings, comments and
    indentation left out, ``tf1_graph`` read as ``tf2_eager``."""
    rows, previous = set(), None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING and previous in STATEMENT_START:
            previous = tokenize.STRING  # a string standing alone: a docstring
            continue
        if token.type in PROSE or token.type == tokenize.ENDMARKER:
            if token.type != tokenize.COMMENT:
                previous = token.type
            continue
        previous = token.type
        rows.update(range(token.start[0], token.end[0] + 1))
    lines = source.splitlines()
    return [
        (row, lines[row - 1].split("  #")[0].strip().replace("tf1_graph", "tf2_eager"))
        for row in sorted(rows)
    ]


def marked(lines: list[str], row: int) -> bool:
    """Whether line ``row`` (1-based) or the comment block right above it says ``# TF2:``."""
    if "# TF2:" in lines[row - 1]:
        return True
    above = row - 2
    while above >= 0 and lines[above].strip().startswith("#"):
        if lines[above].strip().startswith("# TF2:"):
            return True
        above -= 1
    return False


def unmarked_lines(tf1_source: str, tf2_source: str) -> list[str]:
    """The TF2 lines that differ from TF1 and say nothing of it."""
    tf1, tf2 = code_lines(tf1_source), code_lines(tf2_source)
    matcher = difflib.SequenceMatcher(
        a=[code for _, code in tf1], b=[code for _, code in tf2], autojunk=False
    )
    lines = tf2_source.splitlines()
    return [
        f"{row}: {lines[row - 1].strip()}"
        for tag, _, _, start, stop in matcher.get_opcodes()
        if tag in ("replace", "insert")
        for row, _ in tf2[start:stop]
        if not marked(lines, row)
    ]


@pytest.mark.parametrize("name", LESSON_MODULES)
def test_every_line_the_port_changes_says_so(name):
    tf1 = (ROOT / "tf1_graph" / f"{name}.py").read_text()
    tf2 = (ROOT / "tf2_eager" / f"{name}.py").read_text()
    assert unmarked_lines(tf1, tf2) == [], f"tf2_eager/{name}.py: mark these lines # TF2:"


def test_the_check_finds_an_unmarked_change_and_passes_the_rest():
    tf1 = (
        '"""TF1."""\n'
        "import tensorflow.compat.v1 as tf\n"
        "from tf1_graph import f\n"
        "x = tf.to_int32(y)\n"
        "z = 1\n"
    )
    tf2 = (
        '"""TF2: another docstring."""\n'
        "import tensorflow as tf\n"  # changed, unmarked
        "from tf2_eager import f\n"  # the package's own name: the same line
        "# TF2: tf.to_int32 is gone\n"
        "x = tf.cast(y, tf.int32)\n"  # marked from above
        "z = 1  # a comment of its own\n"  # the same code
        "w = 2  # TF2: new\n"  # added, marked
    )
    assert unmarked_lines(tf1, tf2) == ["2: import tensorflow as tf"]
    assert set(LESSON_MODULES) <= {path.stem for path in (ROOT / "tf1_graph").glob("*.py")}
