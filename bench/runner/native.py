"""Native figures: P2 request overhead (Tandem's server core vs uvicorn vs llama-server, one
client for all), P1 start-to-first-request (Tandem's ready signal vs the report's sleep/poll
pattern) and P4 idle/after-load RSS, all on this Linux machine."""
import json
import os
import statistics
import subprocess
import sys
import time

import requests

from .procs import BenchError, Server, free_port

COMPLETION = json.dumps({"prompt": "Hello", "max_tokens": 1, "temperature": 0})
PEERS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "peers")


class Native:
    def __init__(self, build, out, quick, llama_server, vocab="", p3_threads=0):
        self.build = build
        self.out = out
        self.quick = quick
        self.llama_server = llama_server
        self.model = os.path.join(build, "native", "service", "tandem-tiny.gguf")
        self.load_exe = os.path.join(build, "native", "bench", "tandem-bench-load")
        self.server_exe = os.path.join(build, "native", "bench", "tandem-bench-server")
        self.stream_exe = os.path.join(build, "native", "bench", "tandem-bench-stream")
        self.model_tool = os.path.join(build, "native", "tools", "make-tiny-model")
        self.vocab = vocab
        self.p3_threads = p3_threads

    # --- servers -----------------------------------------------------------------------------
    def start_tandem(self, name="tandem", log_level="warning", model=None, threads=1, parallel=2,
                     ctx_size=256):
        # warning: no line per request, like llama-server; "info" (the service's default) logs
        # every request to a file as the service does. ctx_size is per slot.
        config = os.path.join(self.out, f"{name}.json")
        with open(config, "w") as f:
            json.dump({"port": free_port(), "port_range": 20, "threads": threads,
                       "ctx_size": ctx_size, "parallel": parallel, "log_level": log_level}, f)
        cmd = [self.server_exe, config, model or self.model]
        if log_level == "info":
            cmd.append(os.path.join(self.out, f"{name}-logs"))
        s = Server(name, cmd, r"^READY (\d+)", os.path.join(self.out, f"{name}.log"))
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

    def start_llama_server(self, model=None, threads=1, parallel=2, ctx_size=256):
        port = free_port()
        # The same model, threads and context per slot as Tandem (-c is shared by the slots).
        t = str(threads)
        s = Server("llama-server", [self.llama_server, "-m", model or self.model, "--host",
                                    "127.0.0.1", "--port", str(port), "-t", t, "-tb", t,
                                    "-c", str(ctx_size * parallel), "-np", str(parallel)],
                   r"listening on http://127\.0\.0\.1:(\d+)",
                   os.path.join(self.out, "llama-server.log"))
        s.port = int(s.match.group(1))
        return s

    # --- P2 ------------------------------------------------------------------------------------
    def load(self, port, method, path, body, requests_, connections):
        cmd = [self.load_exe, "--port", str(port), "--method", method, "--path", path,
               "--requests", str(requests_), "--warmup", "20" if self.quick else "100",
               "--connections", str(connections)]
        if body:
            cmd += ["--body", body]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise BenchError(f"load {method} {path} on :{port}: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def p2(self):
        """All servers up at once (idle ones cost nothing), then rounds that measure each in
        turn, so the machine's drift hits every server alike; each figure is the median over
        the rounds."""
        rounds = 3 if self.quick else 5
        n_health = 1000 if self.quick else 5000
        n_compl = 100 if self.quick else 500
        servers = [self.start_tandem(), self.start_tandem("tandem-logged", "info"),
                   self.start_uvicorn()]
        if self.llama_server:
            servers.append(self.start_llama_server())
        runs = {s.name: {} for s in servers}
        try:
            results = {s.name: {"idle_rss_mb": s.rss_mb(), "ready_s": s.ready_s}
                       for s in servers}
            for r in range(rounds):
                order = servers[r % len(servers):] + servers[:r % len(servers)]
                for s in order:
                    plan = [("health_1c", "GET", "/health", "", n_health, 1),
                            ("completion_1c", "POST", "/v1/completions", COMPLETION, n_compl, 1)]
                    if s.name != "tandem-logged":
                        plan += [("health_4c", "GET", "/health", "", n_health, 4),
                                 ("completion_4c", "POST", "/v1/completions", COMPLETION,
                                  n_compl, 4)]
                    for key, method, path, body, n, conns in plan:
                        runs[s.name].setdefault(key, []).append(
                            self.load(s.port, method, path, body, n, conns))
            for s in servers:
                for key, samples in runs[s.name].items():
                    results[s.name][key] = {
                        m: statistics.median(x[m] for x in samples)
                        for m in ("p50_us", "p99_us", "mean_us", "rps")}
                    results[s.name][key]["rounds"] = samples
                results[s.name]["loaded_rss_mb"] = s.rss_mb()
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

    # --- P3 ------------------------------------------------------------------------------------
    def p3_model(self):
        """A random-weight llama model sized like a small real one (~270 M parameters, Q8_0 as
        small models ship), made once with the tiny-model tool and kept in the bench folder."""
        path = os.path.join(self.build, "p3-model.gguf")
        if not os.path.exists(path):
            if not self.vocab:
                raise BenchError("P3 needs --vocab (llama.cpp's models/ggml-vocab-llama-spm.gguf)")
            r = subprocess.run([self.model_tool, self.vocab, path + ".tmp", "--embd", "1024",
                                "--layers", "16", "--heads", "16", "--ff", "2816", "--q8"],
                               capture_output=True, text=True, timeout=1800)
            if r.returncode != 0:
                raise BenchError(f"make-tiny-model: {r.stderr.strip()}")
            os.replace(path + ".tmp", path)
        return path

    def stream(self, port, clients, requests_, max_tokens):
        r = subprocess.run([self.stream_exe, "--port", str(port), "--clients", str(clients),
                            "--requests", str(requests_), "--max-tokens", str(max_tokens)],
                           capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise BenchError(f"stream load on :{port}: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def p3(self):
        """Tokens/s and time to first token, 1 and 4 clients, the same GGUF, threads (= cores)
        and context per slot in both servers; rounds interleaved, medians."""
        model = self.p3_model()
        threads = self.p3_threads or min(os.cpu_count() or 1, 4)
        rounds, max_tokens = (1, 32) if self.quick else (3, 64)
        plan = [("1c", 1, 2), ("4c", 4, 2)]
        servers = [self.start_tandem("tandem-p3", model=model, threads=threads, parallel=4)]
        try:
            servers.append(self.start_llama_server(model=model, threads=threads, parallel=4))
            runs = {s.name: {} for s in servers}
            for r in range(rounds):
                order = servers[r % len(servers):] + servers[:r % len(servers)]
                for s in order:
                    for key, clients, per_client in plan:
                        runs[s.name].setdefault(key, []).append(
                            self.stream(s.port, clients, per_client, max_tokens))
            results = {"model_mb": os.path.getsize(model) / 2**20, "threads": threads}
            for s in servers:
                results[s.name] = {}
                for key, samples in runs[s.name].items():
                    results[s.name][key] = {
                        m: statistics.median(x[m] for x in samples)
                        for m in ("ttft_p50_ms", "stream_tps", "aggregate_tps")}
                    results[s.name][key]["rounds"] = samples
                results[s.name]["loaded_rss_mb"] = s.rss_mb()
                print(f"  P3 {s.name}: 1 client {results[s.name]['1c']['stream_tps']:.1f} tok/s, "
                      f"4 clients {results[s.name]['4c']['aggregate_tps']:.1f} tok/s", flush=True)
        finally:
            for s in servers:
                s.stop()
        return results
