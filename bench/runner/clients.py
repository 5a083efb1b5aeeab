"""The native load clients every server is measured with (native servers and Wine's alike: a
Windows server under Wine listens on the host's sockets), and the interleaved rounds."""
import json
import os
import statistics
import subprocess

from .procs import BenchError, wait_quiet

COMPLETION = json.dumps({"prompt": "Hello", "max_tokens": 1, "temperature": 0})


def tool(build, name):
    """A native bench program built by scripts/bench."""
    return os.path.join(build, "native", "tools" if name == "make-tiny-model" else "bench", name)


def p3_model(build, vocab):
    """P3's GGUF: a random-weight llama model sized like a small real one (~270 M parameters,
    Q8_0 as small models ship), made once with the tiny-model tool and kept in the bench folder."""
    path = os.path.join(build, "p3-model.gguf")
    if not os.path.exists(path):
        if not vocab:
            raise BenchError("P3 needs --vocab (llama.cpp's models/ggml-vocab-llama-spm.gguf)")
        r = subprocess.run([tool(build, "make-tiny-model"), vocab, path + ".tmp", "--embd", "1024",
                            "--layers", "16", "--heads", "16", "--ff", "2816", "--q8"],
                           capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise BenchError(f"make-tiny-model: {r.stderr.strip()}")
        os.replace(path + ".tmp", path)
    return path


def llama_server_args(model, port, threads, parallel, ctx_size):
    """llama-server's options for the same model, threads and context per slot as Tandem's
    (its -c is shared by the slots)."""
    t = str(threads)
    return ["-m", model, "--host", "127.0.0.1", "--port", str(port), "-t", t, "-tb", t,
            "-c", str(ctx_size * parallel), "-np", str(parallel)]


LLAMA_SERVER_READY = r"listening on http://127\.0\.0\.1:(\d+)"


class Endpoint:
    """A server to measure: its name in the table, its port and the process that answers."""

    def __init__(self, name, port, pid):
        self.name, self.port, self.pid = name, port, pid


def load(exe, port, method, path, body, requests_, connections, warmup):
    """tandem-bench-load: keep-alive latency percentiles and throughput."""
    cmd = [exe, "--port", str(port), "--method", method, "--path", path,
           "--requests", str(requests_), "--warmup", str(warmup),
           "--connections", str(connections)]
    if body:
        cmd += ["--body", body]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise BenchError(f"load {method} {path} on :{port}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def stream(exe, port, clients, requests_, max_tokens, shared_start=False):
    """tandem-bench-stream: streamed greedy completions, time to first token and tokens/s."""
    r = subprocess.run([exe, "--port", str(port), "--clients", str(clients), "--requests",
                        str(requests_), "--max-tokens", str(max_tokens)] +
                       (["--shared-start"] if shared_start else []),
                       capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise BenchError(f"stream load on :{port}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def rounds(endpoints, count, plan, metrics):
    """Measures every endpoint in turn, `count` rounds in rotating order, so the machine's
    drift hits all alike. plan(endpoint) -> [(key, measure)]. Before each measurement every
    server must be idle (a server's work after its answer must not slow the next one); the CPU
    a server uses after its measurement's last answer is kept as `cpu_after_ms`. Returns
    {name: {key: {metric: median, ..., "rounds": [samples]}}}."""
    pids = [e.pid for e in endpoints]
    runs = {e.name: {} for e in endpoints}
    for r in range(count):
        for e in endpoints[r % len(endpoints):] + endpoints[:r % len(endpoints)]:
            for key, measure in plan(e):
                wait_quiet(pids)
                sample = measure()
                sample["cpu_after_ms"] = wait_quiet([e.pid])[e.pid]
                runs[e.name].setdefault(key, []).append(sample)
    return {name: {key: dict({m: statistics.median(x[m] for x in samples)
                              for m in (*metrics, "cpu_after_ms")}, rounds=samples)
                   for key, samples in by_key.items()}
            for name, by_key in runs.items()}


def p2_rounds(load_exe, endpoints, count, n_health, n_compl, quick, one_conn_only=()):
    """P2: /health and a 1-token completion, 1 and 4 keep-alive connections."""
    warmup = 20 if quick else 100

    def plan(e):
        steps = [("health_1c", "GET", "/health", "", n_health, 1),
                 ("completion_1c", "POST", "/v1/completions", COMPLETION, n_compl, 1)]
        if e.name not in one_conn_only:
            steps += [("health_4c", "GET", "/health", "", n_health, 4),
                      ("completion_4c", "POST", "/v1/completions", COMPLETION, n_compl, 4)]
        return [(key, lambda m=m, p=p, b=b, n=n, c=c: load(load_exe, e.port, m, p, b, n, c,
                                                            warmup))
                for key, m, p, b, n, c in steps]

    return rounds(endpoints, count, plan, ("p50_us", "p99_us", "mean_us", "rps"))


def p3_rounds(stream_exe, endpoints, quick):
    """P3: streamed completions from 1 and 4 clients at once, 2 each; then 1 client whose
    prompts share their start (a long instruction) and differ at the end."""
    max_tokens = 32 if quick else 64

    def plan(e):
        return [(key, lambda c=c, shared=shared: stream(stream_exe, e.port, c, 2, max_tokens,
                                                         shared))
                for key, c, shared in (("1c", 1, False), ("4c", 4, False),
                                       ("1c_shared", 1, True))]

    return rounds(endpoints, 1 if quick else 3, plan,
                  ("ttft_p50_ms", "ttft_mean_ms", "stream_tps", "aggregate_tps"))
