"""The engine's own errors and warnings, in one place.

Bad input raises ``InvalidParameterError`` (``kmeans_tutorial.checks``, the project's one
class for it, re-exported here); a model used before ``fit`` raises ``NotFittedError``; a
distributed fit that lost a process raises ``LostTaskError``. ``ConvergenceWarning`` is
scikit-learn's warning for fewer distinct clusters than asked for.
"""

from __future__ import annotations

import functools
import os
import re
import sys

from kmeans_tutorial.common_checks import InvalidParameterError
from kmeans_tutorial.engine.checkpoints import latest_path

__all__ = [
    "ConvergenceWarning",
    "InvalidParameterError",
    "LostTaskError",
    "NotFittedError",
    "lost_task",
    "missing_tasks",
    "sklearn_class",
    "task_name",
]

# How long the processes of a cluster wait for every task to join before they give up: a
# task that crashed or was never scheduled is, to the others, a task not started yet.
JOIN_SECONDS = 600


class NotFittedError(ValueError, AttributeError):
    """A fitted attribute was asked of an estimator that has not been fitted.

    A ``ValueError`` and an ``AttributeError``, as scikit-learn's ``NotFittedError``. When
    scikit-learn is loaded in the process, the error raised is also an instance of its
    class, so that code catching scikit-learn's error catches ours (``sklearn_class``);
    scikit-learn is never imported for it.
    """


class ConvergenceWarning(UserWarning):
    """The fit found fewer distinct clusters than asked for (scikit-learn warns alike).

    As ``NotFittedError``: with scikit-learn loaded, the warning is also an instance of
    scikit-learn's ``ConvergenceWarning``, so its filters and ``pytest.warns`` catch it.
    """


def sklearn_class(ours: type) -> type:
    """``ours``, or, when ``sklearn.exceptions`` is loaded, one class made once that
    subclasses both ``ours`` and scikit-learn's class of the same name.

    Loaded, not importable: code that names scikit-learn's class (to catch or filter it)
    has imported it, and a user without scikit-learn never pays for its import.
    """
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    if sklearn_exceptions is None:
        return ours
    return _with_sklearn_base(ours, getattr(sklearn_exceptions, ours.__name__))


@functools.cache
def _with_sklearn_base(ours: type, theirs: type) -> type:
    return type(ours.__name__, (ours, theirs), {"__module__": __name__})


class LostTaskError(RuntimeError):
    """A distributed fit lost one of its processes (killed, crashed, cut off, or never
    joined): the fit cannot go on, in any of them. ``task``: the device of the task it
    lost, as ``/job:worker/task:1`` (``"another task"`` when the error did not say which)."""

    task: str = "another task"


# A device as TensorFlow's messages name it; its job and task.
DEVICE = r"/job:(\w+)(?:/replica:\d+)?/task:(\d+)"


def task_name(device: str) -> str:
    """The task of ``device``, as ``/job:worker/task:1`` (no replica, no device type)."""
    found = re.search(DEVICE, device)
    return "/job:{}/task:{}".format(*found.groups()) if found else device


def lost_task(
    error: Exception,
    own_task: str,
    addresses: dict[str, str],
    checkpoint_dir: str | os.PathLike[str] | None = None,
    unnamed: str | None = None,
) -> LostTaskError:
    """The ``LostTaskError`` for a TensorFlow ``error`` that says a task stopped answering:
    it names the task another task's ``LostTaskError`` in the message names (a task that
    found the loss first tells the others), else the first task the message names other
    than ``own_task`` (a device like ``/job:worker/task:0``), else ``unnamed`` (the task
    the error came from when it names none), with its address from ``addresses`` (device:
    host:port), and says where a restart resumes from."""
    told = re.search("the fit lost task " + DEVICE, str(error))
    named = [task_name(found.group()) for found in re.finditer(DEVICE, str(error))]
    own = task_name(own_task)
    if told:
        named = [task_name(told.group())]
    lost = next((name for name in named if name != own), unnamed or "another task")
    where = f" ({addresses[lost]})" if lost in addresses else ""
    resume = "restart every process of the fit"
    if checkpoint_dir is not None:
        folder, saved = os.fspath(checkpoint_dir), latest_path(checkpoint_dir)
        resume += (
            f"; with checkpoint_dir={folder!r} it resumes from {saved!r}"
            if saved
            else f"; checkpoint_dir={folder!r} holds no checkpoint yet"
        )
    kind = type(error).__name__
    if isinstance(error, TimeoutError) or kind == "DeadlineExceededError":
        kind += ": no answer in time; it, or the network between it and this task, is down"
    result = LostTaskError(
        f"the fit lost task {lost}{where}: it stopped answering ({kind}). "
        f"This task ({own}) stops too; {resume}."
    )
    result.task = lost
    return result


def missing_tasks(
    missing: list[str], own_task: str, addresses: dict[str, str], seconds: float
) -> LostTaskError:
    """The ``LostTaskError`` for a cluster that did not form: the tasks ``missing`` (their
    devices) did not join in ``seconds``. Its ``task`` is the first of them."""
    names = [task_name(device) for device in missing] or ["another task"]
    where = [f"{name} ({addresses[name]})" if name in addresses else name for name in names]
    tasks = "task " if len(names) == 1 else "tasks "
    result = LostTaskError(
        f"the cluster did not form: {len(names)} of its tasks did not join in {seconds:g} s: "
        f"{tasks}{', '.join(where)}. This task ({task_name(own_task)}) stops too; start every "
        f"process of the fit again."
    )
    result.task = names[0]
    return result
