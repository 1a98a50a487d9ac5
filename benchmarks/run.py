"""End-to-end benchmark of the creds-lint CLI: wall time and peak memory, compared with the floor and yamllint.

    python benchmarks/run.py                 # every size, 5 runs each (a few minutes, mostly yamllint)
    python benchmarks/run.py --sizes 29 130  # the small sizes only
    python benchmarks/run.py --workdir /tmp/creds-bench   # keep (and reuse) the generated var-stores

Each case runs the installed CLI in a subprocess and reports the median wall time and the median peak RSS of
several runs, as a ratio to

* the floor: ``python -c "import yaml, deepdiff, cryptography.x509"``, measured in the same run: what any
  Python tool built on these libraries pays before it reads a byte;
* yamllint on the same new file: the tool operators already run on YAML in pre-commit.

Var-stores are generated with real, distinct certificates (tests/factory.py; one signature per certificate, and
a key of its own for each certificate and key pair beyond bosh-deployment's) at about the size of bosh-deployment
(29 entries), cf-deployment (130), 1,000 and 10,000 entries, for three changes: identical files, every leaf
certificate rotated under unchanged CAs, and the incident (every CA and leaf regenerated with new keys, and a new
credhub_encryption_password). Two hostile shapes follow:
a certificate with 50,000 alternative names rotated, and `check` of 1,000 CAs and 1,000 leaves that none of them
signed (each signed by another key under the subject of a CA of the store). A last case checks 50 var-store files
in one invocation. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from factory import (  # noqa: E402 - after the path to tests/ is known
    bosh_store,
    cert_from_value,
    dump_store,
    make_ca,
    make_leaf,
    scaled_scenarios,
)
from measure import Measured, run_measured  # noqa: E402

SIZES = (29, 130, 1000, 10_000)
SCENARIOS = ("identical", "rotation", "incident")
#: The exit code each scenario must give: a rotation is info only, the incident is an error.
EXPECTED = {"identical": 0, "rotation": 0, "incident": 1}
FILES = 50
SERVICES_PER_FILE = 4
TIMEOUT = 600.0
#: Key pool slots of the hostile shapes, far from those of scaled_scenarios().
_SANS_SLOT = 4000
_UNSIGNED_SLOT = 4100


@dataclass(frozen=True, kw_only=True)
class Sample:
    """Medians over several runs of one command."""

    seconds: float
    cpu_seconds: float
    peak_mb: float


#: Byte-code caching on, as on a user's machine (a sandbox may turn it off; then every run recompiles the tool).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def creds_lint_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m creds_lint``."""
    script = Path(sys.executable).with_name("creds-lint")
    return [str(script)] if script.exists() else [sys.executable, "-m", "creds_lint"]


def yamllint_command() -> list[str] | None:
    script = Path(sys.executable).with_name("yamllint")
    if script.exists():
        return [str(script)]
    found = shutil.which("yamllint")
    return [found] if found else None


FLOOR = [sys.executable, "-c", "import yaml, deepdiff, cryptography.x509"]
#: Every run of the floor, interleaved with the cases so that a busy machine weighs on both alike.
floor_samples: list[Measured] = []


def measure(argv: Sequence[str | Path], runs: int, *, expect: int | None = None) -> Sample:
    """Medians of ``runs`` runs of ``argv``, each after a run of the floor."""
    results: list[Measured] = []
    for _ in range(runs):
        floor_samples.append(run_measured(FLOOR, timeout=TIMEOUT, env=ENV))
        result = run_measured(argv, timeout=TIMEOUT, env=ENV)
        if result.timed_out:
            raise SystemExit(f"timed out: {' '.join(map(str, argv))}")
        if expect is not None and result.code != expect:
            raise SystemExit(f"exit code {result.code}, expected {expect}: {' '.join(map(str, argv))}\n{result.err}")
        results.append(result)
    return median(results)


def median(results: Sequence[Measured]) -> Sample:
    return Sample(
        seconds=statistics.median(r.seconds for r in results),
        cpu_seconds=statistics.median(r.cpu_seconds for r in results),
        peak_mb=statistics.median(r.peak_mb for r in results),
    )


def write(path: Path, store: dict[str, object]) -> Path:
    if not path.exists():
        path.write_text(dump_store(store), encoding="utf-8")
    return path


def generate(workdir: Path, sizes: Sequence[int]) -> None:
    for size in sizes:
        if all((workdir / f"{size}-{s}.yml").exists() for s in SCENARIOS):
            continue
        print(f"generating {size} entries...", file=sys.stderr)
        scenarios = scaled_scenarios(size, distinct_keys=True)
        write(workdir / f"{size}-store.yml", scenarios.store)
        write(workdir / f"{size}-identical.yml", scenarios.store)
        write(workdir / f"{size}-rotation.yml", scenarios.rotation)
        write(workdir / f"{size}-incident.yml", scenarios.incident)
    many = workdir / "many"
    if not (many / f"env{FILES - 1}" / "creds.yml").exists():
        print(f"generating {FILES} files...", file=sys.stderr)
        many.mkdir(exist_ok=True)
        # whole services (a CA with its leaves and passwords, 8 or 9 entries), 4 per file: about 33 entries each,
        # every file with its own certificates
        scenarios = scaled_scenarios(29 + FILES * SERVICES_PER_FILE * 9, distinct_keys=True)
        services: dict[str, list[str]] = {}
        for name in list(scenarios.store)[29:]:
            services.setdefault(name.split("_", 1)[0], []).append(name)
        groups = list(services.values())
        chunks = [list(chain(*groups[i * SERVICES_PER_FILE : (i + 1) * SERVICES_PER_FILE])) for i in range(FILES)]
        git = ["git", "-C", str(many), "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        subprocess.run([*git, "init", "-q"], check=True)
        for i, chunk in enumerate(chunks):
            (many / f"env{i}").mkdir(exist_ok=True)
            (many / f"env{i}" / "creds.yml").write_text(dump_store({n: scenarios.store[n] for n in chunk}))
        subprocess.run([*git, "add", "--all"], check=True)
        subprocess.run([*git, "commit", "-q", "--no-verify", "-m", "old"], check=True)
        for i, chunk in enumerate(chunks):
            (many / f"env{i}" / "creds.yml").write_text(dump_store({n: scenarios.rotation[n] for n in chunk}))


SANS = 50_000
UNSIGNED = 1_000


def generate_extra(workdir: Path) -> None:
    """The hostile shapes: a certificate with 50,000 alternative names, rotated; 1,000 CAs and 1,000 leaves that
    none of them signed (each leaf signed by another key under the subject of a CA of the store)."""
    if not (workdir / "sans-rotation.yml").exists():
        print(f"generating a certificate with {SANS:,} alternative names...", file=sys.stderr)
        store = bosh_store()
        ca = cert_from_value(store["default_ca"])  # type: ignore[arg-type]
        names = [f"h{i}.big.service.cf.internal" for i in range(SANS)]
        big = make_leaf(names[0], ca, key_slot=_SANS_SLOT, sans=names)
        rotated = make_leaf(names[0], ca, key_slot=_SANS_SLOT + 1, sans=names)
        write(workdir / "sans-store.yml", {**store, "big_tls": big.as_value()})
        write(workdir / "sans-rotation.yml", {**store, "big_tls": rotated.as_value()})
    if not (workdir / "unsigned.yml").exists():
        print(f"generating {UNSIGNED:,} CAs and {UNSIGNED:,} leaves that none of them signed...", file=sys.stderr)
        unsigned: dict[str, object] = {}
        for i in range(UNSIGNED):
            cn = f"svc{i}-ca"
            ca = make_ca(cn, key_slot=_UNSIGNED_SLOT + i % 8)
            other = make_ca(cn, key_slot=_UNSIGNED_SLOT + 8 + i % 8)
            leaf = make_leaf(f"svc{i}.service.cf.internal", other, key_slot=_UNSIGNED_SLOT + 16 + i % 3)
            unsigned[f"svc{i}_ca"] = ca.as_value()
            unsigned[f"svc{i}_tls"] = leaf.as_value()
        write(workdir / "unsigned.yml", unsigned)


def extra_cases(workdir: Path) -> list[tuple[str, str, Path, list[str | Path], int]]:
    """``(case, entries, file, argv, expected exit code)`` of the hostile shapes."""
    cli = creds_lint_command()
    sans_new, unsigned = workdir / "sans-rotation.yml", workdir / "unsigned.yml"
    return [
        (f"{SANS:,} SANs, rotation", "30", sans_new, [*cli, workdir / "sans-store.yml", sans_new], 0),
        (
            f"check, {UNSIGNED:,} CAs + {UNSIGNED:,} unsigned leaves",
            f"{2 * UNSIGNED:,}",
            unsigned,
            [*cli, "check", unsigned],
            1,
        ),
    ]


def many_files_command(workdir: Path) -> tuple[list[str], str]:
    """One invocation over the 50 files: each file on disk against its committed version (pre-flight)."""
    many = workdir / "many"
    files = [str(many / f"env{i}" / "creds.yml") for i in range(FILES)]
    return [
        *creds_lint_command(),
        "--rev",
        "HEAD",
        *files,
    ], f"one pre-flight invocation (`creds-lint --rev HEAD FILE...`) over {FILES} files"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per case; the median is reported (default: 5)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="var-store sizes (entries)")
    parser.add_argument("--workdir", type=Path, help="where to keep the generated var-stores (default: a temp dir)")
    parser.add_argument("--no-yamllint", action="store_true", help="skip the yamllint comparison")
    args = parser.parse_args(argv)
    workdir: Path = args.workdir or Path(tempfile.mkdtemp(prefix="creds-lint-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    generate(workdir, args.sizes)
    generate_extra(workdir)
    cli = creds_lint_command()
    yamllint = None if args.no_yamllint else yamllint_command()

    measure(FLOOR, 2)  # warm the disk cache and write the byte-code of every module
    measure([*cli, workdir / f"{args.sizes[0]}-store.yml", workdir / f"{args.sizes[0]}-incident.yml"], 1)
    rows: list[tuple[str, str, str, Sample, Sample | None]] = []
    for size in args.sizes:
        old = workdir / f"{size}-store.yml"
        lint: Sample | None = None
        if yamllint is not None:
            # yamllint's cost depends only on the new file, and the three new files are the same size.
            lint = measure([*yamllint, "-d", "default", workdir / f"{size}-rotation.yml"], min(args.runs, 3))
        for scenario in SCENARIOS:
            new = workdir / f"{size}-{scenario}.yml"
            sample = measure([*cli, old, new], args.runs, expect=EXPECTED[scenario])
            rows.append((scenario, f"{size:,}", f"{new.stat().st_size / 2**20:.1f}", sample, lint))
    for case, entries, new, command_line, expect in extra_cases(workdir):
        sample = measure(command_line, args.runs, expect=expect)
        rows.append((case, entries, f"{new.stat().st_size / 2**20:.1f}", sample, None))
    command, note = many_files_command(workdir)
    rows.append((f"{FILES} files, rotation", f"{FILES} x ~33", "-", measure(command, args.runs, expect=0), None))

    floor = median(floor_samples)
    print(f"# creds-lint benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, median of {args.runs} runs")
    print(
        f"floor (import yaml, deepdiff, cryptography.x509): {floor.seconds * 1000:.0f} ms wall, "
        f"{floor.cpu_seconds * 1000:.0f} ms CPU, {floor.peak_mb:.0f} MiB "
        f"(median of {len(floor_samples)} runs interleaved with the cases)\n"
    )
    print("| case | entries | MB | wall | x floor | CPU | x floor | yamllint wall | x yamllint | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case, entries, megabytes, s, lint in rows:
        lint_wall = f"{lint.seconds * 1000:.0f} ms" if lint else "-"
        lint_ratio = f"{s.seconds / lint.seconds:.2f}" if lint else "-"
        print(
            f"| {case} | {entries} | {megabytes} | {s.seconds * 1000:.0f} ms | {s.seconds / floor.seconds:.2f} "
            f"| {s.cpu_seconds * 1000:.0f} ms | {s.cpu_seconds / floor.cpu_seconds:.2f} | {lint_wall} "
            f"| {lint_ratio} | {s.peak_mb:.0f} MiB |"
        )
    print(f"\n{FILES} files: {note}")
    print(f"var-stores in {workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
