"""The peer TandemLlm replaces: the problem report's llm_server.py pattern, as a FastAPI app
served by uvicorn. It takes port 8030 or the next free one, writes it to config.json, then serves
GET /health and POST /v1/completions. The completion is canned (one token): this peer does NO
inference, so its figures are a lower bound for what the old server could do.

  python3 uvicorn_server.py [--config config.json] [--port 8030]
"""
import argparse
import json
import os
import socket
import time

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()
MODEL = "canned-peer"


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/v1/completions")
async def completions(body: dict):
    return JSONResponse({
        "id": "cmpl-peer",
        "object": "text_completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [{"index": 0, "text": " the", "logprobs": None, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
    })


def first_free_port(start):
    # The report's "8030 or next available port": probe, close, hand the number to uvicorn.
    for port in range(start, start + 100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit("no free port")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="config.json")
    parser.add_argument("--port", type=int, default=8030)
    args = parser.parse_args()
    port = first_free_port(args.port)
    config = {}
    if os.path.exists(args.config):
        with open(args.config) as f:
            config = json.load(f)
    config["llm_server_port"] = port
    with open(args.config, "w") as f:
        json.dump(config, f)
    print(f"LLM server on port {port}", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="info")


if __name__ == "__main__":
    main()
