"""Checkpoints of long fits: ``checkpoint_dir``, and resuming from it.

A streamed ``KMeans`` fit (a dataset, memmap or array-like, on one process or under
``tf.distribute`` or a TF1 cluster) saves its state after every completed pass; a
``MiniBatchKMeans`` fit every ``checkpoint_steps`` steps. Started again with the same
arguments and the same ``checkpoint_dir``, a fit finds the last checkpoint and goes on
from it, and ends bit-identical to a fit that never stopped. A checkpoint of other
parameters or other data is refused, never used.

What is saved is small, ``O(n_clusters * n_features)``: the centres, the random
generator's state, the counters. Not the labels, which can be larger than memory: a run
resumed after pass ``i`` makes pass ``i``'s labels again, in one pass with the centres that
made them and the same program, so that it can tell whether pass ``i + 1`` changed any.
Before that, the fit replays its start from the generator's state at the saved fit's
start (the init sample, the offset), so that those are the saved fit's, checked by a
fingerprint of the init sample.

Each package writes with TensorFlow's own machinery (``tf2_eager``: ``tf.train.Checkpoint``
and ``CheckpointManager``; ``tf1_graph``: ``tf.compat.v1.train.Saver``), in TensorFlow's
checkpoint format, and reads with TensorFlow's checkpoint reader: either package resumes
the other's checkpoints. A save writes the new checkpoint's files first, then the
``checkpoint`` index file naming it, through a temporary file renamed over the old one; a
process killed during a save leaves the index naming the previous checkpoint, which is
kept (two are kept).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Protocol

import numpy as np

from kmeans_tutorial.common_checks import InvalidParameterError

# Kept in the directory: the last and the one before, which a save killed halfway needs.
KEEP = 2
# Parameters that change how a fit reports, not what it computes: a checkpoint of a fit
# with other values of these is still this fit's.
NOT_COMPARED = ("verbose", "copy_x", "checkpoint_dir", "checkpoint_steps", "log_dir")
# A saved fit continues to a larger value of this (``Checkpoint.check``), as the estimator's
# ``model_dir`` continued training to more steps; a smaller one is refused.
CONTINUED = "max_iter"


class CheckpointWriter(Protocol):
    """What a package supplies: TensorFlow's checkpoint machinery, on one directory."""

    def save(self, values: dict[str, np.ndarray], number: int) -> str:
        """Write ``values`` (name: array, the same names and shapes every time) as
        checkpoint ``number``, keep the last ``KEEP``; the checkpoint's path."""

    def read(self, path: str) -> dict[str, np.ndarray]:
        """Checkpoint ``path``'s values, by name (``normalized``)."""


def _described(value):
    """A parameter's value as the fingerprint records it: itself if plain, else a digest."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.integer | np.floating):
        return value.item()
    if isinstance(value, np.random.RandomState):
        return None  # its state at the fit's start is saved and put back
    if callable(value):
        return f"callable {getattr(value, '__qualname__', type(value).__name__)}"
    array = np.ascontiguousarray(value)
    return f"array {array.shape} sha256 {hashlib.sha256(array.tobytes()).hexdigest()[:16]}"


def fingerprint(estimator, n_features: int, dtype, sample: np.ndarray, n_samples) -> dict:
    """What a checkpoint must match: the estimator's class and parameters, and its data (its
    width, dtype, rows if known, and a digest of the init sample)."""
    params = {
        name: _described(value)
        for name, value in sorted(estimator.get_params().items())
        if name not in NOT_COMPARED
    }
    if not isinstance(estimator.random_state, int | np.integer):
        params.pop("random_state")  # None or a RandomState: the saved state is used
    digest = hashlib.sha256(np.ascontiguousarray(sample).tobytes()).hexdigest()[:16]
    return {
        "estimator": type(estimator).__name__,
        "params": params,
        "data": {
            "n_features": int(n_features),
            "dtype": np.dtype(dtype).name,
            "n_samples": None if n_samples is None else int(n_samples),
            "init sample": digest,
        },
    }


def _first_difference(saved: dict, wanted: dict) -> str:
    """The first difference between two fingerprints, as ``name=value there, value here``."""
    if saved.get("estimator") != wanted["estimator"]:
        return f"a {saved.get('estimator')} fit, not a {wanted['estimator']} fit"
    for part in ("params", "data"):
        there, here = saved.get(part, {}), wanted[part]
        for name in [*here, *(name for name in there if name not in here)]:
            if there.get(name) != here.get(name):
                what = "the data differ: " if part == "data" else ""
                return f"{what}{name}={there.get(name)!r} there, {here.get(name)!r} here"
    return "another fit"


def random_state_values(random_state: np.random.RandomState) -> dict[str, Any]:
    """A ``RandomState``'s state as arrays a checkpoint holds."""
    _, keys, position, has_gauss, gauss = random_state.get_state(legacy=True)
    return {
        "generator": np.concatenate([[position, has_gauss], np.asarray(keys, np.int64)]),
        "gaussian": np.float64(gauss),
    }


def set_random_state(random_state: np.random.RandomState, generator, gaussian) -> None:
    """Put back a state saved by ``random_state_values``."""
    generator = np.asarray(generator, dtype=np.int64)
    keys = generator[2:].astype(np.uint32)
    random_state.set_state(("MT19937", keys, int(generator[0]), int(generator[1]), float(gaussian)))


class Checkpoint:
    """One fit's checkpoints in ``directory``: the saved state read at the start (``saved``),
    a save after every pass or every few steps.

    ``writes``: whether this process writes (every process of a distributed fit reads the
    same checkpoints; only the chief writes them).
    """

    def __init__(self, writer: CheckpointWriter, directory, writes: bool = True):
        self.writer, self.directory, self.writes = writer, os.fspath(directory), writes
        self.path = latest_path(directory)
        self.saved: dict[str, Any] | None = None if self.path is None else writer.read(self.path)
        self.number = 0 if self.saved is None else int(self.saved["number"])
        self.identity: dict | None = None
        # Set by ``begin``, at the fit's start.
        self.random_state = np.random.RandomState()
        self._start_state: dict[str, Any] = {}

    def begin(self, random_state: np.random.RandomState) -> None:
        """At the fit's start: put back the generator's state at the saved fit's start (its
        init sample is then drawn alike), and keep this fit's start state to save."""
        self.random_state = random_state
        saved = self.saved
        if saved is not None:
            set_random_state(random_state, saved["start_generator"], saved["start_gaussian"])
        start = random_state_values(random_state)
        self._start_state = {f"start_{name}": value for name, value in start.items()}

    def check(self, identity: dict, can_continue: bool = True) -> None:
        """Refuse a saved checkpoint of another fit (parameters or data), naming how.

        A fit of a larger ``max_iter`` than the saved one's continues it (``continues``
        says so), if ``can_continue``: the estimator tells whether that ends as a fit of
        the larger value from the start would."""
        self.identity = identity
        if self.saved is None:
            return
        raw = self.saved.get("fit")
        try:
            saved = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
        except (ValueError, AttributeError):
            saved = {}
        there = saved.get("params", {}).get(CONTINUED)
        here = identity["params"].get(CONTINUED)
        # This fit's identity as the saved one's max_iter would make it.
        as_there = {**identity, "params": {**identity["params"], CONTINUED: there}}
        same_but_max_iter = saved == as_there
        where = f"in {os.path.basename(str(self.path))!r}"
        if same_but_max_iter and isinstance(there, int) and isinstance(here, int):
            if here < there:
                raise InvalidParameterError(
                    f"checkpoint_dir={self.directory!r} holds a fit of max_iter={there} "
                    f"({where}); max_iter={here} here: a saved fit continues to more "
                    f"iterations only. Give max_iter >= {there}, another directory, or empty "
                    f"this one to start afresh."
                )
            if here > there and not can_continue:
                raise InvalidParameterError(
                    f"checkpoint_dir={self.directory!r} holds a fit of max_iter={there} "
                    f"({where}) of several runs (n_init): only its best run is kept, so it "
                    f"cannot continue to max_iter={here} as such a fit would run. Give "
                    f"max_iter={there}, n_init=1 from the start, another directory, or empty "
                    f"this one to start afresh."
                )
            return
        if saved != identity:
            # Named by a difference other than max_iter's, if there is one: that is what
            # refuses it.
            difference = _first_difference(saved, as_there)
            if difference == "another fit":
                difference = _first_difference(saved, identity)
            raise InvalidParameterError(
                f"checkpoint_dir={self.directory!r} holds a checkpoint of another fit "
                f"({difference}, {where}): "
                f"give another directory, or empty this one to start afresh."
            )

    def save(self, **state) -> None:
        """Save ``state`` (arrays and numbers) with the generator's state, as the next
        checkpoint."""
        self.number += 1
        if not self.writes:
            return
        values: dict[str, Any] = {name: np.asarray(value) for name, value in state.items()}
        values.update(self._start_state)
        values.update(random_state_values(self.random_state))
        values["number"] = np.int64(self.number)
        values["fit"] = np.asarray(json.dumps(self.identity, sort_keys=True))
        self.writer.save(values, self.number)

    def restore_random_state(self) -> None:
        """The generator as it was at the saved checkpoint."""
        assert self.saved is not None  # resumed from one
        set_random_state(self.random_state, self.saved["generator"], self.saved["gaussian"])


def normalized(values: dict) -> dict[str, np.ndarray]:
    """A checkpoint's tensors by our names: ``tf.train.Checkpoint`` keys them
    ``name/.ATTRIBUTES/VARIABLE_VALUE`` and adds its own bookkeeping, ``Saver`` by name."""
    out = {}
    for key, value in values.items():
        name = key.split("/")[0]
        if name.startswith("_CHECKPOINTABLE") or name == "save_counter":
            continue
        out[name] = value
    return out


def converged(saved: dict) -> bool:
    """Whether a saved fit (or run) stopped by a convergence test, not by reaching its
    ``max_iter``, which a fit of a larger one continues past. (Checkpoints before
    ``converged`` was saved say ``stopped`` for either.)"""
    return bool(saved.get("converged", saved["stopped"]))


class Resumed:
    """A run of a streamed ``KMeans`` fit, as a checkpoint left it after a pass: stopped
    there only if it converged (``max_iter`` is the fit's to apply)."""

    def __init__(self, saved: dict):
        self.iteration = int(saved["iteration"])
        self.centers, self.previous = saved["centers"], saved["previous_centers"]
        self.absolute_tol = float(saved["absolute_tol"])
        self.converged = converged(saved)


class RunsCheckpoint(Checkpoint):
    """Checkpoints of a streamed ``KMeans`` fit (``streamed.lloyd``,
    ``loops.best_of_runs``): which run, its pass, its centres before and after the pass, whether
    it stopped there, and the best run so far (its inertia, centres and passes)."""

    run = 0
    best: tuple | None = None
    pending: Resumed | None = None
    # The last pass saved: (iteration, centers, previous, absolute_tol, converged), kept in
    # the checkpoint after its run, so that a larger max_iter can continue the run.
    last_pass: tuple | None = None

    def resume(self, relabel, max_iter: int) -> tuple[int, tuple | None]:
        """The first run to do and the best before it, from the saved checkpoint (``0,
        None`` without one); the generator put back as it was. ``relabel(centers)`` makes
        the best run's labels again (not saved): ``(labels, inertia)``. A finished fit of
        one run that stopped at its ``max_iter``, smaller than this one, resumes its run."""
        if self.saved is None:
            return 0, None
        saved = self.saved
        self.restore_random_state()
        finished_early = (
            not bool(saved["in_run"])
            and int(saved["run"]) == 1
            and "converged" in saved
            and not converged(saved)
            and int(saved["iteration"]) < max_iter
        )
        if finished_early:  # continued: the one run goes on from its last pass
            self.pending = Resumed(saved)
            return 0, None
        best = None
        if bool(saved["has_best"]):
            centers = saved["best_centers"]
            labels, _ = relabel(centers)
            best = (labels, float(saved["best_inertia"]), centers, int(saved["best_n_iter"]))
        if bool(saved["in_run"]):
            self.pending = Resumed(saved)
        return int(saved["run"]), best

    def take_pass(self) -> Resumed | None:
        """The saved run's pass state, once: the run that ``resume`` said to do first."""
        pending, self.pending = self.pending, None
        return pending

    def save_pass(self, iteration, centers, previous, absolute_tol, converged) -> None:
        self.last_pass = (iteration, centers, previous, absolute_tol, converged)
        self._save(True, *self.last_pass)

    def save_run(self, done: int, best: tuple) -> None:
        """After a run: ``done`` runs done, ``best`` the best of them; with the run's last
        pass."""
        self.run, self.best = done, best
        centers = best[2]
        last_pass = self.last_pass or (0, centers, centers, 0.0, True)
        self._save(False, *last_pass)

    def _save(self, in_run, iteration, centers, previous, absolute_tol, converged):
        best = self.best
        self.save(
            run=np.int64(self.run),
            in_run=np.bool_(in_run),
            iteration=np.int64(iteration),
            centers=centers,
            previous_centers=previous,
            absolute_tol=np.float64(absolute_tol),
            stopped=np.bool_(converged),
            converged=np.bool_(converged),
            has_best=np.bool_(best is not None),
            best_inertia=np.float64(0.0 if best is None else best[1]),
            best_centers=np.zeros_like(centers) if best is None else best[2],
            best_n_iter=np.int64(0 if best is None else best[3]),
        )


# A mini-batch fit's early-stopping state (``minibatch._State``) as saved: ``None`` (no
# smoothed inertia yet) is saved as nan, which no real inertia is.
_STATE_FLOATS = ("ewa_inertia", "ewa_inertia_min", "first_inertia")
_STATE_INTS = ("n_since_last_reassign", "no_improvement", "last_rows", "n_samples")


class StepsCheckpoint(Checkpoint):
    """Checkpoints of a ``MiniBatchKMeans`` fit, every ``checkpoint_steps`` steps and when
    it stops: the steps done, the centres, the early-stopping state, and for a dataset the
    pass and the element reached in it."""

    def save_step(
        self, step, centers, state, converged, pass_number=0, position=0, stream_rows=None
    ) -> None:
        """After step ``step`` (from 0), ``converged`` if a convergence test stopped the
        fit there (one that reached ``max_iter`` is continued by a larger one);
        ``position``: the dataset's elements read in pass ``pass_number`` (from 0);
        ``stream_rows``: its rows, once a pass has counted them."""
        values: dict[str, Any] = {name: np.float64(np.nan) for name in _STATE_FLOATS}
        for name in _STATE_FLOATS:
            if getattr(state, name) is not None:
                values[name] = np.float64(getattr(state, name))
        values.update({name: np.int64(getattr(state, name)) for name in _STATE_INTS})
        self.save(
            step=np.int64(step),
            centers=centers,
            counts=state.counts,
            stopped=np.bool_(converged),
            converged=np.bool_(converged),
            pass_number=np.int64(pass_number),
            position=np.int64(position),
            stream_rows=np.int64(-1 if stream_rows is None else stream_rows),
            **values,
        )

    def resume(self, state) -> tuple | None:
        """``(step, centers, converged, pass_number, position, stream_rows)`` saved,
        ``state`` and the generator put back as they were; None without a saved checkpoint."""
        if self.saved is None:
            return None
        saved = self.saved
        self.restore_random_state()
        for name in _STATE_FLOATS:
            value = float(saved[name])
            setattr(state, name, None if np.isnan(value) else value)
        for name in _STATE_INTS:
            setattr(state, name, int(saved[name]))
        state.counts = saved["counts"]
        return (
            int(saved["step"]),
            saved["centers"],
            converged(saved),
            int(saved["pass_number"]),
            int(saved["position"]),
            None if int(saved["stream_rows"]) < 0 else int(saved["stream_rows"]),
        )


def latest_path(directory) -> str | None:
    """The last checkpoint the index file in ``directory`` names, if its files are there
    (``tf.train.latest_checkpoint``'s answer, read without TensorFlow: the
    ``model_checkpoint_path`` line TensorFlow writes in the index)."""
    folder = os.fspath(directory)
    try:
        with open(os.path.join(folder, "checkpoint")) as index:
            lines = [line for line in index if line.startswith("model_checkpoint_path:")]
        path = os.path.join(folder, json.loads(lines[0].split(":", 1)[1].strip()))
    except (OSError, ValueError, IndexError):
        return None
    return path if os.path.exists(f"{path}.index") else None
