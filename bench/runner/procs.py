"""Processes for the bench: start one and wait for the line that says it is ready (a bounded
wait on its output, never a fixed sleep), resident memory and CPU time from /proc, free ports."""
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


class NotifySocket:
    """A $NOTIFY_SOCKET as systemd makes one for a Type=notify unit: a datagram socket the
    service sends READY=1 and STATUS=... to."""

    def __init__(self, path):
        if os.path.exists(path):
            os.unlink(path)
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def wait_for(self, line, timeout, proc):
        """Until a datagram holds `line` (bounded; the process ending first is an error)."""
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                raise BenchError(f"no {line} on {self.path} within {timeout} s "
                                 f"(exit code {proc.poll()})")
            if sel.select(min(left, 1.0)):  # 1 s: to notice a process that ended
                if line in self.sock.recv(4096).decode(errors="replace").splitlines():
                    return

    def close(self):
        self.sock.close()
        os.unlink(self.path)


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
        self.pid = self.proc.pid
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
        # Keep reading its output in the background so a chatty server never blocks on a pipe;
        # the lines are kept for wait_line().
        self.lines, self.seen = [], threading.Condition()

        def pump(stream):
            for line in iter(stream.readline, b""):
                text = line.decode(errors="replace")
                self.log.write(text)
                with self.seen:
                    self.lines.append(text)
                    self.seen.notify_all()
            self.log.flush()
            with self.seen:
                self.lines.append(None)  # one end per stream: the process closed it
                self.seen.notify_all()

        self.pumps = [threading.Thread(target=pump, args=(stream,), daemon=True)
                      for stream in (self.proc.stdout, self.proc.stderr)]
        for t in self.pumps:
            t.start()

    def wait_line(self, pattern, timeout, since=0):
        """The first output line from index `since` on that matches `pattern` (woken by each new
        line, bounded); raises when the bound passes or the process closes its output first.
        Returns (match, index of the next line)."""
        pattern, deadline = re.compile(pattern), time.monotonic() + timeout
        with self.seen:
            while True:
                while since < len(self.lines):
                    line = self.lines[since]
                    since += 1
                    if line is None:
                        if self.lines.count(None) == 2:
                            raise BenchError(f"{self.name} ended before a line matching "
                                             f"{pattern.pattern!r} (log: {self.log.name})")
                        continue
                    m = pattern.search(line)
                    if m:
                        return m, since
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError(f"no line matching {pattern.pattern!r} from {self.name} "
                                     f"within {timeout} s (log: {self.log.name})")
                self.seen.wait(left)

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


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid):
    """CPU time (user + system, all threads) the process has used so far, in ms."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def wait_quiet(pids, window_s=0.1, bound_s=15):
    """Returns once none of the processes has used CPU for window_s: what a server still does
    after its last answer (llama-server's ggml threads spin for ~0.2 s after each graph) must
    not slow the next server measured. /proc offers no event for this, so it is sampled; the
    kernel counts CPU time in ticks, hence a window of several ticks. Returns the CPU ms each
    used meanwhile; raises when they are still busy after bound_s."""
    start = {pid: cpu_ms(pid) for pid in pids}
    last, still_since = dict(start), time.monotonic()
    deadline = still_since + bound_s
    while True:
        now = time.monotonic()
        if now - still_since >= window_s:
            return {pid: last[pid] - start[pid] for pid in pids}
        if now > deadline:
            raise BenchError(f"processes {pids} still busy {bound_s} s after the last request")
        time.sleep(TICK_MS / 1000)
        current = {pid: cpu_ms(pid) for pid in pids}
        if current != last:
            last, still_since = current, time.monotonic()


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
    """Every descendant: each thread's children (a server may spawn from any of its threads,
    as llama-server's router does)."""
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for c in f.read().split():
                    out.append(int(c))
                    out.extend(children(int(c)))
        except OSError:
            pass
    return out
