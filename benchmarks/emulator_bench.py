"""Emulator throughput and start-up time.

    .venv/bin/python benchmarks/emulator_bench.py [--seconds 2] [--runs 5] [--threads 4]

Prints requests/s (median of several runs) over HTTPS keep-alive for a simple SOQL query and for
an sObject describe, single client and `--threads` parallel clients, plus cold start-up time
(seed + TLS certificates + bind + first answered request).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests

from sfops.emulator.app import Emulator, EmulatorSettings
from sfops.emulator.server import EmulatorServer


def startup(tmp: Path) -> tuple[float, float]:
    """(seconds to first answered request with new certs, same with existing certs)."""
    out = []
    for _ in range(2):
        t0 = time.perf_counter()
        emu = Emulator(":memory:", EmulatorSettings(seed="demo"))
        server = EmulatorServer(emu, port=0, cert_dir=tmp / "certs").start()
        s = requests.Session()
        s.trust_env = False
        s.get(f"{server.url}/__emulator__/health", verify=str(server.certs.ca_cert), timeout=10).raise_for_status()
        out.append(time.perf_counter() - t0)
        server.stop()
    return out[0], out[1]


def rate(url: str, ca: str, token: str, path: str, params: dict[str, str] | None, seconds: float,
         threads: int) -> float:
    """Requests per second over `seconds` with `threads` keep-alive clients."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        s = requests.Session()
        s.trust_env = False
        s.verify = ca
        s.headers["Authorization"] = f"Bearer {token}"
        while time.perf_counter() < stop:
            r = s.get(url + path, params=params, timeout=10)
            r.raise_for_status()
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
        cold, warm = startup(Path(tmp))
        print(f"start-up to first answer: {cold * 1000:.0f} ms (creating certificates), "
              f"{warm * 1000:.0f} ms (certificates exist)")
        emu = Emulator(":memory:", EmulatorSettings(seed="demo"))
        server = EmulatorServer(emu, port=0, cert_dir=Path(tmp) / "certs").start()
        ca = str(server.certs.ca_cert)
        token = emu.sessions.create(emu.admin_user_id()).token
        emu.settings.api_max = emu.usage.max = 10**9
        for i in range(20):
            emu.records.create(emu.schema.get("Account"), {"Name": f"Bench {i}"})
        cases = {
            "query  SELECT Id, Name FROM Account LIMIT 10": (
                "/services/data/v64.0/query", {"q": "SELECT Id, Name FROM Account LIMIT 10"}),
            "describe sobjects/Kill_Switch__c/describe": (
                "/services/data/v64.0/sobjects/Kill_Switch__c/describe", None),
        }
        for name, (path, params) in cases.items():
            for threads in (1, a.threads):
                runs = [rate(server.url, ca, token, path, params, a.seconds, threads) for _ in range(a.runs)]
                print(f"{name:48s} threads={threads}: median {statistics.median(runs):7.0f} req/s "
                      f"(runs: {', '.join(f'{r:.0f}' for r in runs)})")
        server.stop()


if __name__ == "__main__":
    main()
