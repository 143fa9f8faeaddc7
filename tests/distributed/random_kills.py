"""Fits killed with SIGKILL at random moments and started again, until they end; each must
end bit-identical to the fit never stopped. Run by ``nox -s faults`` (not in the defaults:
it takes about half an hour).

    python tests/distributed/random_kills.py [--kills 25] [--seed 0] [--out report.json]

Four scenarios: a streamed ``KMeans`` fit (a ``tf.data`` dataset read from a ``.npy`` file,
k-means|| init passes, a checkpoint every pass) and a ``MiniBatchKMeans`` fit (a checkpoint
every 5 steps), each in one process and on two workers under
``MultiWorkerMirroredStrategy`` (``distributed_cluster.py``, in a network namespace of its
own). Each is killed ``--kills`` times: a run is killed a seeded random time after its fit
began (uniform over the uninterrupted fit's length; on a cluster, the fit begins once
``MultiWorkerMirroredStrategy()`` has formed the cluster: a task lost before that is a
task that never joined, outside any fit, which ``test_faults.py`` tests), or,
one kill in four, a seeded random
time inside a save (uniform over the save's measured length, once the fit's trace says the
save began). A killed run is started again with the same arguments, and may be killed again,
up to 4 times; the run that ends must equal the fit never stopped (centres, labels, inertia,
iterations, bit for bit). On a cluster the victim is a seeded random one of the two workers;
the other must end by itself with ``LostTaskError``.

Every kill is reported: when, what the fit was doing (its trace's last event: an init
pass, a Lloyd pass, a step, a save), and where the run after it resumed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TIMEOUT = 240  # seconds a run may take; it takes under 30
CHAIN = 4  # kills in a row before a run is let finish
SCENARIOS = {
    "KMeans, one process": ("single", ["--default-init", "--max_iter=12"]),
    "MiniBatchKMeans, one process": ("single", ["--mini-batch", "--checkpoint_steps=5"]),
    "KMeans, two workers": ("multi-worker", ["--default-init", "--max_iter=12"]),
    "MiniBatchKMeans, two workers": ("multi-worker", ["--mini-batch", "--checkpoint_steps=5"]),
}


def _env() -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}


class Run:
    """One run of a scenario (a process, or a cluster of two), started now."""

    def __init__(self, mode: str, data: Path, folder: Path, flags: list[str]):
        self.mode, self.folder = mode, folder
        folder.mkdir(parents=True)
        self.trace = folder / "trace"
        flags = [*flags, f"--trace={self.trace}"]
        if mode == "single":
            out = folder / "worker0.npz"
            command = [sys.executable, str(HERE / "distributed_worker.py"), mode, str(data)]
            self.process = subprocess.Popen(
                [*command, str(out), *flags], env=_env(), stdout=subprocess.DEVNULL,
                stderr=open(folder / "worker0.log", "w"),  # noqa: SIM115
            )  # fmt: skip
        else:  # the workers trace to one file: task 0's events are the ones read
            command = ["unshare", "-rn", sys.executable, str(HERE / "distributed_cluster.py")]
            command += ["2", str(TIMEOUT), mode, str(data), str(folder), *flags]
            self.process = subprocess.Popen(
                command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

    def events(self) -> list[tuple[float, str]]:
        return _events(self.trace)

    def began(self) -> float | None:
        """When the fit began (the monotonic clock, as this process reads it), if it has."""
        fits = [when for when, text in self.events() if text == "fit"]
        return fits[0] if fits else None

    def victims(self) -> list[int]:
        return [0] if self.mode == "single" else [0, 1]

    def kill(self, victim: int) -> bool:
        """SIGKILL the victim; False if it had ended already."""
        pid_file = self.folder / f"worker{victim}.pid"
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
            return True
        except (ProcessLookupError, FileNotFoundError, ValueError):
            return False

    def wait(self) -> int:
        return self.process.wait(timeout=TIMEOUT + 30)

    def result(self) -> dict:
        return dict(np.load(self.folder / "worker0.npz"))


def _events(trace: Path) -> list[tuple[float, str]]:
    """A trace's events: (the monotonic clock, the event), in order."""
    if not trace.exists():
        return []
    pairs = [line.split(" ", 1) for line in trace.read_text().splitlines()]
    return [(float(pair[0]), pair[1]) for pair in pairs if len(pair) == 2]


def _phase(events: list[tuple[float, str]], until: float) -> str:
    """What the fit was doing at ``until``: its last event then, named."""
    before = [text for when, text in events if when <= until]
    saves = [text for text in before if text.startswith("save")]
    if saves and saves[-1].endswith("begin"):
        return f"in {saves[-1].rsplit(' ', 1)[0]}"
    progress = [text for text in before if text.split()[0] in ("read", "pass", "step")]
    if not progress:
        return "init: the sample (before any pass)"
    last = progress[-1]
    if last.startswith("read") and not any(t.startswith(("pass", "step")) for t in before):
        return f"init: pass {last.split()[1]} over the data"
    if last.startswith("read"):  # after the passes or steps: labelling every row
        return f"labels: pass {last.split()[1]} over the data"
    return last


def _resumed_at(events: list[tuple[float, str]]) -> str:
    """Where a run resumed: after a mini-batch step, or at a Lloyd pass."""
    steps = [text for _, text in events if text.startswith("resume after step")]
    if steps:
        return steps[0][len("resume ") :]
    first = [text for _, text in events if text.split()[0] == "pass"]
    return first[0] if first else "no pass (finished from its checkpoint)"


def _save_length(events) -> float:
    begins = {text.split()[1]: when for when, text in events if text.endswith("begin")}
    ends = [(when, text.split()[1]) for when, text in events if text.endswith(" end")]
    lengths = [when - begins[number] for when, number in ends if number in begins]
    return float(np.median(lengths)) if lengths else 0.0


def scenario(name: str, data: Path, work: Path, kills: int, rng: random.Random) -> dict:
    mode, flags = SCENARIOS[name]
    reference_run = Run(mode, data, work / "reference", flags)
    assert reference_run.wait() == 0, f"{name}: the uninterrupted fit failed"
    reference = reference_run.result()  # never stopped, no checkpoints
    # The uninterrupted run with checkpoints: its length, its saves and theirs.
    checked = Run(mode, data, work / "checked", [*flags, f"--checkpoint_dir={work / 'ck0'}"])
    assert checked.wait() == 0
    events = checked.events()
    saves = sorted({int(t.split()[1]) for _, t in events if t.startswith("save")})
    save_length = _save_length(events)
    length = events[-1][0] - checked.began()
    record: list[dict] = []
    chain = 0
    while len(record) < kills:
        chain += 1
        checkpoint_dir = work / f"chain{chain}"
        args = [*flags, f"--checkpoint_dir={checkpoint_dir}"]
        for attempt in range(CHAIN + 1):
            run = Run(mode, data, work / f"chain{chain}-run{attempt}", args)
            last = attempt == CHAIN or len(record) == kills
            killed = None
            if not last:
                aimed = rng.random() < 0.25
                victim = rng.choice(run.victims())
                save_number = rng.choice(saves) if saves else None
                delay = rng.uniform(0, save_length if aimed else length)
                deadline = time.monotonic() + TIMEOUT
                while run.began() is None and run.process.poll() is None:
                    time.sleep(0.005)
                began = run.began()
                if began is not None:
                    if aimed:  # wait for save `save_number` to begin, or the run to end
                        target = f"save {save_number} begin"
                        while run.process.poll() is None and time.monotonic() < deadline:
                            hits = [w for w, t in run.events() if t == target]
                            if hits:
                                time.sleep(max(0.0, hits[0] + delay - time.monotonic()))
                                break
                            time.sleep(0.001)
                    else:
                        time.sleep(max(0.0, began + delay - time.monotonic()))
                    at = time.monotonic()
                    if run.process.poll() is None and run.kill(victim):
                        killed = {
                            "chain": chain, "run": attempt, "victim": victim,
                            "aimed": f"save {save_number}" if aimed else "uniform",
                            "seconds_into_fit": round(at - began, 3),
                        }  # fmt: skip
            code = run.wait()
            if killed is not None:
                killed["phase"] = _phase(run.events(), at)
                if mode != "single":  # the other worker ended by itself: with the error,
                    # or fitted, if the victim died after their last collective
                    other = 1 - killed["victim"]
                    report = json.loads((run.folder / "report.json").read_text())
                    if report[other]["returncode"] == 0:
                        killed["survivor"] = "had fitted"
                    else:
                        error = (run.folder / f"worker{other}.error").read_text()
                        assert error.startswith("LostTaskError: the fit lost task"), error
                        killed["survivor"] = "LostTaskError"
                record.append(killed)
                continue
            assert code == 0, f"{name}: run {run.folder} failed ({code})"
            fit = run.result()
            for key in ("centers", "labels", "inertia", "n_iter"):
                np.testing.assert_array_equal(fit[key], reference[key], err_msg=f"{name}: {key}")
            break
        # where each killed run's successor resumed
        for entry in record:
            if entry["chain"] == chain:
                following = work / f"chain{chain}-run{entry['run'] + 1}" / "trace"
                entry["resumed_at"] = _resumed_at(_events(following))
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return {
        "scenario": name, "fit_seconds": round(length, 3), "saves": len(saves),
        "save_seconds": round(save_length, 4), "kills": record, "chains": chain,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "build" / "faults" / "random_kills.json"))
    parser.add_argument("--scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="random-kills-"))
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=14_000, n_features=4, centers=10, cluster_std=3.0,
                      random_state=7)  # fmt: skip
    np.save(work / "X.npy", X.astype(np.float32))
    results = []
    started = time.monotonic()
    for index, name in enumerate(args.scenarios):
        rng = random.Random(f"{args.seed} {name}")  # a scenario's kills, run alone or not
        result = scenario(name, work / "X.npy", work / f"s{index}", args.kills, rng)
        results.append(result)
        phases = [entry["phase"].split()[0] for entry in result["kills"]]
        print(f"{name}: {len(result['kills'])} kills in {result['chains']} chains, every "
              f"chain's end bit-identical; phases {dict(Counter(phases))}", flush=True)  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1, default=str))
    print(f"{sum(len(r['kills']) for r in results)} kills in {time.monotonic() - started:.0f} s; "
          f"report: {args.out}")  # fmt: skip
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
