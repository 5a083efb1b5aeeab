"""P8 (issue #21): training next to the server. The real Linux tandem-trainer runs a `finetune` job
(default thread budget: half the cores, below-normal priority) on a random-weight f32 model and
Debian's GPL-3 text; its tokens/s (metrics.json) against llama.cpp's own `llama-finetune` on the
same model, text, context and threads. Then the real tandem-llm's time to first token (1-token
completions of fresh prompts) idle and while the trainer trains beside it."""
import json
import os
import re
import shutil
import statistics
import subprocess
import time
import urllib.request

from . import report
from .clients import p3_model, tool
from .procs import BenchError, NotifySocket, Server, free_port, wait_quiet

CORPUS = "/usr/share/common-licenses/GPL-3"  # Debian's base-files: ~35 KB, ~8,000 tokens
CONTEXT = 256
# The trainer starts its steps, or says why it will not.
TRAINED = (r"finetune (?P<job>\S+): \d+ tokens, \d+ training|"
           r"(?P<failed>job file rejected.*|job \S+ failed: .*|running no job: .*)")
SAMPLES = 20


def model(native):
    """A random-weight llama model small enough to train on two cores (~30 M parameters, f32:
    llama.cpp's optimiser needs f32 weights), made once with the tiny-model tool."""
    path = os.path.join(native.build, "p8-model.gguf")
    if not os.path.exists(path):
        r = subprocess.run([tool(native.build, "make-tiny-model"), native.vocab, path + ".tmp",
                            "--embd", "256", "--layers", "4", "--heads", "4", "--ff", "704"],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise BenchError(f"make-tiny-model: {r.stderr.strip()}")
        os.replace(path + ".tmp", path)
    return path


class Pair:
    """tandem-llm and tandem-trainer as the Linux services, in a folder of their own."""

    def __init__(self, native, root, llm_model=None):
        shutil.rmtree(root, ignore_errors=True)
        for d in ("etc", "run", "data", "logs", "staging"):
            os.makedirs(os.path.join(root, d))
        self.root, self.port = root, free_port()
        with open(os.path.join(root, "etc", "llm-server.json"), "w") as f:
            json.dump({"port": self.port, "model": llm_model or native.model,
                       "log_level": "warning"}, f)
        with open(os.path.join(root, "etc", "trainer.json"), "w") as f:
            json.dump({}, f)
        env = dict(os.environ, TANDEM_CONFIG_DIR=os.path.join(root, "etc"),
                   TANDEM_RUNTIME_DIR=os.path.join(root, "run"),
                   TANDEM_DATA_DIR=os.path.join(root, "data"),
                   LOGS_DIRECTORY=os.path.join(root, "logs"))
        self.llm = self.notify = None
        if llm_model:  # as systemd starts it: READY=1 on $NOTIFY_SOCKET, awaited
            self.notify = NotifySocket(os.path.join(root, "tandem-llm.notify"))
            with open(os.path.join(root, "tandem-llm.out"), "w") as log:
                self.llm = subprocess.Popen([native.llm_exe], stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            env=dict(env, NOTIFY_SOCKET=self.notify.path))
            self.notify.wait_for("READY=1", 300, self.llm)
        self.trainer = None
        try:
            self.trainer = Server("tandem-trainer", [native.trainer_exe],
                                  r"TandemTrainer running; drop jobs in (\S+)/inbox",
                                  os.path.join(root, "tandem-trainer.out"), env=env)
        except BaseException:
            self.stop()
            raise
        self.jobs = self.trainer.match.group(1)

    def submit_finetune(self, name, base, epochs):
        """Drops the job in and waits for its first step; returns (job id, next line index)."""
        text = os.path.join(self.root, "data", "corpus.txt")  # a dataset is .txt or .jsonl
        shutil.copyfile(CORPUS, text)
        job = {"kind": "finetune", "base_model": base, "dataset": text, "output_model": name,
               "epochs": epochs, "context_length": CONTEXT, "validation_fraction": 0.05,
               "checkpoint_every": 1000}
        staged = os.path.join(self.root, "staging", name + ".json")
        with open(staged, "w") as f:
            json.dump(job, f)
        os.rename(staged, os.path.join(self.jobs, "inbox", name + ".json"))
        m, at = self.trainer.wait_line(TRAINED, 120)
        if m.group("failed"):
            raise BenchError(f"the finetune job did not start: {m.group('failed')}")
        return m.group("job"), at

    def metrics(self, job_id):
        with open(os.path.join(self.jobs, "done", job_id + ".work", "metrics.json")) as f:
            return json.load(f)

    def stop(self):
        if self.trainer:
            self.trainer.stop()
        if self.llm:
            self.llm.terminate()
            self.llm.wait(timeout=30)
            self.notify.close()


def tandem_tokens_per_s(native, base):
    """The trainer alone: one epoch, tokens/s as its metrics.json states it (training tokens per
    second of training steps)."""
    pair = Pair(native, os.path.join(native.out, "p8-alone"))
    try:
        job_id, at = pair.submit_finetune("speed", base, epochs=1)
        pair.trainer.wait_line("job " + re.escape(job_id) + " done, moved to", 1800, at)
        m = pair.metrics(job_id)
    finally:
        pair.stop()
    return {"tokens_per_s": m["tokens_per_second"], "steps": m["steps"],
            "perplexity": m["validation_perplexity"]}


def peer_tokens_per_s(llama_finetune, base, threads, out):
    """llama-finetune, one epoch: training tokens per second of its training pass, as Tandem's
    metrics.json counts them (validation apart). Its progress line after each window states the
    time in whole seconds; the first line that shows the final second bounds the time of the
    windows up to it within one window's time: windows there x context / that second."""
    log = os.path.join(out, "llama-finetune.log")
    with open(log, "w") as f:
        r = subprocess.run([llama_finetune, "-m", base, "-f", CORPUS, "-c", str(CONTEXT),
                            "-b", str(CONTEXT), "-ub", str(CONTEXT), "-t", str(threads),
                            "-epochs", "1", "-o", os.path.join(out, "llama-finetune-out.gguf")],
                           stdout=f, stderr=subprocess.STDOUT, timeout=3600)
    text = open(log, errors="replace").read()
    if r.returncode != 0:
        raise BenchError(f"llama-finetune exited with {r.returncode} (log: {log})")
    lines = [(int(data), int(h) * 3600 + int(mnt) * 60 + int(s)) for data, h, mnt, s in
             re.findall(r"train:\s*\[[^\]]*\] data=(\d+)/\d+ .*?t=(\d+):(\d+):(\d+)", text)]
    if not lines or lines[-1][1] < 1:
        raise BenchError(f"no progress line of a second or more in llama-finetune's output "
                         f"(log: {log})")
    last_second = lines[-1][1]
    windows = next(data for data, t in lines if t == last_second)
    return {"tokens_per_s": windows * CONTEXT / last_second, "windows": windows,
            "seconds": last_second, "train_windows": lines[-1][0]}


def first_token_ms(port, i):
    # A fresh start each time, so no prompt cache answers it; ~35 tokens.
    prompt = f"Request {i}: " + " ".join(["the quick brown fox jumps over the lazy dog"] * 3)
    body = json.dumps({"prompt": prompt, "max_tokens": 1, "temperature": 0}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        r.read()
    return (time.perf_counter() - t0) * 1000


def ttft(native, base):
    """tandem-llm serving P3's model idle, then while the trainer trains (two epochs, so the
    training outlasts the samples)."""
    pair = Pair(native, os.path.join(native.out, "p8-pair"), llm_model=p3_model(native.build,
                                                                                native.vocab))
    out = {}
    try:
        first_token_ms(pair.port, -1)  # the first request warms the slot
        idle = []
        for i in range(SAMPLES):
            wait_quiet([pair.llm.pid])
            idle.append(first_token_ms(pair.port, i))
        pair.submit_finetune("beside", base, epochs=2)
        busy = [first_token_ms(pair.port, 1000 + i) for i in range(SAMPLES)]
        if pair.trainer.proc.poll() is not None:
            raise BenchError("the trainer ended during the samples")
        for name, values in (("idle", idle), ("training", busy)):
            values.sort()
            out[name] = {"p50_ms": round(statistics.median(values), 1),
                         "p90_ms": round(values[int(0.9 * (len(values) - 1))], 1)}
    finally:
        pair.stop()
    return out


def run(native, llama_finetune):
    if not os.path.exists(CORPUS):
        raise BenchError(f"{CORPUS} is missing")
    base = model(native)
    threads = max(1, (os.cpu_count() or 2) // 2)  # the trainer's default budget
    results = {"threads": threads, "context": CONTEXT,
               "model_mb": round(os.path.getsize(base) / 2**20, 1)}
    results["tandem"] = tandem_tokens_per_s(native, base)
    if llama_finetune:
        results["llama-finetune"] = peer_tokens_per_s(llama_finetune, base, threads, native.out)
    results["ttft"] = ttft(native, base)
    print(f"  P8: {results}", flush=True)
    return results


def rows(p8):
    if not p8:
        return []
    note = (f"{p8['model_mb']:.0f} MB f32 model, GPL-3 text, context {p8['context']}, "
            f"{p8['threads']} thread(s)")
    peer = p8.get("llama-finetune")
    t = p8["ttft"]
    return [
        report.row("P8 finetune tokens/s (one epoch)", "native", "tok/s",
                   p8["tandem"]["tokens_per_s"],
                   {"llama-finetune": peer["tokens_per_s"]} if peer else {}, better="higher",
                   note=note),
        report.row("P8 server first token p50, while a finetune trains", "native", "ms",
                   t["training"]["p50_ms"], {"same server idle": t["idle"]["p50_ms"]},
                   note="P3's model; the ratio is idle / training"),
        report.row("P8 server first token p90, while a finetune trains", "native", "ms",
                   t["training"]["p90_ms"], {"same server idle": t["idle"]["p90_ms"]}),
    ]
