"""The project's sessions; ``nox -l`` lists them, each with its line.

``nox`` runs the defaults: lint, typecheck, the shared tests against each implementation,
parity, scikit-learn's own suite and the clusters of processes. ``nox -s demo`` runs the
main job; the others (the older TensorFlow releases, the real estimator, the upgrade tool,
benchmarks, the lesson notebook) are run by name, as ``.ci/run`` and CONTRIBUTING say.
Environments are reused between runs (``reuse_venv``) and built with uv when it is there,
which links TensorFlow from uv's cache instead of unpacking ~570 MB again for every session.
"""

import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typecheck", "tests", "parity", "sklearn", "distributed"]

QUIET_TF = {"TF_CPP_MIN_LOG_LEVEL": "2"}
# Two pytest workers (pytest-xdist): much of a test's time is Python building graphs and
# tracing functions, which one core does while TensorFlow's ops use the other.
TWO_WORKERS = ("-n", "2")
PYTHON = "3.11"  # the one Python the project supports and CI has
# Test and lint tools at pinned versions (TensorFlow and numpy are left free: see the file).
CONSTRAINTS = ("-c", "constraints.txt")
# Oldest supported to newest, every minor release between (Python 3.11 wheels exist for all).
TENSORFLOW_RELEASES = ["2.16.2", "2.17.1", "2.18.1", "2.19.1", "2.20.0", "2.21.0"]
# The default sessions test the newest release; the ``tensorflow`` matrix the older ones, so
# that no release runs the whole suite twice.
*OLDER_RELEASES, NEWEST_RELEASE = TENSORFLOW_RELEASES


def _install_with_tests(session: nox.Session, release: str = NEWEST_RELEASE) -> None:
    """Install the project (not editable: the tests see what a user would) with test extras,
    on one TensorFlow release."""
    session.install(".[test]", f"tensorflow=={release}", *CONSTRAINTS)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install("ruff", *CONSTRAINTS)
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")


# The numpy whose type stubs the type checker reads (the one TensorFlow's newest release
# installs with, here): pinned, so that a new numpy cannot turn CI red by its stubs alone.
TYPED_NUMPY = "numpy==2.4.6"


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Check the engine's contracts with mypy (setup.cfg's [mypy]: strict on the Protocols
    and what uses them, every function body checked in the engine and both drivers)."""
    session.install("mypy", TYPED_NUMPY, *CONSTRAINTS)
    session.run("mypy", *session.posargs)


@nox.session(python=PYTHON)
@nox.parametrize("impl", ["tf1", "tf2"], ids=["tf1", "tf2"])
def tests(session: nox.Session, impl: str) -> None:
    """Run the shared behavioural tests against one implementation."""
    _install_with_tests(session)
    marks = "not parity and not distributed and not estimator"
    session.run(
        "pytest", *TWO_WORKERS, "-m", marks, f"--impl={impl}", *session.posargs, env=QUIET_TF
    )


@nox.session(python=PYTHON)
def parity(session: nox.Session) -> None:
    """Compare the two implementations bit for bit and test every TF1/TF2 claim."""
    _install_with_tests(session)
    marks = "parity and not estimator"
    session.run("pytest", *TWO_WORKERS, "-m", marks, *session.posargs, env=QUIET_TF)


# scikit-learn's default seed for its seeded tests, then the seeds the suite must also pass.
SKLEARN_SEEDS = [None, "0-4"]


@nox.session(python=PYTHON)
@nox.parametrize("impl", ["tf1", "tf2"], ids=["tf1", "tf2"])
def sklearn(session: nox.Session, impl: str) -> None:
    """Run scikit-learn's own test_k_means.py and test_bisect_k_means.py, unmodified,
    against one package (what is left out, and why: tests/sklearn_suite.py)."""
    _install_with_tests(session)
    suite = ["-c", "tests/sklearn_suite.ini", "--rootdir", session.create_tmp()]
    for seeds in SKLEARN_SEEDS:
        # scikit-learn skips its float32 cases unless asked; ours run in float32 too.
        env = {**QUIET_TF, "KMEANS_SUITE_IMPL": impl, "PYTHONPATH": "tests"}
        env["SKLEARN_RUN_FLOAT32_TESTS"] = "1"
        if seeds is not None:
            # Only the tests that take the seed: the others ran, the same, on the default.
            env["SKLEARN_TESTS_GLOBAL_RANDOM_SEED"] = seeds
            env["KMEANS_SUITE_SEEDED_ONLY"] = "1"
        files = ["sklearn.cluster.tests.test_k_means", "sklearn.cluster.tests.test_bisect_k_means"]
        args = ["--pyargs", *files, *session.posargs]
        session.run("pytest", *TWO_WORKERS, *suite, *args, env=env)


@nox.session(python=PYTHON, default=False)
@nox.parametrize("release", OLDER_RELEASES, ids=[r.rsplit(".", 1)[0] for r in OLDER_RELEASES])
def tensorflow(session: nox.Session, release: str) -> None:
    """Run the tests on one older TensorFlow release: on the oldest, the shared and parity
    tests but those about our own surface (``RELEASE_INDEPENDENT`` in tests/conftest.py); on
    the releases between it and the newest, the parity tests, the promise made for every
    release (their behaviour is bracketed by the oldest's and the newest's full runs, which
    keeps CI within its time). The newest release runs every test in the default sessions,
    the clusters of processes in ``distributed``."""
    _install_with_tests(session, release)
    marks = "not distributed and not estimator and not release_independent"
    if release != OLDER_RELEASES[0]:
        marks += " and parity"
    session.run("pytest", *TWO_WORKERS, "-m", marks, *session.posargs, env=QUIET_TF)


@nox.session(python=PYTHON)
def distributed(session: nox.Session) -> None:
    """Fit over clusters of real processes on loopback (MirroredStrategy, MultiWorker-
    MirroredStrategy, TF1's train.Server) against one process, and a 2.4 GiB memmap."""
    _install_with_tests(session)
    env = {**QUIET_TF, "KMEANS_DISTRIBUTED_REQUIRED": "1"}
    # Two workers, a test file each at a time (its clusters are its module's fixtures): much
    # of a cluster's time is waiting, for start-up, heartbeats and a lost peer's timeout.
    workers = (*TWO_WORKERS, "--dist", "loadfile")
    session.run("pytest", *workers, "tests/distributed", *session.posargs, env=env)


@nox.session(python=PYTHON, default=False)
def faults(session: nox.Session) -> None:
    """Kill streamed KMeans and MiniBatchKMeans fits with SIGKILL at 25 seeded random
    moments each, in one process and on two MWMS workers, and start them again: every fit
    must end bit-identical to the fit never stopped (~25 min; tests/distributed/random_kills.py).
    Arguments go to the script (``--kills``, ``--seed``, ``--scenarios``)."""
    _install_with_tests(session)
    session.run("python", "tests/distributed/random_kills.py", *session.posargs, env=QUIET_TF)


# The last release with tf.estimator, and the estimator package that matches it.
ESTIMATOR_REFERENCE = ("tensorflow==2.15.1", "tensorflow-estimator==2.15.0", "numpy<2")
REFERENCE_RESULTS = Path("build") / "estimator" / "reference.npz"


@nox.session(python=PYTHON, default=False)
def estimator_reference(session: nox.Session) -> None:
    """Run tests/estimator/estimator_scenarios.py on TensorFlow's real KMeans estimator (TF 2.15),
    in an environment of its own; its results are what ``estimator`` compares with."""
    session.install(*ESTIMATOR_REFERENCE)
    REFERENCE_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    scenarios = "tests/estimator/estimator_scenarios.py"
    session.run("python", scenarios, str(REFERENCE_RESULTS), env=QUIET_TF)


@nox.session(python=PYTHON, default=False, requires=["estimator_reference"])
def estimator(session: nox.Session) -> None:
    """The same scenarios on tf1_graph.estimator, the drop-in, compared with the real one."""
    _install_with_tests(session)
    env = {**QUIET_TF, "KMEANS_ESTIMATOR_REFERENCE": str(REFERENCE_RESULTS.resolve())}
    session.run("pytest", "-m", "estimator", *session.posargs, env=env)


@nox.session(python=PYTHON, default=False)
def upgrade(session: nox.Session) -> None:
    """Run tf_upgrade_v2 on a copy of tf1_graph, show its report, run the upgraded exercise 2."""
    session.install(".")
    work = Path(session.create_tmp()).resolve() / "upgrade"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree("tf1_graph", work / "original" / "tf1_graph")
    session.run(
        "tf_upgrade_v2",
        "--intree", str(work / "original"),
        "--outtree", str(work / "upgraded"),
        "--reportfile", str(work / "report.txt"),
        silent=True,
    )  # fmt: skip
    session.log((work / "report.txt").read_text())
    session.chdir(work)  # so that `tf1_graph` below is the upgraded copy, not the original
    env = {**QUIET_TF, "PYTHONPATH": str(work / "upgraded")}
    session.run("python", "-m", "tf1_graph.exercise2_iterate", "upgraded.png", env=env)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Time both packages against scikit-learn, scikit-learn-intelex and faiss, their
    design choices, streamed fits, clusters and scikit-learn's family (elkan, bisecting);
    write docs/BENCHMARKS.md and SCALING.md (~2 h 25 min). Arguments: which scripts (run,
    ablations, peers, workflows, streaming, ordered, scaling, failures, family), all by
    default."""
    session.install(".[test,bench]", *CONSTRAINTS)
    scripts = ["run", "ablations", "peers", "workflows", "streaming", "ordered", "scaling"]
    scripts += ["failures", "family"]
    # workflows.py also measures XLA's persistent cache, in a directory of the session's.
    options = {"workflows": ["--cache", str(Path(session.create_tmp()) / "xla-cache")]}
    for script in session.posargs or scripts:
        session.run("python", f"benchmarks/{script}.py", *options.get(script, []), env=QUIET_TF)


@nox.session(python=PYTHON, default=False)
def lesson_notebook(session: nox.Session) -> None:
    """Execute docs/lesson.ipynb and save it with its outputs (the tests execute a copy)."""
    _install_with_tests(session)
    session.run("python", "tests/run_notebook.py", "docs/lesson.ipynb", env=QUIET_TF)


@nox.session(python=PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """Run the main job: both implementations, the parity table and the plot (kmeans.png)."""
    session.install(".")
    session.run("kmeans-tutorial", "compare", *session.posargs)
