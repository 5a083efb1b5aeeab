"""Native figures: P2 request overhead (Tandem's server core vs uvicorn vs llama-server, one
client for all), P1 start-to-first-request (Tandem's ready signal vs the report's sleep/poll
pattern), P3 inference against llama-server, P4 idle/after-load RSS of the server core and the
idle Linux service pair, all on this Linux machine."""
import json
import os
import re
import shutil
import subprocess
import sys
import time

import requests

from .clients import (COMPLETION, LLAMA_SERVER_READY, llama_server_args, p2_rounds, p3_model,
                      p3_rounds, tool)
from . import idle
from .procs import BenchError, NotifySocket, Server, free_port, rss_mb, wait_quiet

PEERS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "peers")


class Native:
    def __init__(self, build, out, quick, llama_server, vocab="", p3_threads=0):
        self.build = build
        self.out = out
        self.quick = quick
        self.llama_server = llama_server
        self.model = os.path.join(build, "native", "service", "tandem-tiny.gguf")
        self.load_exe = tool(build, "tandem-bench-load")
        self.server_exe = tool(build, "tandem-bench-server")
        self.stream_exe = tool(build, "tandem-bench-stream")
        self.llm_exe = os.path.join(build, "native", "service", "tandem-llm")
        self.trainer_exe = os.path.join(build, "native", "trainer", "tandem-trainer")
        self.vocab = vocab
        self.p3_threads = p3_threads

    # --- servers -----------------------------------------------------------------------------
    def start_tandem(self, name="tandem", log_level="warning", model=None, threads=1, parallel=2,
                     ctx_size=256, extra=None, env=None):
        # warning: no line per request, like llama-server; "info" (the service's default) logs
        # every request to a file as the service does. ctx_size is per slot.
        config = os.path.join(self.out, f"{name}.json")
        with open(config, "w") as f:
            json.dump({"port": free_port(), "port_range": 20, "threads": threads,
                       "ctx_size": ctx_size, "parallel": parallel, "log_level": log_level,
                       **(extra or {})}, f)
        cmd = [self.server_exe, config, model or self.model]
        if log_level == "info":
            cmd.append(os.path.join(self.out, f"{name}-logs"))
        s = Server(name, cmd, r"^READY (\d+)", os.path.join(self.out, f"{name}.log"), env=env)
        s.port = int(s.match.group(1))
        return s

    def start_uvicorn(self, name="uvicorn"):
        port = free_port()
        s = Server(name, [sys.executable, os.path.join(PEERS, "uvicorn_server.py"), "--port",
                          str(port), "--config", os.path.join(self.out, "config.json")],
                   r"Uvicorn running on http://127\.0\.0\.1:(\d+)",
                   os.path.join(self.out, f"{name}.log"))
        s.port = int(s.match.group(1))
        return s

    def start_llama_server(self, model=None, threads=1, parallel=2, ctx_size=256, exe=None,
                           extra=(), env=None):
        s = Server("llama-server", [exe or self.llama_server, *llama_server_args(
                       model or self.model, free_port(), threads, parallel, ctx_size), *extra],
                   LLAMA_SERVER_READY, os.path.join(self.out, "llama-server.log"), env=env)
        s.port = int(s.match.group(1))
        return s

    # --- P2 ------------------------------------------------------------------------------------
    def p2(self):
        """All servers up at once (idle ones cost nothing), then rounds that measure each in
        turn; each figure is the median over the rounds."""
        n_health = 1000 if self.quick else 5000
        n_compl = 100 if self.quick else 500
        servers = [self.start_tandem(), self.start_tandem("tandem-logged", "info"),
                   self.start_uvicorn()]
        if self.llama_server:
            servers.append(self.start_llama_server())
        try:
            idle = {s.name: s.rss_mb() for s in servers}
            results = p2_rounds(self.load_exe, servers, 3 if self.quick else 5, n_health,
                                n_compl, self.quick, one_conn_only={"tandem-logged"})
            for s in servers:
                results[s.name].update(idle_rss_mb=idle[s.name], ready_s=s.ready_s,
                                       loaded_rss_mb=s.rss_mb())
                print(f"  P2 {s.name}: health p50 {results[s.name]['health_1c']['p50_us']} us, "
                      f"completion p50 {results[s.name]['completion_1c']['p50_us']} us",
                      flush=True)
        finally:
            for s in servers:
                s.stop()
        return results

    # --- P1 (native) ---------------------------------------------------------------------------
    def p1_tandem_once(self):
        t0 = time.perf_counter()
        server = self.start_tandem("tandem-p1")  # returns on the READY line: no polling
        try:
            t_ready = time.perf_counter() - t0
            r = requests.post(f"http://127.0.0.1:{server.port}/v1/completions", data=COMPLETION,
                              headers={"Content-Type": "application/json"}, timeout=10)
            r.raise_for_status()
            return {"ready_s": t_ready, "first_request_s": time.perf_counter() - t0}
        finally:
            server.stop()

    def p1_peer_once(self, mode):
        workdir = os.path.join(self.out, f"peer-{mode}")
        os.makedirs(workdir, exist_ok=True)
        r = subprocess.run([sys.executable, os.path.join(PEERS, "start_training_peer.py"),
                            "--mode", mode, "--workdir", workdir],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise BenchError(f"peer {mode}: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def p1(self):
        runs = 1 if self.quick else 3
        out = {"tandem": [], "peer_sleep6": [], "peer_poll10ms": []}
        for _ in range(runs):
            out["tandem"].append(self.p1_tandem_once())
            out["peer_poll10ms"].append(self.p1_peer_once("poll10ms"))
            out["peer_sleep6"].append(self.p1_peer_once("sleep6"))
        print(f"  P1 native: tandem {out['tandem'][-1]}, peer {out['peer_poll10ms'][-1]}",
              flush=True)
        return out

    # --- P4: the Linux service pair ------------------------------------------------------------
    def pair_idle(self):
        """The real tandem-llm and tandem-trainer (the Linux services of #9: the same service
        bodies as on Windows), started as systemd starts Type=notify units (READY=1 on
        $NOTIFY_SOCKET awaited, no polling), default configs; RSS once both are idle."""
        root = os.path.join(self.out, "pair")
        shutil.rmtree(root, ignore_errors=True)
        for d in ("etc", "run", "data", "logs"):
            os.makedirs(os.path.join(root, d))
        with open(os.path.join(root, "etc", "llm-server.json"), "w") as f:
            json.dump({"port": free_port(), "model": self.model}, f)
        with open(os.path.join(root, "etc", "trainer.json"), "w") as f:
            json.dump({}, f)
        procs, sockets, out = [], [], {}
        try:
            for name, exe in (("tandem-llm", self.llm_exe), ("tandem-trainer", self.trainer_exe)):
                notify = NotifySocket(os.path.join(root, f"{name}.notify"))
                sockets.append(notify)  # open until the end: they say STOPPING=1 there too
                env = dict(os.environ, TANDEM_CONFIG_DIR=os.path.join(root, "etc"),
                           TANDEM_RUNTIME_DIR=os.path.join(root, "run"),
                           TANDEM_DATA_DIR=os.path.join(root, "data"),
                           LOGS_DIRECTORY=os.path.join(root, "logs"), NOTIFY_SOCKET=notify.path)
                t0 = time.perf_counter()
                with open(os.path.join(root, f"{name}.out"), "w") as log:
                    procs.append(subprocess.Popen([exe], env=env, stdin=subprocess.DEVNULL,
                                                  stdout=log, stderr=subprocess.STDOUT))
                notify.wait_for("READY=1", 120, procs[-1])
                out[f"{name}_ready_ms"] = 1000 * (time.perf_counter() - t0)
            wait_quiet([p.pid for p in procs], window_s=0.5)
            for name, p in zip(("tandem-llm", "tandem-trainer"), procs):
                out[f"{name}_idle_rss_mb"] = rss_mb(p.pid)
            out["idle_window_s"] = 10 if self.quick else idle.WINDOW_S
            out["idle_ticks"] = idle.ticks_over(
                {name: [p.pid] for name, p in zip(("tandem-llm", "tandem-trainer"), procs)},
                out["idle_window_s"])
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=30)
            for notify in sockets:
                notify.close()
        print(f"  P4 native pair: {out}", flush=True)
        return out

    # --- P3 ------------------------------------------------------------------------------------
    def p3(self):
        """Tokens/s and time to first token, 1 and 4 clients, the same GGUF, threads (= cores)
        and context per slot in both servers; rounds interleaved, medians."""
        model = p3_model(self.build, self.vocab)
        threads = self.p3_threads or min(os.cpu_count() or 1, 4)
        servers = [self.start_tandem("tandem-p3", model=model, threads=threads, parallel=4)]
        try:
            servers.append(self.start_llama_server(model=model, threads=threads, parallel=4))
            results = self.p3_measure(servers, model, threads, self.quick, "P3")
            results["cache_ram"] = cache_ram(metrics(servers[0].port))
            return results
        finally:
            for s in servers:
                s.stop()

    def p3_measure(self, servers, model, threads, quick, label):
        """P3's rounds over servers already started, with each one's RSS after them."""
        results = p3_rounds(self.stream_exe, servers, quick)
        results.update(model_mb=os.path.getsize(model) / 2**20, threads=threads)
        for s in servers:
            results[s.name]["loaded_rss_mb"] = s.rss_mb()
            print(f"  {label} {s.name}: 1 client {results[s.name]['1c']['stream_tps']:.1f} tok/s, "
                  f"4 clients {results[s.name]['4c']['aggregate_tps']:.1f} tok/s", flush=True)
        return results

    # --- P3 on a software GPU ----------------------------------------------------------------
    def p3_vulkan(self, llama_server_vulkan):
        """P3 with every layer on ggml's Vulkan backend, on Mesa's lavapipe (a software Vulkan
        device on these same CPU cores): Tandem with n_gpu_layers 99 against llama-server built
        with -DGGML_VULKAN=ON, run with -ngl 99. A functional comparison of the two offload
        paths, not a GPU's speed. One round; a server that does not put every layer on the
        device is an error, not a figure."""
        if not os.path.exists(LAVAPIPE):
            raise BenchError(f"no lavapipe ICD at {LAVAPIPE} (apt install mesa-vulkan-drivers)")
        env = dict(os.environ, VK_ICD_FILENAMES=LAVAPIPE, VK_DRIVER_FILES=LAVAPIPE,
                   GGML_VK_VISIBLE_DEVICES="0")
        model = p3_model(self.build, self.vocab)
        threads = self.p3_threads or min(os.cpu_count() or 1, 4)
        servers = [self.start_tandem("tandem-p3", model=model, threads=threads, parallel=4,
                                     extra={"n_gpu_layers": 99}, env=env)]
        try:
            layers = offloaded_layers(metrics(servers[0].port))
            # llama-server names its layers on the GPU only at a verbose log level, which would
            # slow the run measured: a start of its own shows them (the same options otherwise).
            check = self.start_llama_server(model=model, threads=threads, parallel=4,
                                            exe=llama_server_vulkan,
                                            extra=["-ngl", "99", "-lv", "4"], env=env)
            check.stop()
            with open(check.log.name) as f:
                peer = re.search(r"offloaded (\d+)/(\d+) layers to GPU", f.read())
            if not peer or peer.group(1) != peer.group(2):
                raise BenchError("llama-server -ngl 99 did not offload every layer "
                                 f"(log: {check.log.name})")
            servers.append(self.start_llama_server(model=model, threads=threads, parallel=4,
                                                   exe=llama_server_vulkan, extra=["-ngl", "99"],
                                                   env=env))
            results = self.p3_measure(servers, model, threads, True, "P3 lavapipe")
            results.update(tandem_gpu_layers=layers, peer_gpu_layers=peer.group(0))
            return results
        finally:
            for s in servers:
                s.stop()


LAVAPIPE = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"


def metrics(port):
    """Tandem's /metrics text."""
    return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text


def offloaded_layers(text):
    """Tandem's own account of its layers on a GPU (its /metrics): all of them, or an error."""
    total = re.search(r"^tandem_model_layers (\d+)", text, re.M)
    on_gpu = sum(int(n) for n in re.findall(r"^tandem_gpu_layers\{[^}]*\} (\d+)", text, re.M))
    if not total or on_gpu < int(total.group(1)):
        raise BenchError(f"Tandem put {on_gpu} of {total and total.group(1)} layers on the GPU")
    return f"{on_gpu}/{total.group(1)}"


def cache_ram(text):
    """What Tandem's RAM prompt cache holds, and its hits (from its /metrics)."""
    values = {name: float(v) for name, v in
              re.findall(r"^(tandem_cache_ram_\w+) (\S+)$", text, re.M)}
    return {"mib": values.get("tandem_cache_ram_bytes", 0) / 2**20,
            "hits": values.get("tandem_cache_ram_hits_total", 0),
            "misses": values.get("tandem_cache_ram_misses_total", 0)}
