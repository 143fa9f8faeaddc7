"""Shared fixtures: every behavioural test runs against both packages (ids ``tf1``, ``tf2``).

The tests mirror the layout: ``lesson/`` (the lesson and its parity), ``migration/`` (TF1/TF2
semantics, the migration guide, the upgrade tool, the mirrored API), ``engine/`` (``KMeans``
and ``MiniBatchKMeans``), ``estimator/`` (the drop-in), ``distributed/`` (clusters of
processes; the nox session ``distributed``); ``test_docs.py`` (the README and docs/) and the
shared helpers sit here.

``pytest --impl tf1`` (or ``tf2``) keeps one of them; the nox ``tests`` session uses it.
"""

import importlib
import os

import pytest

from measure import fix_mmap_threshold

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
fix_mmap_threshold()  # so that memory tests see every copy, whatever ran before them

IMPLEMENTATIONS = {"tf1": "tf1_graph", "tf2": "tf2_eager"}


# Modules whose tests are about this project's own surface, not about TensorFlow's
# behaviour: they carry the marker ``release_independent`` and run on the newest release
# (the default sessions), not again on each older one (``nox -s tensorflow``). Every TF op
# they reach is also reached, on every release, by the lesson's, Lloyd's and parity tests.
RELEASE_INDEPENDENT = {
    "test_api.py": "the packages' names, signatures and imports",
    "test_cli.py": "the command line's parsing, messages and files",
    "test_fit_command.py": "the fit command's reading of files and its messages",
    "test_failures.py": "our checks of bad data, interrupts and files, in NumPy and Python",
    "test_migration_guide.py": "a document's rows and links",
    "test_params.py": "parameter checks that run before TensorFlow",
    "test_docs.py": "the README's and docs' examples and links, as a reader meets them",
    "test_scripts.py": "the lesson scripts' printing and plotting around the runner",
    "test_sklearn_checks.py": "scikit-learn's conformance checks of the estimator interface",
    "test_upgrade_tool.py": "tf_upgrade_v2's report, shown by the upgrade session on the newest",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in RELEASE_INDEPENDENT:
            item.add_marker(pytest.mark.release_independent)
        # The folder says it: clusters of processes and the 2.4 GiB memmap run in the
        # nox session "distributed" only.
        if item.path.parent.name == "distributed":
            item.add_marker(pytest.mark.distributed)


def pytest_addoption(parser):
    parser.addoption(
        "--impl",
        choices=["tf1", "tf2", "both"],
        default="both",
        help="which implementation the shared tests run against (default: both)",
    )


def pytest_generate_tests(metafunc):
    if "impl" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("impl")
        ids = list(IMPLEMENTATIONS) if chosen == "both" else [chosen]
        metafunc.parametrize("impl", ids, ids=ids, indirect=True)


@pytest.fixture
def impl(request):
    """The package under test: ``tf1_graph`` or ``tf2_eager``."""
    return importlib.import_module(IMPLEMENTATIONS[request.param])


@pytest.fixture
def tf1():
    return importlib.import_module("tf1_graph")


@pytest.fixture
def tf2():
    return importlib.import_module("tf2_eager")


@pytest.fixture
def run_lesson(impl):
    """The runner of the package under test."""
    return impl.run_lesson


@pytest.fixture
def evaluate(impl):
    """Call one of ``impl``'s lesson functions and return NumPy values.

    ``tf1_graph``'s functions build ops, run here in a private graph and ``Session``;
    ``tf2_eager``'s compute eager tensors.
    """

    def call(function_name, *args):
        import tensorflow as tf

        function = getattr(impl, function_name)
        if impl.__name__ == "tf2_eager":
            return function(*args).numpy()
        graph = tf.Graph()
        with graph.as_default():
            fetch = function(*args)
        with tf.compat.v1.Session(graph=graph) as session:
            return session.run(fetch)

    return call


@pytest.fixture(params=["uncompiled", "compiled"])
def form(request, monkeypatch):
    """Runs a test with dense programs in each form (``lloyd_ops.compiles``): plain ops,
    as small data runs, and XLA computations, as larger data runs. Both drivers keep the
    compiled programs (one a shape) apart from the plain ones (one for any shape), so
    neither reuses a program of the other form."""
    from kmeans_tutorial.engine import lloyd_ops

    threshold = 2**62 if request.param == "uncompiled" else -1
    monkeypatch.setattr(lloyd_ops, "UNCOMPILED_WORK", threshold)
    return request.param
