"""The peer of start-to-work (P1): the problem report's start_training.py pattern. It clears the
port in config.json, spawns the uvicorn server as a subprocess, then either sleeps a fixed 6 s
(the report's fix) or polls every 10 ms (the same pattern at its best), reads the port from
config.json, waits for GET /health with requests (2 s timeout, retries) and sends the first
completion. Prints one JSON object of seconds since the spawn. The sleeps ARE the measured
behaviour of the peer.

  python3 start_training_peer.py --mode sleep6|poll10ms --workdir DIR
"""
import argparse
import json
import os
import subprocess
import sys
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))


def read_port(config):
    try:
        with open(config) as f:
            return json.load(f).get("llm_server_port")
    except (OSError, ValueError):
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["sleep6", "poll10ms"], required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    config = os.path.join(args.workdir, "config.json")
    with open(config, "w") as f:
        json.dump({"llm_server_port": None}, f)  # report fix 3: clear the stale port

    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "uvicorn_server.py"),
                               "--config", config], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        pause = 0.01
        if args.mode == "sleep6":
            time.sleep(6)  # report fix 4: "increased initialization delay from 3 to 6 seconds"
            pause = 1.0
        port = read_port(config)
        deadline = time.monotonic() + 60
        while port is None:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the peer server wrote no port (exit {server.poll()})")
            time.sleep(pause)
            port = read_port(config)
        t_port = time.perf_counter() - t0
        url = f"http://127.0.0.1:{port}"
        for _ in range(6000 if pause < 1 else 60):
            try:
                if requests.get(url + "/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(pause)
        else:
            raise SystemExit("the peer server never answered /health")
        t_health = time.perf_counter() - t0
        r = requests.post(url + "/v1/completions", json={"prompt": "Hello", "max_tokens": 1},
                          timeout=2)
        r.raise_for_status()
        t_first = time.perf_counter() - t0
        print(json.dumps({"port_read_s": t_port, "health_ok_s": t_health,
                          "first_request_s": t_first}))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
