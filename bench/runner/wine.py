"""Figures under Wine, against TandemLlm and TandemTrainer installed from Tandem.msi in a fresh
prefix (as scripts/demo does): P6 resolution, P2 request overhead of the installed server and
P3 inference of tandem-llm.exe, each against llama-server.exe built the same way, P1
start-to-work split from the services' own log lines, P4 idle RSS of the services' Wine
processes, P5 recovery. Never compared with a native figure."""
import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timezone

from .clients import (LLAMA_SERVER_READY, Endpoint, llama_server_args, p2_rounds, p3_model,
                      p3_rounds, tool)
from .procs import BenchError, Server, free_port, rss_mb

WINE = "/usr/lib/wine/wine64"
WINESERVER = "/usr/lib/wine/wineserver64"
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z \[\w+\] (.*)$")


def winpath(path):
    return "Z:" + os.path.abspath(path).replace("/", "\\")


def stamp_us(text):
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1_000_000)


class Wine:
    def __init__(self, build, out, quick, msi, bench_exe, llama_server_exe="", vocab="",
                 p3_threads=0):
        self.build = build
        self.out = out
        self.llama_server_exe = llama_server_exe
        self.vocab = vocab
        self.p3_threads = p3_threads
        self.quick = quick
        self.msi = msi
        self.bench_exe = bench_exe
        self.prefix = os.path.join(build, "wine", "prefix")
        self.env = dict(os.environ, WINEPREFIX=self.prefix, WINEDEBUG="-all",
                        WINEDLLOVERRIDES="mscoree,mshtml=", WINEARCH="win64")
        self.keeper = None
        self.data = os.path.join(self.prefix, "drive_c", "ProgramData", "Tandem")

    def run(self, *args, timeout=300, check=True):
        r = subprocess.run([WINE, *args], env=self.env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise BenchError(f"wine {' '.join(args)}: exit {r.returncode}: "
                             f"{(r.stderr or r.stdout).strip()[-400:]}")
        return r.stdout.replace("\r", "")

    def ctl(self, *args, **kw):
        return self.run("C:\\Program Files\\Tandem\\tandemctl.exe", *args, **kw)

    # --- prefix -------------------------------------------------------------------------------
    def up(self):
        subprocess.run([WINESERVER, "-k"], env=self.env, capture_output=True)
        shutil.rmtree(self.prefix, ignore_errors=True)
        os.makedirs(self.prefix)
        detached = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, env=self.env)
        subprocess.run([WINESERVER, "-p"], **detached)
        subprocess.run([WINE, "wineboot", "-i"], **detached, check=True, timeout=300)
        # A first wineboot leaves two services.exe behind (TOOLCHAIN.md): restart once.
        subprocess.run([WINESERVER, "-k"], env=self.env, capture_output=True)
        subprocess.run([WINESERVER, "-p"], **detached)
        subprocess.run([WINE, "cmd", "/c", "exit"], **detached, timeout=120)
        # Wine ends its services when no ordinary Wine process is left: keep one waiting.
        self.keeper = subprocess.Popen([WINE, "cmd"], stdin=subprocess.PIPE,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       env=self.env)
        self.run("msiexec", "/i", winpath(self.msi), "/qn", timeout=600)
        self.url = self.ctl("wait", "--timeout", "120").strip()
        os.makedirs(os.path.join(self.prefix, "drive_c", "TandemBench"), exist_ok=True)

    def down(self):
        if self.keeper:
            self.keeper.stdin.close()
            try:
                self.keeper.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.keeper.kill()
        subprocess.run([WINESERVER, "-k"], env=self.env, capture_output=True)

    # --- P6 -----------------------------------------------------------------------------------
    def p6(self):
        n = "50" if self.quick else "500"
        out = self.run(winpath(self.bench_exe), "resolve", n, "C:\\TandemBench\\config.json")
        return json.loads(out)

    # --- P4 -----------------------------------------------------------------------------------
    def service_pids(self):
        """{exe name: [pid]} of the Wine processes running the services in this prefix."""
        found = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().decode(errors="replace")
                name = next((n for n in ("tandem-llm", "tandem-trainer") if f"{n}.exe" in cmd),
                            None)
                if not name:
                    continue
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if f"WINEPREFIX={self.prefix}".encode() not in f.read().split(b"\0"):
                        continue
            except OSError:
                continue
            found.setdefault(name, []).append(int(pid))
        return found

    def service_rss_mb(self):
        """VmRSS of the Wine processes running the services in this prefix (a Wine process maps
        Wine's own DLLs too: this is what the Linux kernel charges, not a Windows working set)."""
        found = {name: sum(rss_mb(pid) for pid in pids)
                 for name, pids in self.service_pids().items()}
        # What any Wine process costs: the idle `cmd` that keeps the services alive.
        found["wine cmd.exe (baseline)"] = rss_mb(self.keeper.pid)
        return found

    # --- P2, P3 against llama-server.exe --------------------------------------------------------
    def start_llama_server(self, model, threads, parallel, ctx_size):
        s = Server("llama-server", [WINE, winpath(self.llama_server_exe), *llama_server_args(
                       winpath(model), free_port(), threads, parallel, ctx_size)],
                   LLAMA_SERVER_READY, os.path.join(self.out, "wine-llama-server.log"),
                   env=self.env)
        s.port = int(s.match.group(1))
        return s

    def p2(self):
        """The installed TandemLlm as users meet it (its default config: tiny model, threads =
        cores, 2 slots of 2,048 tokens, a log line per request) against llama-server.exe with
        the same model, threads and slots; the native load client for both (Wine's sockets are
        the host's)."""
        if not self.llama_server_exe:
            raise BenchError("no --llama-server-exe")
        pids = self.service_pids().get("tandem-llm")
        if not pids:
            raise BenchError("TandemLlm's process is not running")
        port = int(self.url.rsplit(":", 1)[1].strip("/"))
        tandem = Endpoint("tandem", port, pids[0])
        model = os.path.join(self.prefix, "drive_c", "Program Files", "Tandem", "tandem-tiny.gguf")
        peer = self.start_llama_server(model, os.cpu_count() or 1, 2, 2048)
        try:
            n_health, n_compl = (300, 50) if self.quick else (2000, 300)
            results = p2_rounds(tool(self.build, "tandem-bench-load"), [tandem, peer],
                                2 if self.quick else 3, n_health, n_compl, self.quick)
            results["tandem"]["rss_mb"] = rss_mb(tandem.pid)
            results["llama-server"]["rss_mb"] = peer.rss_mb()
        finally:
            peer.stop()
        return results

    def p3(self):
        """tandem-llm.exe in the foreground (--console; the services stopped) against
        llama-server.exe: the same GGUF, threads, 4 slots of 256 tokens, as natively."""
        if not self.llama_server_exe:
            raise BenchError("no --llama-server-exe")
        model = p3_model(self.build, self.vocab)
        threads = self.p3_threads or min(os.cpu_count() or 1, 4)
        self.ctl("stop", "all", "--timeout", "120")
        config = os.path.join(self.prefix, "drive_c", "TandemBench", "p3-llm.json")
        with open(config, "w") as f:
            json.dump({"model": winpath(model), "port": free_port(), "port_range": 20,
                       "threads": threads, "ctx_size": 256, "parallel": 4, "log_level": "info"},
                      f)
        servers = [Server("tandem-p3", [WINE, "C:\\Program Files\\Tandem\\tandem-llm.exe",
                                        "--console", "--config", "C:\\TandemBench\\p3-llm.json"],
                          r"ready: http://127\.0\.0\.1:(\d+)",
                          os.path.join(self.out, "wine-tandem-p3.log"), env=self.env)]
        try:
            servers[0].port = int(servers[0].match.group(1))
            servers.append(self.start_llama_server(model, threads, 4, 256))
            results = p3_rounds(tool(self.build, "tandem-bench-stream"), servers, self.quick)
            results.update(model_mb=os.path.getsize(model) / 2**20, threads=threads)
            for s in servers:
                results[s.name]["loaded_rss_mb"] = s.rss_mb()
        finally:
            for s in servers:
                s.stop()
        return results

    # --- P1 -----------------------------------------------------------------------------------
    def log_tail(self, name, offset):
        path = os.path.join(self.data, "logs", f"{name}.log")
        with open(path, errors="replace") as f:
            f.seek(offset)
            return f.read()

    def log_size(self, name):
        try:
            return os.path.getsize(os.path.join(self.data, "logs", f"{name}.log"))
        except OSError:
            return 0

    @staticmethod
    def first(text, needle, since_us=0):
        for line in text.splitlines():
            m = STAMP.match(line)
            if m and needle(m.group(2)) and stamp_us(m.group(1)) >= since_us:
                return stamp_us(m.group(1)), m.group(2)
        raise BenchError(f"no log line like that in:\n{text[-2000:]}")

    def p1_once(self, index, trainer_first):
        self.ctl("stop", "all", "--timeout", "120")
        folder = os.path.join(self.prefix, "drive_c", "TandemBench")
        with open(os.path.join(folder, "p1.jsonl"), "w") as f:
            for i in range(3):
                f.write(json.dumps({"id": f"t{i}", "text": f"quiet river day {i}"}) + "\n")
        name = f"p1-{index}"
        with open(os.path.join(folder, f"{name}.json"), "w") as f:
            json.dump({"kind": "distill", "dataset": "p1.jsonl",
                       "labels": ["positive", "negative"], "epochs": 1}, f)
        self.ctl("submit", f"C:\\TandemBench\\{name}.json", "--name", name)
        llm_at, trainer_at = self.log_size("tandem-llm"), self.log_size("tandem-trainer")
        args = ["start", "--trainer-first"] if trainer_first else ["start"]
        t0 = json.loads(self.run(winpath(self.bench_exe), *args))["t0_us"]
        self.ctl("jobs", "--wait", name, "--timeout", "300", timeout=400)
        llm = self.log_tail("tandem-llm", llm_at)
        trainer = self.log_tail("tandem-trainer", trainer_at)
        t_start, _ = self.first(llm, lambda m: m.startswith("TandemLlm starting"))
        t_loaded, line = self.first(llm, lambda m: "loaded in" in m and m.endswith("answers"))
        t_ready, _ = self.first(llm, lambda m: m.startswith("ready:"))
        t_first, _ = self.first(llm, lambda m: m.startswith("POST /v1/completions 200"))
        t_trainer, _ = self.first(trainer, lambda m: m.startswith("TandemTrainer starting"))
        t_found, _ = self.first(trainer, lambda m: m.startswith("TandemLlm is at"))
        ms = lambda a, b: (b - a) / 1000  # noqa: E731
        return {
            "scm_to_process_ms": ms(t0, t_start),
            "model_load_ms": ms(t_start, t_loaded),
            "model_load_self_reported_ms": float(re.search(r"loaded in (\d+) ms", line).group(1)),
            "publication_ms": ms(t_loaded, t_ready),
            "trainer_started_after_ready_ms": ms(t_ready, t_trainer),
            "discovery_ms": ms(max(t_ready, t_trainer), t_found),
            "ready_to_resolved_ms": ms(t_ready, t_found),
            "resolved_to_first_request_done_ms": ms(t_found, t_first),
            "total_ms": ms(t0, t_first),
        }

    def p1(self):
        runs = 1 if self.quick else 3
        out = {"windows_order": [], "trainer_waiting": []}
        for i in range(runs):
            out["windows_order"].append(self.p1_once(2 * i, False))
            out["trainer_waiting"].append(self.p1_once(2 * i + 1, True))
        return out

    # --- P5 -----------------------------------------------------------------------------------
    def p5(self):
        """TandemLlm's process killed mid-job -> the trainer's next successful request, with the
        SCM recovery the installer configured; then every item labelled exactly once."""
        import glob
        import selectors
        import time

        items = 40
        self.ctl("start", "all", "--timeout", "120")
        folder = os.path.join(self.prefix, "drive_c", "TandemBench")
        with open(os.path.join(folder, "p5.jsonl"), "w") as f:
            for i in range(items):
                f.write(json.dumps({"id": f"k{i}", "text": f"storm stone day {i}"}) + "\n")
        with open(os.path.join(folder, "p5.json"), "w") as f:
            json.dump({"kind": "distill", "dataset": "p5.jsonl",
                       "labels": ["positive", "negative"], "epochs": 1}, f)
        since = int(time.time() * 1_000_000)
        follow = subprocess.Popen([WINE, "C:\\Program Files\\Tandem\\tandemctl.exe", "logs",
                                   "llm", "--follow"], env=self.env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            self.ctl("submit", "C:\\TandemBench\\p5.json", "--name", "p5")
            # Wait (bounded, on the log stream) until the job is well under way.
            sel = selectors.DefaultSelector()
            sel.register(follow.stdout, selectors.EVENT_READ)
            seen, deadline, pending = 0, time.monotonic() + 120, b""
            while seen < 5:
                if not sel.select(max(0.0, deadline - time.monotonic())):
                    raise BenchError("P5: the job's requests never showed in the server log")
                chunk = os.read(follow.stdout.fileno(), 65536)
                if not chunk:
                    raise BenchError("P5: tandemctl logs --follow ended")
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    m = STAMP.match(line.decode(errors="replace").strip())
                    if m and stamp_us(m.group(1)) >= since and \
                            m.group(2).startswith("POST /v1/completions 200"):
                        seen += 1
        finally:
            follow.kill()
            follow.wait()
        llm_at = self.log_size("tandem-llm")
        # Wine's SCM applies no recovery action (it even keeps the dead process RUNNING), so the
        # bench starts the service again the moment the process has ended, as recovery would;
        # Windows adds the installed first-restart delay (1 s) on top.
        killed = json.loads(self.run(winpath(self.bench_exe), "kill-server", "--restart"))
        t_kill = killed["t_kill_us"]
        restarted_by = "the bench at process end (Wine has no SCM recovery); +1 s on Windows"
        r = self.ctl("jobs", "--wait", "p5", "--timeout", "60", timeout=90, check=False)
        if "done" not in r:
            status = self.ctl("status", check=False)
            raise BenchError("60 s after the kill and restart the job has not finished; "
                             "tandemctl status: " + " | ".join(status.strip().splitlines()[:4]))
        llm = self.log_tail("tandem-llm", llm_at)
        # Lines of requests that were answered before the kill come first in the log: only the
        # restarted server's count.
        t_start, _ = self.first(llm, lambda m: m.startswith("TandemLlm starting"), t_kill)
        t_ready, _ = self.first(llm, lambda m: m.startswith("ready:"), t_start)
        t_next, _ = self.first(llm, lambda m: m.startswith("POST /v1/completions 200"), t_ready)
        labels = glob.glob(os.path.join(self.data, "jobs", "done", "p5*", "labels.jsonl"))
        ids = []
        if labels:
            with open(labels[0]) as f:
                ids = [json.loads(line)["id"] for line in f if line.strip()]
        return {"restarted_by": restarted_by, "kill_to_restart_ms": (t_start - t_kill) / 1000,
                "kill_to_ready_ms": (t_ready - t_kill) / 1000,
                "kill_to_next_request_ms": (t_next - t_kill) / 1000,
                "items": items, "labelled": len(ids), "distinct": len(set(ids)),
                "labels_file": labels[0] if labels else None}
