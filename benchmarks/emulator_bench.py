"""Emulator throughput and start-up time.

    .venv/bin/python benchmarks/emulator_bench.py [--seconds 2] [--runs 5] [--threads 4]

The emulator runs in its own process (`python -m sfops.emulator`, as `sfops emulator start` does),
so the figures are not shared with the client's GIL. Prints requests/s (median of several runs)
over HTTPS keep-alive for a simple SOQL query and for an sObject describe, with one client and with
`--threads` parallel clients, and the start-up time (process start to first answered request).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests


def start(data: Path) -> tuple[subprocess.Popen, dict, float]:
    """Start a server process; (process, state, seconds until /__emulator__/health answered)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sfops.emulator",
            "--data",
            str(data),
            "--memory",
            "--port",
            "0",
            "--seed",
            "demo",
            "--api-max",
            str(10**9),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state_file = data / "emulator.json"
    while True:
        if proc.poll() is not None:
            raise SystemExit("emulator exited during start-up")
        if state_file.is_file():
            try:
                state = json.loads(state_file.read_text())
                s = requests.Session()
                s.trust_env = False
                s.get(f"{state['url']}/__emulator__/health", verify=state["ca_cert"], timeout=5).raise_for_status()
                return proc, state, time.perf_counter() - t0
            except (ValueError, requests.RequestException):
                pass
        time.sleep(0.01)


def rate(state: dict, token: str, path: str, params: dict[str, str] | None, seconds: float, threads: int) -> float:
    """Requests per second over `seconds` with `threads` keep-alive clients."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        s = requests.Session()
        s.trust_env = False
        s.verify = state["ca_cert"]
        s.headers["Authorization"] = f"Bearer {token}"
        while time.perf_counter() < stop:
            s.get(state["url"] + path, params=params, timeout=10).raise_for_status()
            counts[i] += 1

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=4)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        startups = []
        for i in range(3):
            proc, state, seconds = start(data)
            startups.append(seconds)
            if i < 2:
                proc.terminate()
                proc.wait()
        print(
            f"start-up (process start to first answer, median of 3): {statistics.median(startups) * 1000:.0f} ms "
            f"(first run, creating certificates: {startups[0] * 1000:.0f} ms)"
        )
        try:
            s = requests.Session()
            s.trust_env = False
            s.verify = state["ca_cert"]
            token = s.post(
                f"{state['url']}/services/oauth2/token",
                timeout=10,
                data={
                    "grant_type": "password",
                    "client_id": state["client_id"],
                    "client_secret": "sfops-demo-client-secret",
                    "username": state["admin_username"],
                    "password": "sfops-demo-password",
                },
            ).json()["access_token"]
            s.headers["Authorization"] = f"Bearer {token}"
            for i in range(20):
                s.post(
                    f"{state['url']}/services/data/v64.0/sobjects/Account", json={"Name": f"Bench {i}"}, timeout=10
                ).raise_for_status()
            cases = {
                "query SELECT Id, Name FROM Account LIMIT 10": (
                    "/services/data/v64.0/query",
                    {"q": "SELECT Id, Name FROM Account LIMIT 10"},
                ),
                "describe sobjects/Kill_Switch__c/describe": (
                    "/services/data/v64.0/sobjects/Kill_Switch__c/describe",
                    None,
                ),
            }
            for name, (path, params) in cases.items():
                for threads in (1, a.threads):
                    runs = [rate(state, token, path, params, a.seconds, threads) for _ in range(a.runs)]
                    print(
                        f"{name:45s} clients={threads}: median {statistics.median(runs):6.0f} req/s "
                        f"(runs: {', '.join(f'{r:.0f}' for r in runs)})"
                    )
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
