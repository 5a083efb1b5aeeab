#!/usr/bin/env python3
"""Runs every benchmark of bench/ in one go and prints one table (scripts/bench builds first).

  bench/run.py --build build/bench [--quick] [--llama-server PATH] [--llama-server-exe PATH]
               [--msi PATH] [--bench-exe PATH] [--vocab PATH] [--no-wine] [--no-native]
               [--no-p3] [--only-p3] [--only-models] [--p3-threads N]
"""
import argparse
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from runner import finetune, idle, models, report  # noqa: E402
from runner.native import Native  # noqa: E402
from runner.wine import Wine  # noqa: E402


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def native_rows(p2, p1, pair):
    rows = []
    llama = {"llama-server": None} if "llama-server" in p2 else {}

    def peers(path, key):
        out = {"uvicorn": p2["uvicorn"][path][key]}
        if llama:
            out["llama-server"] = p2["llama-server"][path][key]
        return out

    for path, label in (("health", "GET /health"), ("completion", "1-token completion")):
        note = "uvicorn's answer is canned: no inference" if path == "completion" else ""
        for key, what in (("p50_us", "p50"), ("p99_us", "p99")):
            rows.append(report.row(f"P2 {label} {what}, 1 conn", "native", "us",
                                   p2["tandem"][f"{path}_1c"][key], peers(f"{path}_1c", key),
                                   note=note))
        if "tandem-logged" in p2:
            rows.append(report.row(f"P2 {label} p50, 1 conn, Tandem logging each request",
                                   "native", "us", p2["tandem-logged"][f"{path}_1c"]["p50_us"],
                                   peers(f"{path}_1c", "p50_us"),
                                   note="log_level info (the default): a file line per request"))
        rows.append(report.row(f"P2 {label} throughput, 4 conns", "native", "req/s",
                               p2["tandem"][f"{path}_4c"]["rps"], peers(f"{path}_4c", "rps"),
                               better="higher", note=note))
    if p1:
        rows.append(report.row(
            "P1 spawn -> first completion done", "native", "ms",
            1000 * median(p1["tandem"], "first_request_s"),
            {"uvicorn+sleep 6 s": 1000 * median(p1["peer_sleep6"], "first_request_s"),
             "uvicorn+poll 10 ms": 1000 * median(p1["peer_poll10ms"], "first_request_s")},
            note="Tandem: READY line, no polling; client: python requests for all"))
    for key, label in (("idle_rss_mb", "idle"), ("loaded_rss_mb", "after load")):
        peers_rss = {"uvicorn": p2["uvicorn"][key]}
        if llama:
            peers_rss["llama-server"] = p2["llama-server"][key]
        rows.append(report.row(f"P4 server RSS {label}", "native", "MiB", p2["tandem"][key],
                               peers_rss, note="tiny model is 17 MB; uvicorn has no model"))
    for name, target in (("tandem-llm", "target: <= 20 MB above the 17 MB model"),
                         ("tandem-trainer", "target: <= 8 MB")):
        rows.append(report.row(f"P4 {name} idle RSS, Linux service", "native", "MiB",
                               pair[f"{name}_idle_rss_mb"], {}, note=target))
        rows.append(report.row(f"P1 exec {name} -> READY=1, Linux service", "native", "ms",
                               pair[f"{name}_ready_ms"], {}, note="defaults, tiny model"))
        rows.append(idle_row(name, "native", pair["idle_ticks"][name], pair["idle_window_s"]))
    return rows


def idle_row(name, where, ticks, window_s):
    return report.row(f"P4 {name} CPU idle for {window_s} s", where, "ticks", ticks, {},
                      note="target: 0-2 (noise); 1 tick = 10 ms")


def p3_rows(p3, where="native", tandem="tandem-p3", peer_name="llama-server"):
    rows = []
    note = (f"{p3['model_mb']:.0f} MB Q8_0 random-weight llama (~270 M params), "
            f"{p3['threads']} threads, greedy")
    if where == "lavapipe":
        note += (f"; layers on lavapipe, a software Vulkan device on the same cores (Tandem "
                 f"{p3['tandem_gpu_layers']}, llama-server {p3['peer_gpu_layers']}): a "
                 "functional comparison of the offload paths, not a GPU's speed")
    for key, label in (("1c", "1 client"), ("4c", "4 clients")):
        t, peer = p3[tandem][key], p3[peer_name][key]
        rows.append(report.row(f"P3 decode tok/s per stream, {label}", where, "tok/s",
                               t["stream_tps"], {"llama-server": peer["stream_tps"]},
                               better="higher", note=note))
        rows.append(report.row(f"P3 aggregate tok/s, {label}", where, "tok/s",
                               t["aggregate_tps"], {"llama-server": peer["aggregate_tps"]},
                               better="higher"))
        for stat in ("p50", "mean"):
            rows.append(report.row(f"P3 time to first token {stat}, {label}", where, "ms",
                                   t[f"ttft_{stat}_ms"], {"llama-server": peer[f"ttft_{stat}_ms"]}))
        rows.append(report.row(f"P3 server CPU after its last answer, {label}", where, "ms",
                               t["cpu_after_ms"], {"llama-server": peer["cpu_after_ms"]},
                               note="CPU time used once the requests have ended (10 ms ticks)"))
    t, peer = p3[tandem]["1c_shared"], p3[peer_name]["1c_shared"]
    rows.append(report.row("P3 time to first token mean, prompts sharing their start", where,
                           "ms", t["ttft_mean_ms"], {"llama-server": peer["ttft_mean_ms"]},
                           note="1 client, 2 requests; only the end differs: cached starts reused"))
    if p3.get("cache_ram"):
        c = p3["cache_ram"]
        rows.append(report.row("P4 RAM prompt cache held after P3 load", where, "MiB", c["mib"], {},
                               note=f"cache_ram_mib 1024 (default); {c['hits']:.0f} prompts "
                                    f"restored from it, {c['misses']:.0f} it did not have; "
                                    "counted in the RSS row below"))
    rows.append(report.row("P4 server RSS after P3 load", where, "MiB",
                           p3[tandem]["loaded_rss_mb"],
                           {"llama-server": p3[peer_name]["loaded_rss_mb"]},
                           note=f"model file {p3['model_mb']:.0f} MB"))
    return rows


def wine_p2_rows(p2):
    rows = []
    note = "installed TandemLlm (tiny model, info log: a file line per request) vs llama-server.exe"
    for path, label in (("health", "GET /health"), ("completion", "1-token completion")):
        for key, what in (("p50_us", "p50"), ("p99_us", "p99")):
            rows.append(report.row(f"P2 {label} {what}, 1 conn", "Wine", "us",
                                   p2["tandem"][f"{path}_1c"][key],
                                   {"llama-server": p2["llama-server"][f"{path}_1c"][key]},
                                   note=note))
        rows.append(report.row(f"P2 {label} throughput, 4 conns", "Wine", "req/s",
                               p2["tandem"][f"{path}_4c"]["rps"],
                               {"llama-server": p2["llama-server"][f"{path}_4c"]["rps"]},
                               better="higher"))
    return rows


def wine_rows(p6, p1, rss, p5, idle_cpu=None):
    rows = []
    if p5:
        for key in ("kill_to_restart_ms", "kill_to_ready_ms", "kill_to_next_request_ms"):
            rows.append(report.row(f"P5 {key[:-3]}", "Wine", "ms", p5[key], {},
                                   note=f"restarted by {p5['restarted_by']}"))
        rows.append(report.row("P5 kill -> next request, with Windows' 1 s restart delay",
                               "Wine", "ms", p5["kill_to_next_request_ms"] + 1000, {},
                               note="the measured figure + the installed first-restart delay; "
                                    "target <= 2,000"))
        rows.append(report.row("P5 items labelled / distinct / in dataset", "Wine", "items",
                               p5["labelled"], {"distinct": p5["distinct"],
                                                "dataset": p5["items"]}, better="higher"))
    if p6:
        for key, what in (("p50_ms", "p50"), ("p99_ms", "p99")):
            rows.append(report.row(f"P6 resolve {what}", "Wine", "ms", p6["tandem"][key],
                                   {"port file + GET /health": p6["peer"][key]},
                                   note="Tandem: registry+SCM+pipe+/health, fresh resolver"))
        for part, value in p6.get("parts", {}).items():
            rows.append(report.row(f"P6 resolve part: {part} p50", "Wine", "ms", value["p50_ms"],
                                   {}, note="one check of the resolver alone"))
    if p1:
        for mode, label in (("windows_order", "llm, then trainer"),
                            ("trainer_waiting", "trainer waiting")):
            runs = p1[mode]
            for key in ("scm_to_process_ms", "model_load_ms", "publication_ms", "discovery_ms",
                        "ready_to_resolved_ms", "resolved_to_first_request_done_ms",
                        "total_ms"):
                rows.append(report.row(f"P1 {key[:-3]} ({label})", "Wine", "ms",
                                       median(runs, key), {}))
    if rss:
        for name, mb in sorted(rss.items()):
            rows.append(report.row(f"P4 {name} idle RSS", "Wine", "MiB", mb, {},
                                   note="Linux VmRSS of the Wine process, incl. Wine's DLLs"))
    if idle_cpu:
        for name, ticks in sorted(idle_cpu["ticks"].items()):
            rows.append(idle_row(name, "Wine", ticks, idle_cpu["window_s"]))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/bench")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--llama-server", default="")
    ap.add_argument("--llama-server-exe", default="", help="llama-server.exe for Wine's P2, P3")
    ap.add_argument("--llama-server-vulkan", default="",
                    help="llama-server built with -DGGML_VULKAN=ON, for P3 on lavapipe")
    ap.add_argument("--msi", default="")
    ap.add_argument("--bench-exe", default="")
    ap.add_argument("--no-wine", action="store_true")
    ap.add_argument("--no-native", action="store_true")
    ap.add_argument("--no-p3", action="store_true")
    ap.add_argument("--only-p3", action="store_true")
    ap.add_argument("--only-models", action="store_true", help="just P7, many models")
    ap.add_argument("--llama-finetune", default="", help="llama.cpp's llama-finetune for P8")
    ap.add_argument("--only-finetune", action="store_true", help="just P8, training")
    ap.add_argument("--vocab", default="")
    ap.add_argument("--p3-threads", type=int, default=0, help="default: the core count")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    out = os.path.join(a.build, "run")
    os.makedirs(out, exist_ok=True)
    started = time.time()
    rows, raw = [], {}

    if not a.no_native:
        native = Native(a.build, out, a.quick, a.llama_server, a.vocab,
                        a.p3_threads)
        if a.only_finetune:
            print("native: P8 training beside the server", flush=True)
            raw["p8"] = finetune.run(native, a.llama_finetune)
            rows += finetune.rows(raw["p8"])
        elif a.only_models:
            print("native: P7 many models", flush=True)
            raw["p7"] = models.run(native)
            rows += models.rows(raw["p7"])
        elif not a.only_p3:
            print("native: P2 request overhead", flush=True)
            raw["p2"] = native.p2()
            print("native: P1 spawn to first request", flush=True)
            raw["p1_native"] = native.p1()
            print("native: P4 the Linux service pair, idle", flush=True)
            raw["p4_pair"] = native.pair_idle()
            rows += native_rows(raw["p2"], raw["p1_native"], raw["p4_pair"])
        if not a.no_p3 and a.llama_server and not a.only_models and not a.only_finetune:
            print("native: P3 inference (model made once, ~1 GB)", flush=True)
            raw["p3"] = native.p3()
            rows += p3_rows(raw["p3"])
        if (not a.no_p3 and a.llama_server_vulkan and not a.only_models and
                not a.only_finetune and not a.quick):
            print("native: P3 with every layer on lavapipe (software Vulkan)", flush=True)
            try:
                raw["p3_vulkan"] = native.p3_vulkan(a.llama_server_vulkan)
                rows += p3_rows(raw["p3_vulkan"], where="lavapipe")
            except Exception as e:  # one figure failing must not lose the others
                raw.setdefault("errors", []).append(f"P3 on lavapipe: {e}")
                print(f"  P3 on lavapipe failed: {e}", flush=True)
        if not a.only_p3 and not a.only_models and not a.only_finetune and not a.quick:
            print("native: P7 many models", flush=True)
            raw["p7"] = models.run(native)
            rows += models.rows(raw["p7"])
            print("native: P8 training beside the server", flush=True)
            raw["p8"] = finetune.run(native, a.llama_finetune)
            rows += finetune.rows(raw["p8"])

    if not a.no_wine and not a.only_models and not a.only_finetune:
        wine = Wine(a.build, out, a.quick, a.msi, a.bench_exe, a.llama_server_exe, a.vocab,
                    a.p3_threads)
        print("Wine: fresh prefix on an Xvfb display (for the tray), msiexec /i Tandem.msi",
              flush=True)
        display = idle.Xvfb()
        wine.env["DISPLAY"] = display.display
        wine.up()
        steps = [("p4_wine", "P4 idle RSS", wine.service_rss_mb),
                 ("idle_wine", "P4 idle CPU, services and tray", lambda: idle.wine_idle(wine,
                                                                                  a.quick)),
                 ("p6", "P6 resolve", wine.p6),
                 ("p2_wine", "P2 request overhead", wine.p2)]
        if not a.no_p3:
            steps.append(("p3_wine", "P3 inference", wine.p3))
        steps += [("p1_wine", "P1 start to work", wine.p1), ("p5", "P5 recovery", wine.p5)]
        if a.only_p3:
            steps = [step for step in steps if step[0] == "p3_wine"]
        try:
            for key, what, step in steps:
                print(f"Wine: {what}", flush=True)
                try:
                    raw[key] = step()
                except Exception as e:  # one figure failing must not lose the others
                    raw[key] = None
                    raw.setdefault("errors", []).append(f"{what}: {e}")
                    print(f"  {what} failed: {e}", flush=True)
        finally:
            wine.down()
            display.stop()
        if raw.get("p2_wine"):
            rows += wine_p2_rows(raw["p2_wine"])
        if raw.get("p3_wine"):
            rows += p3_rows(raw["p3_wine"], where="Wine")
        rows += wine_rows(raw.get("p6"), raw.get("p1_wine"), raw.get("p4_wine"), raw.get("p5"),
                          raw.get("idle_wine"))

    meta = {"quick": a.quick, "seconds": round(time.time() - started, 1),
            "machine": f"{platform.node()} {os.cpu_count()} cores", "date": time.ctime(started)}
    print()
    print(report.table(rows))
    path = os.path.join(a.build, "results.json")
    report.write(path, rows, raw, meta)
    for e in raw.get("errors", []):
        print(f"NOT MEASURED: {e}")
    print(f"\n{len(rows)} figures in {meta['seconds']} s; written to {path}")


if __name__ == "__main__":
    main()
