"""``kmeans-tutorial fit DATA --n-clusters K``: k-means on the user's own data.

A ``.npy`` file is opened as a memmap and streamed (``engine.sources``, ``engine.streamed``):
it is never loaded whole, whatever its size. A ``.csv`` file (numbers, commas, an optional header
line) is read into memory. The centres and labels go to ``.npy`` files; a fit of
2-feature data is also drawn. Long fits show a progress bar a pass on stderr.

Every problem with the request (a path, the file's shape or values, a parameter) ends
with one line and exit status 2, before the fit where it can be known before it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import warnings
from pathlib import Path

from kmeans_tutorial.report import counted
from kmeans_tutorial.validation import InvalidParameterError

IMPLEMENTATIONS = {"tf1": "tf1_graph", "tf2": "tf2_eager"}


# The named inits of ``KMeans`` (``MiniBatchKMeans`` takes all but k-means||).
INITS = ["k-means++", "k-means||", "random", "kmc2"]


def add_parser(commands) -> None:
    """The ``fit`` subcommand and its flags."""
    fit = commands.add_parser(
        "fit",
        help="cluster your own data (.npy streamed from disk, or .csv) and save the result",
    )
    fit.add_argument("data", metavar="DATA", help="a .npy file (n_samples, n_features) or a .csv")
    fit.add_argument("--n-clusters", type=int, required=True, metavar="K")
    fit.add_argument("--impl", choices=sorted(IMPLEMENTATIONS), default="tf2")
    fit.add_argument(
        "--mini-batch", action="store_true", help="MiniBatchKMeans instead of KMeans (Lloyd)"
    )
    fit.add_argument("--batch-size", type=int, default=1024, help="with --mini-batch")
    fit.add_argument(
        "--max-iter",
        type=int,
        default=None,
        metavar="N",
        help="passes at most; with --checkpoint-dir, a larger N continues a finished fit",
    )
    fit.add_argument("--seed", type=int, default=0, help="random_state (default: %(default)s)")
    fit.add_argument(
        "--init",
        choices=INITS,
        default="k-means++",
        help="initial centres (default: %(default)s, on a .npy from 65,536 rows read at "
        "random; k-means|| reads all the rows in a few passes; not with --mini-batch)",
    )
    fit.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        help="save a checkpoint there after every pass (--mini-batch: every 1000 steps); "
        "the same command run again resumes from the last one",
    )
    fit.add_argument(
        "--log-dir", metavar="DIR", help="write each pass's inertia there, for TensorBoard"
    )
    output = fit.add_argument_group("output")
    output.add_argument("--centers", default="centers.npy", metavar="NPY")
    output.add_argument("--labels", default="labels.npy", metavar="NPY")
    output.add_argument("--plot", default="fit.png", metavar="PNG", help="for 2-feature data")
    output.add_argument("--no-plot", action="store_true")
    output.add_argument("--no-progress", action="store_true", help="no progress bar")
    output.add_argument(
        "--verbose", action="store_true", help="let TensorFlow's own log messages through"
    )


def _writable(flag: str, path: str) -> None:
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InvalidParameterError(f"{flag}={path!r} is a directory; give a file name.")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise InvalidParameterError(f"{flag}={path!r}: the folder {str(folder)!r} is not writable.")


# The first bytes of every .npy file (NumPy's format: the magic string, then its version).
NPY_MAGIC = b"\x93NUMPY"


def load(path: str):
    """The data at ``path``: a read-only memmap of a ``.npy``, an array of a ``.csv``."""
    import numpy as np

    file = Path(path)
    if file.is_dir():
        raise InvalidParameterError(f"DATA={path!r} is a directory; give a .npy or a .csv file.")
    if not file.is_file():
        raise InvalidParameterError(f"DATA={path!r}: no such file.")
    if file.suffix not in (".npy", ".csv"):
        raise InvalidParameterError(f"DATA={path!r}: give a .npy or a .csv file.")
    if file.stat().st_size == 0:
        raise InvalidParameterError(f"DATA={path!r} is empty (0 bytes): it has no rows to fit.")
    if file.suffix == ".npy":
        with open(file, "rb") as stream:
            if stream.read(len(NPY_MAGIC)) != NPY_MAGIC:  # never unpickle what is not ours
                raise InvalidParameterError(
                    f"DATA={path!r} is not a .npy file: it does not begin as NumPy's .npy "
                    f"files do (np.save writes them)."
                )
    try:
        data = np.load(file, mmap_mode="r") if file.suffix == ".npy" else _load_csv(file)
    except (ValueError, OSError, EOFError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidParameterError(f"DATA={path!r} cannot be read: {first}") from None
    if data.ndim != 2:
        raise InvalidParameterError(
            f"DATA={path!r} has shape {data.shape}; it must be 2-D, (n_samples, n_features)."
        )
    if data.dtype.kind not in "fiub":
        raise InvalidParameterError(f"DATA={path!r} holds {data.dtype}, not numbers.")
    if data.shape[0] == 0 or data.shape[1] == 0:
        held = "no rows" if data.shape[0] == 0 else "no columns"
        raise InvalidParameterError(f"DATA={path!r} has {held} of numbers: nothing to fit.")
    return data


def _load_csv(file: Path):
    import numpy as np

    with open(file) as stream:
        first = stream.readline()
    try:
        float(first.split(",")[0])
        header = 0
    except ValueError:  # a header line of names
        header = 1
    try:
        with warnings.catch_warnings():  # no rows: ``load`` says so, not NumPy's warning
            warnings.simplefilter("ignore", UserWarning)
            return np.loadtxt(file, delimiter=",", ndmin=2, skiprows=header, dtype=np.float64)
    except ValueError:  # NumPy's message counts rows its own way: ours names the line
        _raise_at_bad_line(file, header)
        raise


def _raise_at_bad_line(file: Path, header: int) -> None:
    """Name the first line (from 1, as an editor shows it) that is not numbers, or that has
    another number of values than the lines before it."""
    columns = None
    with open(file) as stream:
        for number, line in enumerate(stream, start=1):
            if number <= header or not line.strip():
                continue
            where = f"line {number} (row {number - header - 1} of the data)"
            try:
                values = [float(field) for field in line.split(",")]
            except ValueError:
                raise InvalidParameterError(
                    f"{where} is not numbers separated by commas: {line.strip()[:80]!r}"
                ) from None
            if columns is None:
                columns = len(values)
            elif len(values) != columns:
                raise InvalidParameterError(
                    f"{where} has {len(values)} values, the lines before it {columns}: "
                    f"{line.strip()[:80]!r}"
                )


def save_atomically(path, array) -> None:
    """``np.save(path, array)`` that never leaves half a file: written beside it, then
    renamed over it (a rename within one folder is atomic)."""
    import numpy as np

    target = Path(path)
    if target.suffix != ".npy":  # as np.save names it
        target = target.with_name(f"{target.name}.npy")
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, "wb") as stream:
            np.save(stream, array)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


class ProgressBar:
    """One line on stderr per pass: rows done, the pass's time, the inertia so far.

    Drawn only once a pass has run for ``after`` seconds, so short fits print nothing.
    """

    AFTER = 1.0

    def __init__(self, n_samples: int | None, stream=None, after: float | None = None):
        self.n_samples, self.stream = n_samples, stream if stream is not None else sys.stderr
        self.after = self.AFTER if after is None else after
        self.shown_pass, self.last = None, 0.0

    def __call__(self, number: int, rows: int, seconds: float, inertia: float) -> None:
        if seconds < self.after:
            return
        now = time.monotonic()
        finished = self.n_samples is not None and rows >= self.n_samples
        if now - self.last < 0.2 and not finished:
            return
        self.last = now
        if self.shown_pass is not None and self.shown_pass != number:
            self.stream.write("\n")
        self.shown_pass = number
        total = f"/{self.n_samples:,}" if self.n_samples else ""
        width = 30
        done = int(width * rows / self.n_samples) if self.n_samples else 0
        bar = "#" * done + "." * (width - done) if self.n_samples else ""
        self.stream.write(
            f"\rpass {number} [{bar}] {rows:,}{total} rows {seconds:.1f} s inertia {inertia:.6g}"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.shown_pass is not None:
            self.stream.write("\n")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a fit with ``--checkpoint-dir``: its message says where the fit
    resumes from."""


# The fit command's numeric flags, checked before anything loads: (flag, value's name in
# ``args``, least value, most value or None).
FLAG_RANGES = [
    ("--n-clusters", "n_clusters", 1, None),
    ("--batch-size", "batch_size", 1, None),
    ("--max-iter", "max_iter", 1, None),
    ("--seed", "seed", 0, 2**32 - 1),
]


def _check_flags(args: argparse.Namespace) -> None:
    """Each numeric flag in its range, told in the flag's own words, before the data or
    TensorFlow loads."""
    for flag, name, least, most in FLAG_RANGES:
        value = getattr(args, name)
        if value is None:
            continue
        if most is not None and not least <= value <= most:
            raise InvalidParameterError(f"{flag} {value} should be in [{least}, {most}].")
        if value < least:
            raise InvalidParameterError(f"{flag} {value} should be >= {least}.")


def run(args: argparse.Namespace, terminal=None) -> int:
    """Check the request, fit, write the results; the progress bar goes to ``terminal``."""

    _check_flags(args)
    if args.mini_batch and args.init == "k-means||":
        raise InvalidParameterError(
            "--init k-means|| is for KMeans; with --mini-batch, give --init k-means++, "
            "random or kmc2."
        )
    for flag, path in (("--centers", args.centers), ("--labels", args.labels)):
        _writable(flag, path)
    data = load(args.data)
    if not args.no_plot and data.shape[1] == 2:
        _writable("--plot", args.plot)
    import numpy as np

    for flag, folder in (("--checkpoint-dir", args.checkpoint_dir), ("--log-dir", args.log_dir)):
        if folder is not None and not args.mini_batch and not isinstance(data, np.memmap):
            raise InvalidParameterError(
                f"{flag} needs DATA as a .npy file, streamed from disk a pass at a time, or "
                f"--mini-batch: a .csv is fitted in memory, in one TensorFlow program."
            )
    package = importlib.import_module(IMPLEMENTATIONS[args.impl])
    params = {
        "n_clusters": args.n_clusters,
        "random_state": args.seed,
        "init": args.init,
        "checkpoint_dir": args.checkpoint_dir,
        "log_dir": args.log_dir,
    }
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    if args.mini_batch:
        estimator = package.MiniBatchKMeans(batch_size=args.batch_size, **params)
    else:
        estimator = package.KMeans(**params)
    bar = None if args.no_progress else ProgressBar(len(data), terminal)
    estimator._progress = bar
    started = time.perf_counter()
    try:
        estimator.fit(data)
    except KeyboardInterrupt:
        if args.checkpoint_dir is None:
            raise
        from kmeans_tutorial.engine.checkpoints import latest_path

        saved = latest_path(args.checkpoint_dir)
        raise Interrupted(
            f"the fit's last checkpoint is {saved}; run the same command again to resume"
            if saved
            else f"no checkpoint was saved in {args.checkpoint_dir} yet"
        ) from None
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    save_atomically(args.centers, estimator.cluster_centers_)
    save_atomically(args.labels, estimator.labels_)
    kind = "MiniBatchKMeans" if args.mini_batch else "KMeans"
    shape = f"{counted(data.shape[0], 'sample')}, {counted(data.shape[1], 'feature')}"
    print(
        f"{kind} ({IMPLEMENTATIONS[args.impl]}): {shape}, "
        f"{counted(args.n_clusters, 'cluster')} in "
        f"{seconds:.2f} s; n_iter {estimator.n_iter_}, inertia {estimator.inertia_:.6g}"
    )
    print(f"centres saved to {args.centers}, labels to {args.labels}")
    if not args.no_plot and data.shape[1] == 2:
        from kmeans_tutorial.plotting import save_fit_plot

        path = save_fit_plot(data, estimator.labels_, estimator.cluster_centers_, args.plot)
        print(f"plot saved to {path}")
    return 0
