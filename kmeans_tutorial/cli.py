"""``kmeans-tutorial``: run the lesson with either implementation, or compare the two.

    kmeans-tutorial run --impl tf1 --iterations 5
    kmeans-tutorial compare --seed 1 --plot compare.png
    kmeans-tutorial fit data.npy --n-clusters 8   (your own data: ``fit_command``)

TensorFlow is imported only once the arguments are parsed, so ``--help`` is instant.
Bad parameters end with one line on stderr and exit status 2, before any work where they
can be known before it: values out of range, a lesson too large for this machine's
memory, an output path that cannot be written, iterations to draw that the run will not
have. So does a run that leaves a cluster empty. Each is an ``InvalidParameterError``, the
only error turned into one line: anything else is a bug and shows its traceback. A compare
that finds any stage not bit-identical exits with status 1; Ctrl-C ends with one line and
status 130.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kmeans_tutorial import fit_command
from kmeans_tutorial.params import LESSON_DEFAULTS, LessonParams, check_params
from kmeans_tutorial.validation import InvalidParameterError

IMPLEMENTATIONS = {"tf1": "tf1_graph", "tf2": "tf2_eager"}
DEFAULT_PLOT = "kmeans.png"


def _add_lesson_flags(parser: argparse.ArgumentParser) -> None:
    defaults = LESSON_DEFAULTS
    group = parser.add_argument_group("lesson parameters (defaults are the lesson's)")
    group.add_argument("--n-clusters", type=int, default=defaults.n_clusters, metavar="K")
    group.add_argument(
        "--n-samples-per-cluster", type=int, default=defaults.n_samples_per_cluster, metavar="N"
    )
    group.add_argument("--n-features", type=int, default=defaults.n_features, metavar="D")
    group.add_argument(
        "--embiggen-factor",
        type=float,
        default=defaults.embiggen_factor,
        metavar="F",
        help="spread of the generated centres (default: %(default)s)",
    )
    group.add_argument("--seed", type=int, default=defaults.seed, help="default: %(default)s")
    group.add_argument(
        "--centroid-seed",
        type=int,
        default=defaults.centroid_seed,
        metavar="SEED",
        help="seed of the initial-centroid shuffle (default: --seed)",
    )
    group.add_argument(
        "--tol",
        type=float,
        default=defaults.tol,
        metavar="TOL",
        help="stop early once converged, tol relative to the samples' variance "
        "(default: run every iteration, as the lesson does)",
    )
    group.add_argument(
        "--iterations",
        dest="n_iterations",
        type=int,
        default=defaults.n_iterations,
        metavar="N",
        help="default: %(default)s",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--plot",
        default=DEFAULT_PLOT,
        metavar="PNG",
        help="where to save the lesson's plot (default: %(default)s)",
    )
    output.add_argument("--no-plot", action="store_true", help="do not draw the plot")
    output.add_argument(
        "--verbose", action="store_true", help="let TensorFlow's own log messages through"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; builds nothing heavy."""
    parser = argparse.ArgumentParser(
        prog="kmeans-tutorial",
        description="The TensorFlow 1 k-means lesson, in graph mode (tf1) and TF2 eager (tf2).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run the lesson with one implementation and print its final centroids"
    )
    run.add_argument(
        "--impl",
        choices=sorted(IMPLEMENTATIONS),
        default="tf2",
        help="tf1 = tf1_graph (graph + Session), tf2 = tf2_eager (default: %(default)s)",
    )
    _add_lesson_flags(run)
    progress = commands.add_parser(
        "progress", help="per-iteration inertia and centroid shift, and the run drawn as it goes"
    )
    progress.add_argument("--impl", choices=sorted(IMPLEMENTATIONS), default="tf2")
    progress.add_argument(
        "--at",
        default=None,
        metavar="I,J,...",
        help="iterations to draw (0: the initial centroids; default: 0, 1, 2 and the last)",
    )
    _add_lesson_flags(progress)
    compare = commands.add_parser(
        "compare", help="run both implementations and compare every stage bit for bit"
    )
    compare.add_argument(
        "--naive",
        action="store_true",
        help="also run the line-by-line eager port (tf2_eager.naive_port) and show where "
        "it diverges",
    )
    _add_lesson_flags(compare)
    fit_command.add_parser(commands)
    return parser


def _params_from(args: argparse.Namespace) -> LessonParams:
    names = [field.name for field in dataclasses.fields(LessonParams)]
    return check_params(LessonParams(**{name: getattr(args, name) for name in names}))


def _check_output_path(path: str) -> None:
    """A PNG can be written at ``path``: its folder exists and is writable."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InvalidParameterError(f"--plot={path!r} is a directory; give a file name.")
    if not folder.is_dir():
        raise InvalidParameterError(f"--plot={path!r}: the folder {str(folder)!r} does not exist.")
    if not os.access(folder, os.W_OK):
        raise InvalidParameterError(f"--plot={path!r}: the folder {str(folder)!r} is not writable.")


def _parse_at(args: argparse.Namespace, params: LessonParams) -> list[int] | None:
    """``--at`` as iterations, each one the run can have (at most ``--iterations``)."""
    from kmeans_tutorial.plotting import check_iterations

    if args.at is None:
        return None
    try:
        at = [int(part) for part in args.at.split(",")]
    except ValueError:
        raise InvalidParameterError(
            f"--at={args.at!r} should be iterations separated by commas."
        ) from None
    check_iterations("--at", at, params.n_iterations)
    return at


def _check_request(args: argparse.Namespace, params: LessonParams) -> None:
    """Everything about the request that can be checked before the lesson runs."""
    if args.command == "progress":  # a bad --at is refused even when nothing is drawn
        _parse_at(args, params)
    if not args.no_plot and params.n_features >= 2:
        _check_output_path(args.plot)


NAIVE = "naive eager port"


def _run(implementation: str, params: LessonParams):
    name = "tf2_eager.naive_port" if implementation == NAIVE else IMPLEMENTATIONS[implementation]
    return importlib.import_module(name).run_lesson(params)


def _execute(args: argparse.Namespace, params: LessonParams) -> int:
    from kmeans_tutorial.report import format_centroids, format_divergence, format_parity_table
    from kmeans_tutorial.results import compare_results

    if args.command == "progress":
        return _progress(args, params)
    impls = [args.impl] if args.command == "run" else list(IMPLEMENTATIONS)
    results = {IMPLEMENTATIONS[impl]: _run(impl, params) for impl in impls}
    for title, result in results.items():
        print(format_centroids(title, result), end="\n\n")
    status = 0
    if args.command == "compare":
        rows = compare_results(*results.values())
        print(format_parity_table(rows))
        status = 0 if all(row.bit_identical for row in rows) else 1
        if args.naive:
            naive = results[NAIVE] = _run(NAIVE, params)
            print(f"\n{format_divergence(NAIVE, compare_results(results['tf1_graph'], naive))}")
    if not args.no_plot:
        if params.n_features < 2:
            print("no plot: the lesson's plot needs n_features >= 2")
        else:
            from kmeans_tutorial.plotting import save_lesson_plot

            print(f"plot saved to {save_lesson_plot(results, args.plot)}")
    return status


def _progress(args: argparse.Namespace, params: LessonParams) -> int:
    from kmeans_tutorial.report import format_progress

    result = _run(args.impl, params)
    print(format_progress(IMPLEMENTATIONS[args.impl], result))
    if not args.no_plot and params.n_features >= 2:
        from kmeans_tutorial.plotting import check_iterations, save_progress_plot

        n_run = len(result.centroids)
        at = _parse_at(args, params)
        if at is None:
            at = sorted({0, 1, 2, n_run} & set(range(n_run + 1)))
        # With --tol the run may stop before --iterations: say so rather than draw less.
        check_iterations("--at", at, n_run)
        print(f"plot saved to {save_progress_plot(result, at, args.plot)}")
    return 0


def _quieted(args: argparse.Namespace, function, *arguments, terminal: bool = False) -> int:
    """``function(*arguments)``, TensorFlow's log messages hidden unless ``--verbose``;
    ``terminal``: it is also given a stream to the real stderr."""
    if args.verbose:
        return function(*arguments, *([sys.stderr] if terminal else []))
    from kmeans_tutorial.quiet import tensorflow_quieted

    with tensorflow_quieted(expected=(InvalidParameterError, KeyboardInterrupt)) as stderr:
        return function(*arguments, *([stderr] if terminal else []))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kmeans-tutorial`` and ``python -m kmeans_tutorial``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "fit":
            return _quieted(args, fit_command.run, args, terminal=True)
        params = _params_from(args)
        _check_request(args, params)
        return _quieted(args, _execute, args, params)
    except InvalidParameterError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    except KeyboardInterrupt as interrupt:
        # Ctrl-C: one line, no traceback, the shell's status for SIGINT (128 + 2). Output
        # files are written whole or not at all (fit_command.save_atomically); a fit with
        # checkpoints says where it resumes from.
        where = f": {interrupt}" if str(interrupt) else ""
        parser.exit(130, f"{parser.prog}: interrupted{where}\n")


if __name__ == "__main__":
    sys.exit(main())
