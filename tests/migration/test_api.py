"""The two packages mirror each other, and tf2_eager stands alone."""

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TF1, TF2 = ROOT / "tf1_graph", ROOT / "tf2_eager"
# The lesson's modules and the engine's drivers (the drop-in, tf1_graph/estimator/, has no twin).
TWIN_MODULES = sorted(
    path.relative_to(TF1).with_suffix("").as_posix().replace("/", ".")
    for path in [*TF1.glob("[!_]*.py"), *(TF1 / "engine").glob("[!_]*.py")]
)

pytestmark = pytest.mark.parity  # needs both packages


def public_signatures(package):
    return {name: inspect.signature(getattr(package, name)) for name in package.__all__}


def test_both_packages_export_the_same_names_with_the_same_signatures(tf1, tf2):
    assert tf1.__all__ == tf2.__all__
    assert public_signatures(tf1) == public_signatures(tf2)


@pytest.mark.parametrize("name", TWIN_MODULES)
def test_every_tf1_module_has_a_twin_with_the_same_functions(name):
    twin = f"{name.replace('.', '/')}.py"
    assert (TF2 / twin).exists(), f"tf2_eager/{twin} is missing"
    tf1_module = importlib.import_module(f"tf1_graph.{name}")
    tf2_module = importlib.import_module(f"tf2_eager.{name}")
    own = lambda m: {  # noqa: E731
        n: inspect.signature(f)
        for n, f in vars(m).items()
        if inspect.isfunction(f) and f.__module__ == m.__name__ and not n.startswith("_")
    }
    assert own(tf1_module) == own(tf2_module)


def code_without_docstrings(path):
    """The names and attributes a module's code uses (docstrings and comments excluded)."""
    tree = ast.parse(path.read_text())
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            used.add(node.module or "")
            used.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            used.update(alias.name for alias in node.names)
    return used


TF2_FILES = sorted(TF2.rglob("*.py"))


@pytest.mark.parametrize("path", TF2_FILES, ids=lambda p: p.relative_to(TF2).as_posix())
def test_tf2_code_uses_no_tf1_api(path):
    used = code_without_docstrings(path)
    modules = {name for name in used if "." in name or name.startswith("tf1")}
    assert not any(name.startswith(("tf1_graph", "tensorflow.compat")) for name in modules)
    forbidden = {
        "compat",
        "v1",
        "Session",
        "to_int32",
        "placeholder",
        "global_variables_initializer",
    }
    assert not used & forbidden, sorted(used & forbidden)


ALL_FILES = sorted(
    p for p in ROOT.rglob("*.py") if ".nox" not in p.parts and "build" not in p.parts
)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_code_switches_the_whole_process_to_graph_mode(path):
    used = code_without_docstrings(path)
    assert not used & {"disable_eager_execution", "disable_v2_behavior"}


def test_tf2_eager_never_imports_tf1_graph():
    code = (
        "import sys, tf2_eager, tf2_eager.runner\n"
        "import tf2_eager.step1_generate_samples, tf2_eager.exercise2_iterate\n"
        "sys.exit('tf1_graph' in sys.modules)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True).returncode == 0
    )


@pytest.mark.parametrize("package", ["tf1_graph", "tf2_eager"])
def test_the_lesson_does_not_import_the_engine(package):
    """``import tf1_graph`` (or a lesson module) loads the lesson alone; ``KMeans`` and the
    rest load the engine on first use."""
    code = (
        f"import sys, {package}, {package}.runner, {package}.exercise2_iterate\n"
        "engine = [m for m in sys.modules if m.startswith(('kmeans_tutorial.engine',"
        f" '{package}.engine', '{package}.estimator'))]\n"
        "assert not engine, engine\n"
        f"from {package} import KMeans\n"
        f"assert KMeans.__module__ == '{package}.engine.kmeans'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
