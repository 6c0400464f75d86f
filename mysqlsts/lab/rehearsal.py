"""The nightly's rehearsal: its e2e job's steps, read from the workflow, run here in order
as a user who is not root, with a registry on the loopback address as the mirror.

``python -m mysqlsts.lab rehearse`` (as root: it prepares the machine) builds the lab's
stand-ins if needed, starts the registry of :mod:`mysqlsts.lab.registry` and loads it,
makes a user in the ``docker`` group, checks the commit out into that user's home, and
runs the job ``e2e`` of ``.github/workflows/nightly.yml`` for one profile:

- ``run:`` steps run as written (``bash -eo pipefail``, GitHub's default), as that user,
  with the workflow's, the job's and the matrix's environment, ``${{ }}`` expressions
  filled in and ``if:`` conditions evaluated (the subset the workflow uses), and with
  ``$GITHUB_ENV``, ``$GITHUB_PATH``, ``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY``
  honoured as the runner does;
- ``uses:`` steps are done by their local equivalent: checkout (the clone), setup-python
  (a fresh virtualenv of this machine's Python), setup-go and setup-node (this machine's
  toolchains), upload-artifact (a copy under ``artifacts/``), the JUnit reporter (the
  check it would publish, read from the same file) and upload-pages-artifact (a copy).

What GitHub would show, the step summary and the JUnit check, is written to the
rehearsal's folder. The rehearsal adds two variables a mirror user sets:
``MYSQLSTS_REGISTRY_MIRROR`` and ``MYSQLSTS_KIND_NODE_IMAGE`` (the stand-in node image
cannot have the digest the pin names, so it is named by tag).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from mysqlsts.kind_release import node_image_tag
from mysqlsts.lab import build, registry
from mysqlsts.lab.build_steps import Log, StepFailed
from mysqlsts.lab.config import LabConfig, cache_dir
from mysqlsts.repository import REPO_ROOT
from mysqlsts.stopwatch import Stopwatch

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "nightly.yml"
JOB = "e2e"
USER = "mysqlsts-nightly"
DEFAULT_PORT = 5001
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's: a user who is not root can run it


# -- expressions: the subset of GitHub's that the workflow uses --------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<call>[A-Za-z_][\w-]*\(\))|(?P<name>[A-Za-z_][\w.-]*))"
)


def evaluate(expression: str, contexts: Mapping[str, Any], job_ok: bool) -> Any:
    """Evaluate ``expression`` (``always()``, ``success()``, ``failure()``, context paths,
    strings, ``== != && || !`` and parentheses). A path that leads nowhere is ``''``."""
    python: list[str] = []
    values: dict[str, Any] = {}
    position = 0
    text = expression.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"unsupported expression: {expression!r}")
        position = match.end()
        if match["string"] is not None:
            python.append(repr(match["string"][1:-1].replace("''", "'")))
        elif match["op"]:
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(match["op"], match["op"]))
        elif match["call"]:
            calls = {"always()": True, "success()": job_ok, "failure()": not job_ok}
            if match["call"] not in calls:
                raise ValueError(f"unsupported function in {expression!r}: {match['call']}")
            python.append(repr(calls[match["call"]]))
        else:
            name = match["name"]
            if text[position:].lstrip().startswith("("):
                raise ValueError(f"unsupported function in {expression!r}: {name}")
            literal = {"true": True, "false": False, "null": None}
            if name in literal:
                python.append(repr(literal[name]))
                continue
            value: Any = contexts
            for part in name.split("."):
                value = value.get(part, "") if isinstance(value, Mapping) else ""
            key = f"_v{len(values)}"
            values[key] = value
            python.append(key)
    return eval("".join(python), {"__builtins__": {}}, values)


def substitute(text: str, contexts: Mapping[str, Any], job_ok: bool) -> str:
    def one(match: re.Match[str]) -> str:
        value = evaluate(match[1], contexts, job_ok)
        return (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )

    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", one, text)


def should_run(condition: str | None, contexts: Mapping[str, Any], job_ok: bool) -> bool:
    """GitHub's rule: without a status function, ``success() &&`` is implied."""
    if condition is None:
        return job_ok
    text = re.sub(r"^\$\{\{\s*(.*?)\s*\}\}$", r"\1", str(condition).strip())
    if not re.search(r"\b(always|success|failure|cancelled)\(\)", text):
        text = f"success() && ({text})"
    return bool(evaluate(text, contexts, job_ok))


# -- the files a step talks to the runner through -----------------------------------------------
def read_pairs(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (and ``NAME<<EOF`` blocks) of $GITHUB_ENV or $GITHUB_OUTPUT."""
    pairs: dict[str, str] = {}
    if not path.is_file():
        return pairs
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, marker = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == marker:
                    break
                block.append(inner)
            pairs[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            pairs[name] = value
    return pairs


@dataclass
class StepResult:
    name: str
    outcome: str  # success, failure, skipped
    seconds: float
    note: str = ""


@dataclass
class Job:
    """The state of one job's run: its environment, PATH additions, step outputs."""

    user: str
    workspace: Path
    folder: Path  # the rehearsal's own files (runner files, artifacts, summary, checks)
    env: dict[str, str]
    contexts: dict[str, Any]
    path: list[str] = field(default_factory=list)
    results: list[StepResult] = field(default_factory=list)
    ok: bool = True

    def runner_file(self, name: str) -> Path:
        """A file the user's steps write to (the runner's $GITHUB_* files)."""
        path = self.folder / "runner" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        shutil.chown(path.parent, self.user, self.user)
        shutil.chown(path, self.user, self.user)
        return path


# -- uses: the local equivalent of each action the workflow names --------------------------------
def _as_user(job: Job, argv: list[str], env: Mapping[str, str], timeout: float | None) -> int:
    command = ["runuser", "-u", job.user, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()]]
    done = subprocess.run([*command, *argv], cwd=job.workspace, timeout=timeout, check=False)
    return done.returncode


def _setup_python(job: Job, _with: Mapping[str, Any]) -> str:
    venv = Path(job.env["HOME"]) / ".rehearsal-python"
    code = _as_user(job, [SYSTEM_PYTHON, "-m", "venv", str(venv)], _env(job), 300)
    if code != 0:
        raise StepFailed(f"{SYSTEM_PYTHON} -m venv {venv} failed (exit {code})")
    job.path.insert(0, str(venv / "bin"))
    version = subprocess.run([SYSTEM_PYTHON, "--version"], capture_output=True, text=True)
    return f"{version.stdout.strip()} in {venv}"


def _setup_tool(program: str) -> Callable[[Job, Mapping[str, Any]], str]:
    def setup(job: Job, _with: Mapping[str, Any]) -> str:
        found = shutil.which(program, path=BASE_PATH + ":/usr/local/go/bin")
        if found is None:
            raise StepFailed(f"{program} is not installed on this machine")
        job.path.insert(0, str(Path(found).parent))
        return f"{program} from {Path(found).parent}"

    return setup


def _upload(job: Job, with_: Mapping[str, Any]) -> str:
    """A copy of the named paths (``!`` patterns left out) under artifacts/<name>/."""
    target = job.folder / "artifacts" / str(with_["name"])
    patterns = [p.strip() for p in str(with_["path"]).splitlines() if p.strip()]
    excluded = {(job.workspace / p[1:]).resolve() for p in patterns if p.startswith("!")}
    copied = 0
    for pattern in (p for p in patterns if not p.startswith("!")):
        for source in sorted(job.workspace.glob(pattern.rstrip("/"))):
            if source.resolve() in excluded or source.is_symlink():
                continue
            destination = target / source.relative_to(job.workspace)
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(
                    source,
                    destination,
                    dirs_exist_ok=True,
                    symlinks=True,
                    ignore=lambda d, names: [
                        n for n in names if (Path(d) / n).resolve() in excluded
                    ],
                )
            else:
                shutil.copy2(source, destination)
            copied += 1
    return f"{copied} path(s) copied to {target}"


def junit_counts(path: Path) -> dict[str, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, "0") or 0)
    return counts


def _junit_check(job: Job, with_: Mapping[str, Any]) -> str:
    """The check the reporter would publish: its name and counts, from the same file."""
    files = sorted(job.workspace.glob(str(with_["report_paths"])))
    if not files:
        if str(with_.get("require_tests", "false")).lower() == "true":
            raise StepFailed(f"no JUnit file at {with_['report_paths']}")
        return "no JUnit file"
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for file in files:
        for key, value in junit_counts(file).items():
            totals[key] += value
    line = f"check '{with_.get('check_name', 'JUnit')}': " + ", ".join(
        f"{v} {k}" for k, v in totals.items()
    )
    with (job.folder / "checks.txt").open("a") as checks:
        checks.write(f"{line} ({', '.join(str(f.relative_to(job.workspace)) for f in files)})\n")
    return line


ACTIONS: dict[str, Callable[[Job, Mapping[str, Any]], str]] = {
    "actions/checkout": lambda job, _with: f"checked out into {job.workspace}",
    "actions/setup-python": _setup_python,
    "actions/setup-go": _setup_tool("go"),
    "actions/setup-node": _setup_tool("node"),
    "actions/upload-artifact": _upload,
    "actions/upload-pages-artifact": lambda job, with_: _upload(
        job, {"name": "github-pages", **with_}
    ),
    "mikepenz/action-junit-report": _junit_check,
}


# -- run: ---------------------------------------------------------------------------------------
def _env(job: Job, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**job.env, **(extra or {})}
    env["PATH"] = ":".join([*job.path, env.get("PATH", BASE_PATH)])
    return env


def _run_script(job: Job, script: str, env: Mapping[str, str], timeout: float | None) -> int:
    file = job.folder / "runner" / f"step-{len(job.results)}.sh"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(script)
    file.chmod(0o644)
    argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(file)]
    return _as_user(job, argv, env, timeout)


def run_step(job: Job, step: Mapping[str, Any], index: int) -> StepResult:
    name = str(step.get("name") or step.get("uses") or f"step {index}")
    name = substitute(name, job.contexts, job.ok)
    if not should_run(step.get("if"), job.contexts, job.ok):
        return StepResult(name, "skipped", 0.0)
    watch = Stopwatch()
    runner = {n: str(job.runner_file(n)) for n in ("env", "path", "output", "summary")}
    output_file = Path(runner["output"])
    output_file.write_text("")
    step_env = {
        str(k): substitute(str(v), job.contexts, job.ok) for k, v in (step.get("env") or {}).items()
    }
    env = _env(
        job,
        {
            **step_env,
            "GITHUB_ENV": runner["env"],
            "GITHUB_PATH": runner["path"],
            "GITHUB_OUTPUT": runner["output"],
            "GITHUB_STEP_SUMMARY": runner["summary"],
        },
    )
    timeout = float(step["timeout-minutes"]) * 60 if "timeout-minutes" in step else None
    print(f"\n[rehearsal] > {name}", flush=True)
    note = ""
    try:
        if "uses" in step:
            action = str(step["uses"]).split("@", 1)[0]
            if action not in ACTIONS:
                raise StepFailed(f"no local equivalent for {step['uses']}")
            with_ = {
                str(k): substitute(str(v), job.contexts, job.ok)
                for k, v in (step.get("with") or {}).items()
            }
            note = ACTIONS[action](job, with_)
            outcome = "success"
        else:
            script = substitute(str(step["run"]), job.contexts, job.ok)
            code = _run_script(job, script, env, timeout)
            outcome = "success" if code == 0 else "failure"
            note = f"exit {code}"
    except subprocess.TimeoutExpired:
        outcome, note = "failure", f"timed out after {timeout:g}s"
    except StepFailed as error:
        outcome, note = "failure", str(error)
    # What the step told the runner, as the runner takes it.
    job.env.update(read_pairs(Path(runner["env"])))
    Path(runner["env"]).write_text("")
    added = [p for p in Path(runner["path"]).read_text().splitlines() if p.strip()]
    job.path[:0] = added[::-1]
    Path(runner["path"]).write_text("")
    step_id = step.get("id")
    if step_id:
        job.contexts["steps"][str(step_id)] = {
            "outcome": outcome,
            "conclusion": outcome,
            "outputs": read_pairs(output_file),
        }
    if outcome == "failure":
        job.ok = False
    mark = "+" if outcome == "success" else "!"
    print(f"[rehearsal] {mark} {name}: {outcome} in {watch} ({note})", flush=True)
    return StepResult(name, outcome, watch.seconds, note)


# -- the machine: the registry, the user, the checkout --------------------------------------------
def ensure_user(name: str) -> Path:
    if subprocess.run(["id", name], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--groups", "docker", name], check=True)
    groups = subprocess.run(["id", "-nG", name], capture_output=True, text=True).stdout.split()
    if "docker" not in groups:
        subprocess.run(["usermod", "-aG", "docker", name], check=True)
    home = Path(subprocess.run(["getent", "passwd", name], capture_output=True, text=True,
                               check=True).stdout.split(":")[5])  # fmt: skip
    return home


def checkout(home: Path, user: str) -> Path:
    """A clone of this checkout's HEAD in the user's home (actions/checkout)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workspace = home / f"rehearsal-{stamp}" / "workspace"
    workspace.parent.mkdir(parents=True)
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(workspace)], check=True)
    subprocess.run(["chown", "-R", f"{user}:{user}", str(workspace.parent)], check=True)
    return workspace


def run_places(workspace: Path, home: Path, since: float) -> list[Path]:
    """Where the job's run writes: its workspace, the user's home, and the suite's state
    directories (``$TMPDIR/mysqlsts-<run id>``) made since ``since``."""
    made = [p for p in Path("/tmp").glob("mysqlsts-*") if p.stat().st_mtime >= since]
    return [workspace, home, *made]


def leftovers(user: str, places: list[Path], since: float) -> list[str]:
    """Files made since ``since`` under ``places`` that ``user`` does not own (and so may
    not be able to remove)."""
    found = []
    for place in places:
        if not place.exists():
            continue
        listed = subprocess.run(
            ["find", str(place), "-mindepth", "1", "-newermt", f"@{since:.0f}", "!", "-user", user],
            capture_output=True,
            text=True,
        )
        found += [line for line in listed.stdout.splitlines() if line.strip()]
    return found


def rehearse(
    config: LabConfig, profile: str, port: int, pytest_args: str = "", user: str = USER
) -> int:
    if os.geteuid() != 0:
        print("[rehearsal] FAILED it prepares the machine (a user, a registry): run it as root")
        return 1
    started = time.time()
    build.build(config)  # the stand-ins the registry serves (cached)
    registry.build(config)
    log = Log(cache_dir() / "logs" / "rehearsal-registry.log")
    try:
        address = registry.start(config, port, log)
        names = registry.load(config, address, log)
    except StepFailed as error:
        print(f"[rehearsal] FAILED registry: {error}; log: {log.path}")
        return 1
    print(f"[rehearsal] registry {address} serves stand-ins as: {', '.join(names)}", flush=True)
    home = ensure_user(user)
    workspace = checkout(home, user)
    folder = workspace.parent
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job_spec = workflow["jobs"][JOB]
    contexts: dict[str, Any] = {
        "matrix": {"profile": profile},
        "inputs": {"profile": "", "pytest_args": pytest_args},
        "github": {"run_id": f"rehearsal-{int(started)}", "ref": "refs/heads/main"},
        "steps": {},
        "env": {},
    }
    env = {"HOME": str(home), "USER": user, "PATH": BASE_PATH, "CI": "true", "LANG": "C.UTF-8"}
    job = Job(user, workspace, folder, env, contexts)
    for scope in (workflow.get("env") or {}, job_spec.get("env") or {}):
        for key, value in scope.items():
            job.env[str(key)] = substitute(str(value), contexts, True)
            contexts["env"][str(key)] = job.env[str(key)]
    # What a user of a mirror sets (see the module's docstring).
    job.env["MYSQLSTS_REGISTRY_MIRROR"] = address
    job.env["MYSQLSTS_KIND_NODE_IMAGE"] = node_image_tag()
    steps_started = time.time()
    served_before = registry.served_so_far()  # the loading's own reads, if any
    for index, step in enumerate(job_spec["steps"]):
        job.results.append(run_step(job, step, index))
    summary = job.runner_file("summary")
    shutil.copy2(summary, folder / "step-summary.md")
    # What the rehearsal itself wrote there (copies of artifacts, checks) is the user's.
    subprocess.run(["chown", "-R", f"{user}:{user}", str(folder)], check=True)
    left = leftovers(user, run_places(workspace, home, steps_started), steps_started)
    served = {repo: n - served_before.get(repo, 0) for repo, n in registry.served_so_far().items()}
    registry.stop(log)
    print("\n[rehearsal] steps of job e2e:")
    for result in job.results:
        print(f"  {result.outcome:8s} {result.seconds:7.0f}s  {result.name}  {result.note}")
    print(f"[rehearsal] step summary: {folder / 'step-summary.md'}")
    pulled = ", ".join(f"{repo} {n / 1e6:.1f} MB" for repo, n in sorted(served.items()) if n)
    total = sum(served.values()) / 1e6
    print(
        f"[rehearsal] blobs the mirror served during the job: {pulled or 'none'} ({total:.1f} MB)"
    )
    checks = folder / "checks.txt"
    print(f"[rehearsal] checks: {checks.read_text().strip() if checks.is_file() else 'none'}")
    lab_cache = home / ".cache" / "mysqlsts-lab"
    built = "PRESENT" if lab_cache.exists() else "none (built nothing)"
    print(f"[rehearsal] the user's lab cache: {built}")
    print(f"[rehearsal] files the user cannot remove: {len(left)}")
    for line in left[:20]:
        print(f"  {line}")
    print(f"[rehearsal] job {'succeeded' if job.ok else 'FAILED'} in {time.time() - started:.0f}s")
    return 0 if job.ok and not left and not lab_cache.exists() else 1
