"""Running pytest for the controls: collection (no cluster), one run per defect, the baseline.

Each run is a pytest subprocess with a kind cluster of its own (``--cluster-name``), its
reports in a folder of its own, and a bound on its time: on timeout it gets SIGTERM,
which the plugin turns into Ctrl-C, so the cluster is torn down before it ends.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mysqlsts.errors import InputError
from mysqlsts.negative_controls.selection import Plan, Suite
from mysqlsts.repository import REPO_ROOT, REPORTS_ENV

COLLECT_TIMEOUT = 180.0
_live: set[subprocess.Popen[bytes]] = set()  # the pytest runs under way, to stop on Ctrl-C
_live_lock = threading.Lock()
EXIT_CODE_FILE = "exit_code"  # beside junit.xml: what pytest ended with, for --rejudge
TERMINATE_GRACE = 300.0  # seconds for the plugin's teardown after SIGTERM


def _collect(args: Sequence[str], root: Path) -> list[str]:
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    try:
        done = subprocess.run(
            [*command, *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=COLLECT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError(f"collecting {' '.join(args)} took over {COLLECT_TIMEOUT:g}s") from None
    if done.returncode not in (0, 5):
        last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        raise InputError(f"pytest could not collect {' '.join(args)}: {last}")
    return [line.strip() for line in done.stdout.splitlines() if "::" in line]


def collect_suite(root: Path = REPO_ROOT) -> Suite:
    """Every check under suites/ and those marked ``faults`` (collection only: seconds)."""
    return Suite(
        tuple(_collect(["suites"], root)),
        frozenset(_collect(["suites", "-m", "faults"], root)),
    )


def cluster_name(prefix: str, name: str) -> str:
    # kind names become Docker container and DNS names: lowercase, digits, dashes.
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return f"{prefix}-{slug}"[:40].rstrip("-")


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None  # None: did not finish within the timeout
    junit: Path
    log: Path

    def junit_text(self) -> str | None:
        return self.junit.read_text(encoding="utf-8") if self.junit.is_file() else None


def read_exit_code(out_dir: Path) -> int | None:
    """The exit code :func:`run_plan` recorded in ``out_dir`` (None: the run timed out)."""
    path = out_dir / EXIT_CODE_FILE
    code = path.read_text().strip() if path.is_file() else "None"
    return None if code == "None" else int(code)


def setup_line(log: Path) -> str | None:
    """The one line with which the suite's setup stopped the run (pytest.exit), if any."""
    if not log.is_file():
        return None
    found = None
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Exit: "):
            found = line.removeprefix("Exit: ").strip()
    return found


def run_plan(
    plan: Plan,
    manifests: Path,
    out_dir: Path,
    cluster: str,
    timeout: float,
    extra: Sequence[str] = (),
    root: Path = REPO_ROOT,
    environ: Mapping[str, str] | None = None,
) -> Outcome:
    """One pytest run of ``plan`` against ``manifests`` on a fresh cluster of its own."""
    out_dir.mkdir(parents=True, exist_ok=True)
    junit = out_dir / "junit.xml"
    log = out_dir / "pytest.log"
    env = dict(os.environ if environ is None else environ)
    env[REPORTS_ENV] = str(out_dir)  # the run's own folder goes in here
    env.pop("MYSQLSTS_PROFILE", None)  # --manifests decides
    command = [
        sys.executable,
        "-m",
        "pytest",
        *plan.pytest_args,
        "--manifests",
        str(manifests),
        "--cluster-name",
        cluster,
        f"--junitxml={junit}",
        "-p",
        "no:cacheprovider",
        *extra,
    ]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        with _live_lock:
            _live.add(process)
        try:
            exit_code: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(process)
            exit_code = None
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM): the run's cluster goes with its pytest.
            stop(process)
            raise
        finally:
            with _live_lock:
                _live.discard(process)
    (out_dir / EXIT_CODE_FILE).write_text(f"{exit_code}\n")
    return Outcome(exit_code, junit, log)


def stop_all() -> None:
    """Stop every pytest run under way (each tears its own cluster down), all at once."""
    with _live_lock:
        running = list(_live)
    for process in running:
        if process.poll() is None:
            process.terminate()
    for process in running:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the plugin turns it into Ctrl-C and tears the cluster down), then wait for
    that teardown; SIGKILL only if it does not end."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=TERMINATE_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
