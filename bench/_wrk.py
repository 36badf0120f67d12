"""HTTP load from wrk (C, event loop): the load generator must not take the server's CPU.

The benches run on the machine that serves: a Python client (asyncio + httpx) spent most of a
core on 20 connections, which the server then did not have. wrk is required, not optional
(Debian: ``apt-get install wrk``); nothing falls back to a Python client.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = """
local paths = %(paths)s
local headers = %(headers)s
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1], headers)
end
function done(summary, latency, requests)
  local out = io.open(%(out)s, "w")
  out:write(string.format(
    '{"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d}',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
  out:close()
end
"""


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    socket_errors: dict[str, int]
    non_2xx: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def require() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit("wrk is required (Debian: apt-get install wrk)")
    return path


def _lua(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for these values


def run(
    base: str,
    paths: Sequence[str],
    *,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    threads: int = 1,
) -> Run:
    """``connections`` keep-alive connections on ``threads`` wrk threads for ``seconds``, each
    request on the next of ``paths`` (a different day of points per call, say)."""
    wrk = require()
    with tempfile.TemporaryDirectory(prefix="hub-wrk-") as tmp:
        out = Path(tmp) / "result.json"
        script = Path(tmp) / "load.lua"
        script.write_text(
            _SCRIPT
            % {
                "paths": "{" + ", ".join(_lua(p) for p in paths) + "}",
                "headers": "{"
                + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items())
                + "}",
                "out": _lua(str(out)),
            }
        )
        subprocess.run(
            [
                wrk,
                f"--threads={threads}",
                f"--connections={connections}",
                f"--duration={max(int(seconds), 1)}s",
                "--timeout=30s",
                f"--script={script}",
                base,
            ],
            check=True,
            capture_output=True,
        )
        data = json.loads(out.read_text())
    return Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        socket_errors={k: data[k] for k in ("connect", "read", "write", "timeout") if data[k]},
        non_2xx=data["status"],
    )
