"""Start a cluster of ``distributed_worker.py`` processes on 127.0.0.1 and wait for them.

    unshare -rn python distributed_cluster.py N_WORKERS TIMEOUT MODE DATA.npy OUT_DIR [...]

TensorFlow's gRPC server listens on every interface (``0.0.0.0``/``[::]``: its address is
not configurable), so the test runs this launcher in a network namespace of its own
(``unshare -rn``) whose only interface is loopback: the servers can be reached from this
machine's 127.0.0.1 and nowhere else. The launcher brings loopback up, picks free ports on
127.0.0.1, gives each worker its ``TF_CONFIG``, and waits ``TIMEOUT`` seconds at most:
a worker still running then is killed, and the launcher fails. It writes what became of
each worker to ``OUT_DIR/report.json``: its exit status (negative: the signal that ended
it; ``null``: hung, and killed) and when it ended, in seconds from the cluster's start.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

WORKER = Path(__file__).with_name("distributed_worker.py")


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports on 127.0.0.1 (held open together while chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def main() -> int:
    n_workers, timeout = int(sys.argv[1]), float(sys.argv[2])
    mode, data, out_dir, *rest = sys.argv[3:]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    addresses = [f"127.0.0.1:{port}" for port in free_ports(n_workers)]
    workers = []
    for index in range(n_workers):
        config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        out = str(Path(out_dir) / f"worker{index}.npz")
        log = open(Path(out_dir) / f"worker{index}.log", "w")  # noqa: SIM115 (closed below)
        workers.append(
            (
                subprocess.Popen(
                    [sys.executable, str(WORKER), mode, data, out, *rest],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
    started = time.monotonic()
    ended: dict[int, float] = {}
    while len(ended) < n_workers and time.monotonic() - started < timeout:
        for index, (process, _) in enumerate(workers):
            if index not in ended and process.poll() is not None:
                ended[index] = time.monotonic() - started
        time.sleep(0.1)
    report = []
    for index, (process, log) in enumerate(workers):
        hung = process.poll() is None
        if hung:
            process.kill()  # hung: killed, never left behind
            process.wait()
        log.close()
        report.append(
            {"returncode": None if hung else process.returncode, "seconds": ended.get(index)}
        )
    (Path(out_dir) / "report.json").write_text(json.dumps(report))
    return 0 if all(worker["returncode"] == 0 for worker in report) else 1


if __name__ == "__main__":
    sys.exit(main())
