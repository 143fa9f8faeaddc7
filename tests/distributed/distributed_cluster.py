"""Start a cluster of ``distributed_worker.py`` processes on loopback and wait for them.

    unshare -rn python distributed_cluster.py N_WORKERS TIMEOUT MODE DATA.npy OUT_DIR [...]
                                              [--cut_task=I] [worker flags]

TensorFlow's gRPC server listens on every interface (``0.0.0.0``/``[::]``: its address is
not configurable), so the test runs this launcher in a network namespace of its own
(``unshare -rn``) whose only interface is loopback: the servers can be reached from this
machine's 127.0.0.1 and nowhere else. The launcher brings loopback up, picks free ports on
127.0.0.1, gives each worker its ``TF_CONFIG``, and waits ``TIMEOUT`` seconds at most:
a worker still running then is killed, and the launcher fails. It writes what became of
each worker to ``OUT_DIR/report.json``: its exit status (negative: the signal that ended
it; ``null``: hung, and killed) and when it ended, in seconds from the cluster's start.

``--cut_task=I``: task ``I`` runs in a network namespace of its own (nested in this one,
loopback only), linked to the others by a relay (``Link``); when a task writes the file
``OUT_DIR/cut`` (``distributed_worker.py --cut_at_pass``), the launcher cuts the link:
from then on every packet between task ``I`` and the others is dropped, in both
namespaces, and the process lives on. The time of the cut goes to ``OUT_DIR/cut.json``.
"""

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

WORKER = Path(__file__).with_name("distributed_worker.py")
CLONE_NEWNET = 0x40000000
# The cut task's address as the others dial it: a loopback address of its own, so that the
# rules that cut it (``Link.cut``) can tell its traffic from the rest.
CUT_ADDRESS = "127.0.0.2"


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


def _blackhole(*selectors: list[str]) -> list[list[str]]:
    """``ip rule`` commands that drop, before the local table is looked up, every packet
    sent that matches one of ``selectors`` (an established connection stalls; a new one
    fails), then look the local table up after them."""
    rules = [["ip", "rule", "add", "pref", str(10 + i), *s, "blackhole"] for i, s in
             enumerate(selectors)]  # fmt: skip
    return [*rules, ["ip", "rule", "del", "pref", "0"], ["ip", "rule", "add", "pref", "100",
                                                         "lookup", "local"]]  # fmt: skip


class Link:
    """The only way between task ``cut``'s network namespace and this one: a relay that
    listens, in the task's namespace, on every other task's 127.0.0.1 port and, in this
    one, on ``CUT_ADDRESS`` at the task's port, and copies bytes both ways."""

    def __init__(self, ports: list[int], cut: int, seconds: float):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.holder = subprocess.Popen(["unshare", "-n", "sleep", str(seconds)])
        own = os.readlink("/proc/self/ns/net")
        self.netns = f"/proc/{self.holder.pid}/ns/net"
        while os.readlink(self.netns) == own:  # until unshare has made the namespace
            time.sleep(0.01)
        self.in_netns(["ip", "link", "set", "lo", "up"])
        for index, port in enumerate(ports):
            if index == cut:  # the others dial CUT_ADDRESS here; the relay, the task there
                self._listen(None, (CUT_ADDRESS, port), self.netns, ("127.0.0.1", port))
            else:
                self._listen(self.netns, ("127.0.0.1", port), None, ("127.0.0.1", port))

    def in_netns(self, command: list[str]) -> None:
        subprocess.run(["nsenter", f"--net={self.netns}", *command], check=True)

    def _socket(self, netns: str | None) -> socket.socket:
        """A TCP socket of namespace ``netns`` (``None``: this one): made by this thread
        after it joined the namespace, which the socket keeps."""
        if netns is None:
            return socket.socket()
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(netns, os.O_RDONLY)
        try:
            if self.libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            try:
                return socket.socket()
            finally:
                self.libc.setns(own, CLONE_NEWNET)
        finally:
            os.close(own)
            os.close(target)

    def _listen(self, netns, address, to_netns, to_address) -> None:
        listener = self._socket(netns)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(64)
        threading.Thread(
            target=self._accept, args=(listener, to_netns, to_address), daemon=True
        ).start()

    def _accept(self, listener, to_netns, to_address) -> None:
        while True:
            inbound, _ = listener.accept()
            outbound = self._socket(to_netns)
            if to_netns is None:  # into this namespace: from CUT_ADDRESS, which the cut drops
                outbound.bind((CUT_ADDRESS, 0))
            try:
                outbound.connect(to_address)
            except OSError:
                inbound.close()
                outbound.close()
                continue
            for source, sink in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=self._copy, args=(source, sink), daemon=True).start()

    @staticmethod
    def _copy(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(1 << 16):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def cut(self) -> None:
        """Drop every packet to or from the task: in its namespace, all of them; in this
        one, those to or from ``CUT_ADDRESS`` (the relay's side)."""
        for command in _blackhole([]):
            self.in_netns(command)
        for command in _blackhole(["from", CUT_ADDRESS], ["to", CUT_ADDRESS]):
            subprocess.run(command, check=True)

    def close(self) -> None:
        self.holder.kill()
        self.holder.wait()


def main() -> int:
    n_workers, timeout = int(sys.argv[1]), float(sys.argv[2])
    mode, data, out_dir, *rest = sys.argv[3:]
    flags = dict(arg[2:].split("=", 1) for arg in rest if "=" in arg)
    cut = int(flags["cut_task"]) if "cut_task" in flags else None
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    ports = free_ports(n_workers)
    link = Link(ports, cut, timeout + 60) if cut is not None else None
    addresses = [
        f"{CUT_ADDRESS if index == cut else '127.0.0.1'}:{port}" for index, port in enumerate(ports)
    ]
    workers = []
    for index in range(n_workers):
        config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        out = str(Path(out_dir) / f"worker{index}.npz")
        log = open(Path(out_dir) / f"worker{index}.log", "w")  # noqa: SIM115 (closed below)
        command = [sys.executable, str(WORKER), mode, data, out, *rest]
        if link is not None and index == cut:
            command = ["nsenter", f"--net={link.netns}", *command]
        workers.append(
            (subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT), log)
        )
    started = time.monotonic()
    ended: dict[int, float] = {}
    trigger = Path(out_dir) / "cut"
    while len(ended) < n_workers and time.monotonic() - started < timeout:
        if link is not None and trigger.exists() and not (Path(out_dir) / "cut.json").exists():
            link.cut()
            seconds = time.monotonic() - started
            (Path(out_dir) / "cut.json").write_text(json.dumps({"seconds": seconds}))
        for index, (process, _) in enumerate(workers):
            if index not in ended and process.poll() is not None:
                ended[index] = time.monotonic() - started
        time.sleep(0.05)
    report = []
    for index, (process, log) in enumerate(workers):
        hung = process.poll() is None
        if hung:  # its threads' stacks to its log (distributed_worker.py), then killed
            process.send_signal(signal.SIGUSR1)
            time.sleep(2)
            process.kill()  # never left behind
            process.wait()
        log.close()
        report.append(
            {"returncode": None if hung else process.returncode, "seconds": ended.get(index)}
        )
    if link is not None:
        link.close()
    (Path(out_dir) / "report.json").write_text(json.dumps(report))
    return 0 if all(worker["returncode"] == 0 for worker in report) else 1


if __name__ == "__main__":
    sys.exit(main())
