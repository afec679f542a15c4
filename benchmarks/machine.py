"""What a benchmark ran on: the host's CPU and a fixed speed probe, so figures from two hosts can be told apart.

Hosts of the same size differ by 2× in what they get done, and one host drifts
from hour to hour; the probe (a fixed pure-Python loop, best of five) gives a
figure to set beside the others, to tell a faster host from a slower one.
"""
from __future__ import annotations

import os
import platform
import timeit


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def speed_probe_ms() -> float:
    """Milliseconds for 200,000 rounds of a dict-and-string loop, best of five (lower is faster)."""
    code = "d = {}\nfor i in range(200_000):\n    d[i & 1023] = str(i)"
    return round(min(timeit.repeat(code, number=1, repeat=5)) * 1000, 2)


def facts() -> dict:
    return {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version(),
            "platform": platform.platform(), "load_average_at_start": os.getloadavg(),
            "speed_probe_ms": speed_probe_ms()}


def machine_line(facts: dict) -> str:
    return (f"{facts['cpus']} cores, {facts['cpu_model']}, speed probe {facts['speed_probe_ms']} ms, "
            f"Python {facts['python']}")
