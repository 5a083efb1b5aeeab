"""P7 (issue #19): many models in one server. Three copies of P3's model (~270 M parameters,
Q8_0) in a models folder; for each, the first completion naming it (the load included) and the
next ones (loaded, a median of five), and the server's RSS (children included) with 1, 2 and 3 models loaded:
Tandem's router against llama-server's own router mode (--models-dir, one child process per
model) on the same files. The files were just written, so both read them from the OS cache."""
import json
import os
import shutil
import time
import urllib.request

from . import report
from .clients import LLAMA_SERVER_READY, p3_model
from .procs import BenchError, Server, free_port, wait_quiet

NAMES = ("m1", "m2", "m3")


def first_token_s(port, model):
    body = json.dumps({"model": model, "prompt": "Hello", "max_tokens": 1,
                       "temperature": 0}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as r:
        r.read()
        if r.status != 200:
            raise BenchError(f"{model}: HTTP {r.status}")
    return time.perf_counter() - t0


def measure(server):
    out = {"cold_s": {}, "loaded_s": {}, "rss_mb": [round(server.rss_mb(), 1)]}
    for name in NAMES:
        out["cold_s"][name] = round(first_token_s(server.port, name), 3)
        wait_quiet([server.pid])
        loaded = []
        for _ in range(5):  # one request is at the mercy of the scheduler: a median of five
            loaded.append(first_token_s(server.port, name))
            wait_quiet([server.pid])
        out["loaded_s"][name] = round(sorted(loaded)[2], 4)
        out["rss_mb"].append(round(server.rss_mb(), 1))
    return out


def run(native):
    base = p3_model(native.build, native.vocab)
    folder = os.path.join(native.out, "models")
    os.makedirs(folder, exist_ok=True)
    for name in NAMES:
        path = os.path.join(folder, name + ".gguf")
        if not os.path.exists(path):
            shutil.copyfile(base, path + ".tmp")
            os.replace(path + ".tmp", path)
    threads = native.p3_threads or min(os.cpu_count() or 1, 4)
    results = {"model_mb": round(os.path.getsize(base) / 2**20, 1), "threads": threads}

    config = os.path.join(native.out, "tandem-models.json")
    with open(config, "w") as f:
        json.dump({"port": free_port(), "port_range": 20, "threads": threads, "ctx_size": 256,
                   "parallel": 2, "log_level": "warning", "models_dir": folder,
                   "max_loaded_models": 4, "keep_alive": -1}, f)
    tandem = Server("tandem-models", [native.server_exe, config, native.model], r"^READY (\d+)",
                    os.path.join(native.out, "tandem-models.log"))
    tandem.port = int(tandem.match.group(1))
    try:
        results["tandem"] = measure(tandem)
    finally:
        tandem.stop()

    if native.llama_server:
        t = str(threads)
        peer = Server("llama-server-router",
                      [native.llama_server, "--models-dir", folder, "--models-max", "4",
                       "--host", "127.0.0.1", "--port", str(free_port()), "-t", t, "-tb", t,
                       "-c", "512", "-np", "2"],
                      LLAMA_SERVER_READY, os.path.join(native.out, "llama-server-router.log"))
        peer.port = int(peer.match.group(1))
        try:
            results["llama-server"] = measure(peer)
        finally:
            peer.stop()
    print(f"  P7 models: {results}", flush=True)
    return results


def rows(p7):
    """Table rows: cold and loaded first token (median of the three models), RSS by models."""
    if not p7:
        return []

    def median(values):
        return sorted(values)[len(values) // 2]

    t, peer = p7["tandem"], p7.get("llama-server")
    note = (f"{p7['model_mb']:.0f} MB Q8_0 each, {p7['threads']} threads; llama-server in router "
            "mode (--models-dir, a child process per model)")

    def peers(pick):
        return {"llama-server": pick(peer)} if peer else {}

    out = [
        report.row("P7 first token, a cold model (its load included)", "native", "ms",
                   median(t["cold_s"].values()) * 1000,
                   peers(lambda p: median(p["cold_s"].values()) * 1000), note=note),
        report.row("P7 first token, a loaded model", "native", "ms",
                   median(t["loaded_s"].values()) * 1000,
                   peers(lambda p: median(p["loaded_s"].values()) * 1000)),
    ]
    for k in (1, 2, 3):
        out.append(report.row(f"P7 server RSS, default + {k} model(s) loaded", "native", "MiB",
                              t["rss_mb"][k], peers(lambda p, k=k: p["rss_mb"][k])))
    return out
