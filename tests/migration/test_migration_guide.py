"""docs/MIGRATION.md stays complete and true: every TF1 name used is covered, every link works."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "MIGRATION.md").read_text()
pytestmark = pytest.mark.parity  # the guide is about both packages

LINK = re.compile(r"\[`(test_\w+)`\]\(\.\./(tests/[\w/]+\.py)\)")


def tf_names_used_by_tf1_graph():
    """Every ``tf.<name>`` in tf1_graph's code (the lesson and the engine's drivers; the
    drop-in has a table of its own), plus the Graph and Session methods it calls."""
    names = set()
    package = ROOT / "tf1_graph"
    for path in [*package.glob("*.py"), *(package / "engine").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "tf":
                    names.add(f"tf.{node.attr}")
                elif node.value.id in ("graph", "session"):
                    names.add(f"{node.value.id}.{node.attr}")
    return names


def guide_rows():
    """The rows of the construct-by-construct table (header and rule left out)."""
    table = GUIDE.split("## Construct by construct", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    return rows[2:]


@pytest.mark.parametrize("name", sorted(tf_names_used_by_tf1_graph()))
def test_every_tf1_construct_used_is_in_the_guide(name):
    assert any(f"`{name}" in row.split(" | ")[0] for row in guide_rows()), name


def test_the_list_of_constructs_is_not_empty():
    assert {"tf.random_normal", "tf.Session", "session.run"} <= tf_names_used_by_tf1_graph()


def test_every_row_links_a_test():
    rows = guide_rows()
    assert len(rows) >= 15
    for row in rows:
        assert LINK.search(row.split(" | ")[-1]), row[:80]


@pytest.mark.parametrize(("test_name", "path"), sorted(set(LINK.findall(GUIDE))))
def test_every_linked_test_exists(test_name, path):
    tree = ast.parse((ROOT / path).read_text())
    defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert test_name in defined, f"{path} has no {test_name}"


def estimator_rows():
    """The rows of the "From the KMeans estimator" table."""
    table = GUIDE.split("## From the KMeans estimator", 1)[1].split("\n## ", 1)[0]
    return [line for line in table.splitlines() if line.startswith("| ")][2:]


def estimator_names():
    """Every constructor argument and public method of the drop-in (the estimator's)."""
    import inspect

    from tf1_graph.estimator import KMeans

    arguments = [name for name in inspect.signature(KMeans).parameters]
    methods = [
        name
        for name, member in vars(KMeans).items()
        if callable(member) and not name.startswith("_")
    ]
    return arguments + methods


def test_the_estimator_list_is_not_empty():
    names = estimator_names()
    assert {"num_clusters", "relative_tolerance", "train", "export_saved_model"} <= set(names)


@pytest.mark.parametrize("name", estimator_names())
def test_every_estimator_argument_and_method_has_a_row(name):
    assert any(re.search(rf"`{name}\b", row.split(" | ")[0]) for row in estimator_rows()), name


def test_every_estimator_row_links_a_test():
    for row in estimator_rows():
        assert LINK.search(row.split(" | ")[-1]), row[:80]
