"""Processes for the bench: start one and wait for the line that says it is ready (a bounded
wait on its output, never a fixed sleep), resident memory from /proc, free ports."""
import os
import re
import selectors
import signal
import socket
import subprocess
import threading
import time


class BenchError(Exception):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process whose readiness is a line on stdout or stderr matching `ready`."""

    def __init__(self, name, cmd, ready, log_path, timeout=120, env=None, cwd=None):
        self.name = name
        self.log = open(log_path, "w")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        self.match = self._wait_for(re.compile(ready), timeout)
        self.ready_s = time.perf_counter() - t0

    def _wait_for(self, pattern, timeout):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        sel.register(self.proc.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        pending = {self.proc.stdout: b"", self.proc.stderr: b""}
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise BenchError(f"{self.name} not ready within {timeout} s (log: {self.log.name})")
            for key, _ in sel.select(left):
                chunk = os.read(key.fileobj.fileno(), 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    if not sel.get_map():
                        raise BenchError(f"{self.name} exited with {self.proc.wait()} before "
                                         f"it was ready (log: {self.log.name})")
                    continue
                self.log.write(chunk.decode(errors="replace"))
                self.log.flush()
                pending[key.fileobj] += chunk
                *lines, pending[key.fileobj] = pending[key.fileobj].split(b"\n")
                for line in lines:
                    m = pattern.search(line.decode(errors="replace"))
                    if m:
                        sel.close()
                        self._drain()
                        return m

    def _drain(self):
        # Keep reading its output in the background so a chatty server never blocks on a pipe.

        def pump(stream):
            for line in iter(stream.readline, b""):
                self.log.write(line.decode(errors="replace"))
            self.log.flush()

        self.pumps = [threading.Thread(target=pump, args=(stream,), daemon=True)
                      for stream in (self.proc.stdout, self.proc.stderr)]
        for t in self.pumps:
            t.start()

    def rss_mb(self):
        return rss_mb(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in getattr(self, "pumps", []):
            t.join(timeout=10)  # its pipes end with the process
        self.log.close()


def rss_mb(pid):
    """Resident set (VmRSS) of one process and its children, in MiB."""
    total = 0
    pids = [pid] + children(pid)
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def children(pid):
    out = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            for c in f.read().split():
                out.append(int(c))
                out.extend(children(int(c)))
    except OSError:
        pass
    return out
