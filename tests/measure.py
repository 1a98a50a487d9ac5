from __future__ import annotations

# Run a command in a subprocess and measure what it cost: wall time, CPU time and the peak resident memory of
# that one process. The command is started by a small launcher process that reports the command's rusage
# (os.wait4): on Linux a child's ru_maxrss starts from the RSS of the process that forked it, so a command forked
# straight from a large test process would report the test's memory. Used by the adversarial tests (memory
# bounds, a hang guard) and by benchmarks/run.py.
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - start
child.returncode = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as report:
    json.dump([child.returncode, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss], report)
"""


@dataclass(frozen=True, kw_only=True)
class Measured:
    code: int
    out: str
    err: str
    seconds: float
    cpu_seconds: float
    peak_mb: float
    timed_out: bool


def run_measured(
    argv: Sequence[str | Path],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Measured:
    """Run ``argv`` to completion (killed after ``timeout`` seconds) and return its exit code, output, wall time,
    CPU time (user and system, with the children it waited for) and peak RSS in MiB."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        out_path, err_path = Path(tmp) / "out", Path(tmp) / "err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            launcher = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(report), *map(str, argv)],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env=env,
                start_new_session=True,  # one process group: a timeout kills the command too
            )
            try:
                launcher.wait(timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
                timed_out = True
        code, seconds, cpu, maxrss = json.loads(report.read_text()) if report.exists() else (-9, timeout, 0.0, 0)
        # ru_maxrss is in KiB on Linux, in bytes on macOS.
        return Measured(
            code=code,
            out=out_path.read_text(encoding="utf-8", errors="replace"),
            err=err_path.read_text(encoding="utf-8", errors="replace"),
            seconds=seconds,
            cpu_seconds=cpu,
            peak_mb=maxrss / (2**20 if sys.platform == "darwin" else 2**10),
            timed_out=timed_out,
        )
