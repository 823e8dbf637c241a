#!/usr/bin/env python3
"""How long after a change `modal-gpu-lint server` publishes its diagnostics, on a 1,000-line Modal file.

Starts the server (`python -m modal_gpu_lint server`) as an editor does, speaks LSP to it over
stdio (a minimal JSON-RPC client, standard library only), opens a generated Modal program of
about 1,000 lines (40 functions and classes, ordinary code around them, a few findings), then
sends `--changes` edits one at a time (a GPU type typed wrong, then right, alternately, as an
incremental change) and times each one from the moment the change is written to the pipe to the
moment the `textDocument/publishDiagnostics` for that version is read. Prints every number, the
median, 90th percentile and maximum, and PASS/FAIL against the goal (`--goal-ms`, default 200).

    python benchmarks/lsp_latency.py [--lines 1000] [--changes 40] [--goal-ms 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

HEADER = '''\
"""A generated Modal program: {lines} lines of training and serving code."""

import json
import math
import os
import subprocess

import modal

app = modal.App("bench")
image = modal.Image.debian_slim().pip_install("torch", "transformers")
volume = modal.Volume.from_name("weights", create_if_missing=True)

'''
FUNCTION = '''

def helper_{i}(values: list[float], scale: float = {i}.5) -> dict[str, float]:
    """Summary statistics of one batch ({i})."""
    total = 0.0
    peak = -math.inf
    for value in values:
        total += value * scale
        peak = max(peak, value)
    mean = total / max(len(values), 1)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / max(len(values), 1))
    return {{"total": total, "peak": peak, "mean": mean, "spread": spread}}


@app.function(gpu="{gpu}", image=image, timeout=3600, volumes={{"/weights": volume}})
def train_{i}(steps: int = 100) -> dict[str, float]:
    import torch

    model = torch.nn.Linear(1024, 1024).cuda()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    losses = []
    for step in range(steps):
        batch = torch.randn(64, 1024, device="cuda")
        loss = model(batch).pow(2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss))
    with open(os.path.join("/weights", "run_{i}.json"), "w") as handle:
        json.dump(losses, handle)
    return helper_{i}(losses)
'''
GPUS = ["H100", "A100-80GB", "L40S:2", "T4", "A10", "H100!:8", "B200+", "L4"]


def program(lines: int) -> str:
    """A Modal program of about `lines` lines, with one `gpu=` literal to edit at a known place."""
    parts = [HEADER.format(lines=lines)]
    i = 0
    while sum(p.count("\n") for p in parts) < lines - 30:
        parts.append(FUNCTION.format(i=i, gpu=GPUS[i % len(GPUS)]))
        i += 1
    parts.append('\n\n@app.function(gpu="A100-80GB", timeout=60)\ndef edited() -> None:\n    print("edited")\n')
    return "".join(parts)


class Client:
    """Just enough JSON-RPC over a pipe to drive a language server."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout
        self.next_id = 0

    def send(self, method: str, params: Any, *, request: bool = False) -> int | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        ident = None
        if request:
            self.next_id += 1
            ident = message["id"] = self.next_id
        body = json.dumps(message).encode("utf-8")
        self.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.stdin.flush()
        return ident

    def read(self) -> dict[str, Any]:
        length = 0
        while True:
            line = self.stdout.readline()
            if not line:
                raise RuntimeError("the server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("ascii").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(self.stdout.read(length))  # type: ignore[no-any-return]

    def request(self, method: str, params: Any) -> Any:
        ident = self.send(method, params, request=True)
        while True:
            message = self.read()
            if message.get("id") == ident and "method" not in message:
                return message.get("result")

    def wait_diagnostics(self, uri: str, version: int) -> list[dict[str, Any]]:
        while True:
            message = self.read()
            if message.get("method") == "textDocument/publishDiagnostics":
                params = message["params"]
                if params["uri"] == uri and params.get("version") == version:
                    return params["diagnostics"]  # type: ignore[no-any-return]

    def close(self) -> None:
        self.request("shutdown", None)
        self.send("exit", None)
        self.process.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000, help="size of the generated file (default 1000)")
    parser.add_argument("--changes", type=int, default=40, help="edits to time (default 40)")
    parser.add_argument("--goal-ms", type=float, default=200.0, help="the goal for the 90th percentile (default 200)")
    options = parser.parse_args(argv)

    text = program(options.lines)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench_app.py"
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        client = Client([sys.executable, "-m", "modal_gpu_lint", "server"])
        client.request("initialize", {"processId": os.getpid(), "rootUri": Path(folder).as_uri(), "capabilities": {}})
        client.send("initialized", {})
        started = time.perf_counter()
        client.send(
            "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}
        )
        found = client.wait_diagnostics(uri, 1)
        first = (time.perf_counter() - started) * 1000
        lines = text.splitlines()
        row = next(i for i, line in reversed(list(enumerate(lines))) if 'gpu="A100-80GB"' in line)
        column = lines[row].index("A100-80GB") + len("A100-80G")
        timings: list[float] = []
        counts: list[int] = []
        for n in range(options.changes):
            version = n + 2
            typo = n % 2 == 0  # delete the "B" of A100-80GB, then type it again
            change = {
                "range": {
                    "start": {"line": row, "character": column},
                    "end": {"line": row, "character": column + (1 if typo else 0)},
                },
                "text": "" if typo else "B",
            }
            params = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}
            sent = time.perf_counter()
            client.send("textDocument/didChange", params)
            diagnostics = client.wait_diagnostics(uri, version)
            timings.append((time.perf_counter() - sent) * 1000)
            counts.append(len(diagnostics))
        client.close()

    print(f"file: {len(lines)} lines, {len(found)} findings on open (first lint, imports included: {first:.0f} ms)")
    print(f"findings after each change: {counts[:6]}... (a typo MGL001 appears and goes)")
    print("ms per change: " + " ".join(f"{t:.0f}" for t in timings))
    ordered = sorted(timings)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * len(ordered)) - 1)]
    median = statistics.median(timings)
    print(f"median {median:.1f} ms, p90 {p90:.1f} ms, min {ordered[0]:.1f} ms, max {ordered[-1]:.1f} ms")
    verdict = "PASS" if p90 <= options.goal_ms else "FAIL"
    print(f"goal: a diagnostic within {options.goal_ms:.0f} ms of a change (p90): {verdict}")
    try:
        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    except OSError:
        pass
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
