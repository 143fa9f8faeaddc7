"""A core for dense data in memory (``driver.KMeansCore``), written once for both packages:
the data padded to the shapes its programs are made for (``buckets``), the inputs of each
program, and its outputs cut back to the data's rows and the fit's centres. Each package
subclasses ``DenseCore`` with ``_run``, which makes a program from ``PROGRAMS`` (a
``tf.function``, or ops in a graph run by a ``Session``) and runs it.

A compiled program is made for one padded shape (XLA compiles static shapes). An uncompiled
one (small data, ``compiles``) is made for any number of rows, and for any width and number
of centres but in the elementwise form (``any_shape_sizes``), its chunk an input
(``with_chunk_input``): a sweep over ``n_clusters`` on small data traces each program
once, where it would trace it once per bucket of centres.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import tensorflow as tf

from kmeans_tutorial.engine import buckets, lloyd_ops, seeding, seeding_ops
from kmeans_tutorial.engine.batch_core import padded
from kmeans_tutorial.engine.driver import KMeansCore

# A program's inputs after the data (X, sample_weight, offset): (name, shape, dtype) with
# ``rows``, ``k``, ``d``, ``trials`` for the program's padded sizes and None for the data's
# dtype. TF1 makes its placeholders from them, TF2 its ``input_signature``.
_CENTERS = ("centers", ("k", "d"), None)
_COUNTS = [("n_rows", (), tf.int32), ("n_clusters", (), tf.int32)]
_LLOYD = [
    _CENTERS,
    ("previous_labels", ("rows",), tf.int32),
    ("max_iter", (), tf.int32),
    ("tol", (), None),
    *_COUNTS,
]
SIGNATURES: dict[str, list[tuple[str, tuple, Any]]] = {
    "lloyd": _LLOYD,
    "elkan": _LLOYD,
    "lloyd_step": [
        _CENTERS,
        ("previous_labels", ("rows",), tf.int32),
        ("tol", (), None),
        *_COUNTS,
    ],
    "assign_and_inertia": [_CENTERS, *_COUNTS],
    "kmeans_plus_plus": [
        ("first", (), tf.int32),
        ("uniforms", ("k-1", "trials"), tf.float64),
        ("n_clusters", (), tf.int32),
    ],
}


def _lloyd(X, w, offset, centers, previous, max_iter, tol, n_rows, n_clusters, *, chunk):
    return lloyd_ops.lloyd(
        X, w, centers, offset, previous, max_iter, tol, n_rows, n_clusters, chunk
    )


def _elkan(X, w, offset, centers, previous, max_iter, tol, n_rows, n_clusters, *, chunk):
    return lloyd_ops.elkan(
        X, w, centers, offset, previous, max_iter, tol, n_rows, n_clusters, chunk
    )


def _lloyd_step(X, w, offset, centers, previous, tol, n_rows, n_clusters, *, chunk):
    return lloyd_ops.lloyd_step(
        X, w, centers, offset, previous, tol, n_rows, n_clusters, chunk, with_inertia=True
    )


def _assign_and_inertia(X, w, offset, centers, n_rows, n_clusters, *, chunk):
    return lloyd_ops.assign_and_inertia(X, w, centers, offset, n_rows, n_clusters, chunk)


def _kmeans_plus_plus(X, w, offset, first, uniforms, n_clusters, *, chunk):
    return seeding_ops.kmeans_plus_plus(X, w, offset, first, uniforms, n_clusters, chunk)


PROGRAMS: dict[str, Callable[..., Any]] = {
    "lloyd": _lloyd,
    "elkan": _elkan,
    "lloyd_step": _lloyd_step,
    "assign_and_inertia": _assign_and_inertia,
    "kmeans_plus_plus": _kmeans_plus_plus,
}


def signature(
    name: str, rows: int | None, n_features: int | None, n_clusters: int | None, dtype: tf.DType
) -> list:
    """(shape, dtype) of each input of program ``name`` after the data, for data of ``rows``
    x ``n_features`` and ``n_clusters`` (padded) centres. A program made for any number of
    rows (``rows`` None: the uncompiled ones, ``any_shape_sizes``) takes its chunk as a last
    input, a scalar; None for the other sizes too makes it one for any size."""
    sizes = {
        "rows": rows,
        "d": n_features,
        "k": n_clusters,
        "k-1": None if n_clusters is None else n_clusters - 1,
        "trials": None if n_clusters is None else seeding.n_trials(n_clusters),
    }
    specs = [
        ([sizes[size] for size in shape], spec_dtype or dtype)
        for _, shape, spec_dtype in SIGNATURES[name]
    ]
    return [*specs, ([], tf.int32)] if rows is None else specs


def any_shape_sizes(n_features: int, n_clusters: int) -> tuple[int | None, int | None]:
    """The width and number of centres an uncompiled program is made for: None, any, except
    for few centres in few dimensions, whose elementwise form is written a centre at a time
    (``lloyd_ops.elementwise_form``), faster than the matmul form uncompiled too; rows of
    any number either way."""
    if lloyd_ops.elementwise_form(n_clusters, n_features):
        return n_features, n_clusters
    return None, None


def with_chunk_input(name: str) -> Callable[..., Any]:
    """Program ``name`` taking its chunk as its last input (a tensor), as a program made for
    any shape must: its chunk depends on the sizes it is run with."""
    program = PROGRAMS[name]

    def run(*inputs: Any) -> Any:
        *rest, chunk_rows = inputs
        return program(*rest, chunk=chunk_rows)

    return run


def chunk(name: str, rows: int, n_features: int, n_clusters: int) -> int:
    """Rows a chunk of program ``name`` holds (a Python int: a new one is a new program)."""
    if name == "kmeans_plus_plus":
        return seeding_ops.chunk_size(rows, n_features)
    return lloyd_ops.chunk_size(rows, n_features + n_clusters)


def compiles(rows: int, n_features: int, n_clusters: int) -> bool:
    """Whether the programs for these padded sizes are compiled by XLA (in both drivers)."""
    return lloyd_ops.compiles(rows, n_features, n_clusters)


# The whole-run programs, by ``KMeans``'s ``algorithm``: the same signature, the same
# results (``lloyd_ops.elkan``).
LOOPS = ("lloyd", "elkan")


class DenseCore(KMeansCore):
    """The host's side of a dense core: pads the data once and each call's centres, and cuts
    the programs' outputs back. ``X`` and ``sample_weight`` are the padded data the
    programs read; ``data`` and ``weights`` the fit's own, which seeding draws from."""

    # The programs (by package, name and padded shape) that have run in this process: a
    # program's first run compiles it.
    _ran: ClassVar[set] = set()

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray, offset: np.ndarray):
        self.data, self.weights, self.offset = X, sample_weight, offset
        self.n_rows, self.n_features = X.shape
        rows = buckets.program_rows(len(X), X.shape[1] * X.itemsize)
        # Unpadded data is used as it is: each package shares what it can (``sharing``).
        self.X, self.sample_weight = X, sample_weight
        if rows > len(X):
            self.X, self.sample_weight = padded(X, sample_weight, rows)
        self.then: str | None = None  # the program the fit runs after its seeding
        self._warming: dict[tuple, threading.Thread] = {}

    def _run(self, name: str, n_clusters: int, *inputs: Any) -> list[np.ndarray]:
        """Program ``name`` for ``n_clusters`` (padded) centres, run on the padded data and
        ``inputs`` (as ``SIGNATURES`` lists them); its outputs as NumPy."""
        raise NotImplementedError

    def _prepare(self, name: str, n_clusters: int) -> None:
        """Build program ``name`` without running it (TF1's ops, TF2's trace): what may not
        happen on two threads at once."""
        raise NotImplementedError

    def _key(self, name: str, n_clusters: int) -> tuple:
        rows, n_features = self.X.shape
        jit = compiles(rows, n_features, n_clusters)
        return (type(self), name, *self.X.shape, self.X.dtype.str, n_clusters, jit)

    def compiled(self, n_clusters: int) -> bool:
        """Whether this data's programs for ``n_clusters`` (padded) centres are compiled,
        made for its padded shape; if not, they are made once for any shape."""
        rows, n_features = self.X.shape
        return compiles(rows, n_features, n_clusters)

    def _call(self, name: str, n_clusters: int, *inputs: Any) -> list[np.ndarray]:
        """``_run``, once the program's warm-up (``_warm_up``), if any, has ended; a program
        made for any shape is given its chunk."""
        if not self.compiled(n_clusters):
            # One chunk: uncompiled data is small (``compiles``), so its distances fit in 8
            # MiB, and plain ops cost a dispatch each, so fewer chunks run faster.
            inputs = (*inputs, np.int32(len(self.X)))
        key = self._key(name, n_clusters)
        warming = self._warming.pop(key, None)
        if warming is not None:
            warming.join()
        outputs = self._run(name, n_clusters, *inputs)
        self._ran.add(key)
        return outputs

    def _warm_up(self, n_clusters: int) -> None:
        """Compile the program the fit runs next (``then``) on another thread while this one
        compiles the seeding's: XLA compiles each on one core, and a first fit waits for
        both (docs/BENCHMARKS.md, "Workflows"). Only a compiled program not yet run; it runs
        once, with no iteration, and its result is dropped."""
        name = self.then and self._loop_program(self.then, n_clusters)
        key = self._key(name or "", n_clusters)
        n_features = self.X.shape[1]
        if name not in LOOPS or key in self._ran or key in self._warming:
            return
        if not self.compiled(n_clusters):
            return  # plain ops: their tracing holds Python's lock, nothing to overlap
        self._prepare(name, n_clusters)
        centers = np.zeros((n_clusters, n_features), self.X.dtype)
        inputs = (centers, self._no_labels(), 0, 0.0, self.n_rows, 1)

        def run() -> None:
            with contextlib.suppress(Exception):  # the fit's own call reports a failure
                self._run(name, n_clusters, *inputs)

        thread = threading.Thread(target=run, daemon=True)
        self._warming[key] = thread
        thread.start()

    def _loop_program(self, algorithm: str, n_clusters: int) -> str:
        """The program of a run by ``algorithm`` for ``n_clusters`` (padded) centres: Lloyd's
        for elkan's where few centres in few dimensions are assigned elementwise
        (``lloyd_ops.elementwise_form``): no matmul for the bounds to spare, and elkan's
        result is Lloyd's."""
        if algorithm == "elkan" and lloyd_ops.elementwise_form(n_clusters, self.n_features):
            return "lloyd"
        return algorithm

    def _program_clusters(self, n_clusters: int) -> int:
        """Centres the programs for ``n_clusters`` are made for: padded (``buckets``) for a
        compiled program; as many as there are for one made for any shape, where padding
        would only add work."""
        size = buckets.program_clusters(n_clusters, self.n_features)
        return size if self.compiled(size) else n_clusters

    def _padded_centers(self, centers: np.ndarray) -> tuple[int, np.ndarray]:
        """The programs' number of centres, and ``centers`` padded to it with zeros (any
        finite value: padding centres are nobody's nearest and never move)."""
        size = self._program_clusters(len(centers))
        padding = np.zeros((size - len(centers), centers.shape[1]), centers.dtype)
        return size, np.concatenate([centers, padding])

    def rows(self, index: np.ndarray) -> np.ndarray:
        return self.data[index]

    def plus_plus_rows(self, n_clusters: int, seed: int) -> np.ndarray:
        """The rows of X that greedy k-means++ chooses (``seeding_ops``), seeded."""
        first, uniforms = seeding.draws(self.weights, n_clusters, seed)
        size = self._program_clusters(n_clusters)
        if self.compiled(size):  # then one program seeds every small k (``buckets``)
            size = buckets.seeding_clusters(size)
        # More trials repeat a row's first (``seeding_ops.kmeans_plus_plus``).
        padded_uniforms = np.zeros((size - 1, seeding.n_trials(size)))
        padded_uniforms[: len(uniforms)] = uniforms[:, :1]
        padded_uniforms[: len(uniforms), : uniforms.shape[1]] = uniforms
        self._warm_up(self._program_clusters(n_clusters))
        (rows,) = self._call("kmeans_plus_plus", size, first, padded_uniforms, n_clusters)
        return rows[:n_clusters]

    def _no_labels(self) -> np.ndarray:
        """The labels before a fresh run's first iteration: none, -1 (padded rows too)."""
        return np.full(len(self.X), -1, np.int32)

    def lloyd(self, centers: np.ndarray, max_iter: int, tol: float, algorithm: str = "lloyd"):
        """(labels, inertia, centers, n_iter) of one run from ``centers``, by the program
        ``algorithm`` (``LOOPS``).

        The program stops at a pass that leaves a cluster empty
        (``lloyd_ops.lloyd``); that iteration is then run by the step program, which
        relocates, and the run goes on from there, as the whole loop would have gone.
        """
        size, padded_centers = self._padded_centers(centers)
        algorithm = self._loop_program(algorithm, size)
        counts = (self.n_rows, len(centers))
        previous, n_iter = self._no_labels(), 0
        while True:
            remaining = max_iter - n_iter
            labels, inertia, padded_centers, ran, empty = self._call(
                algorithm, size, padded_centers, previous, remaining, tol, *counts
            )
            n_iter += int(ran)
            if not empty:
                break
            padded_centers, previous, stop, _, _ = self._call(
                "lloyd_step", size, padded_centers, labels, tol, *counts
            )
            n_iter += 1
            if stop:  # the labels of the final centres, by a run of no iteration
                max_iter = n_iter
        return labels[: self.n_rows], float(inertia), padded_centers[: len(centers)], n_iter

    def step(self, centers: np.ndarray, previous_labels: np.ndarray, tol: float):
        """One iteration: (centers, labels, stop, shift, inertia), as NumPy."""
        size, padded_centers = self._padded_centers(centers)
        previous = np.zeros(len(self.X), np.int32)
        previous[: self.n_rows] = previous_labels
        new_centers, labels, stop, shift, inertia = self._call(
            "lloyd_step", size, padded_centers, previous, tol, self.n_rows, len(centers)
        )
        return (
            new_centers[: len(centers)],
            labels[: self.n_rows],
            bool(stop),
            float(shift),
            float(inertia),
        )

    def labels_inertia(self, centers: np.ndarray):
        """Nearest-centre labels and their inertia."""
        size, padded_centers = self._padded_centers(centers)
        labels, inertia = self._call(
            "assign_and_inertia", size, padded_centers, self.n_rows, len(centers)
        )
        return labels[: self.n_rows], float(inertia)
