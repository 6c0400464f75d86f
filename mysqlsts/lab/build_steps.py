"""Named, timed, cached build steps with a log file each.

Every step prints its name and duration. A step whose inputs did not change since its
last success says it reused its output instead of running. A failed step names itself,
prints where its full log is and raises :class:`StepFailed`.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from mysqlsts.lab.config import cache_dir
from mysqlsts.stopwatch import Stopwatch


class StepFailed(Exception):
    """A build step failed; its message is one line naming the step and its log."""


def log_dir() -> Path:
    return cache_dir() / "logs"


def stamp_dir() -> Path:
    return cache_dir() / "stamps"


def fingerprint(*parts: object) -> str:
    """A short digest of the inputs of a step: strings, numbers, mappings and paths.

    A path contributes its relative name and content (directories recursively), so that
    editing a build file invalidates exactly the steps that use it.
    """
    digest = hashlib.sha256()

    def feed(value: object) -> None:
        if isinstance(value, Path):
            files = (
                sorted(p for p in value.rglob("*") if p.is_file()) if value.is_dir() else [value]
            )
            for file in files:
                digest.update(str(file.relative_to(value.parent)).encode())
                digest.update(file.read_bytes())
        elif isinstance(value, Mapping):
            digest.update(json.dumps(value, sort_keys=True, default=str).encode())
        elif isinstance(value, list | tuple):
            for item in value:
                feed(item)
        else:
            digest.update(repr(value).encode())
        digest.update(b"\0")

    for part in parts:
        feed(part)
    return digest.hexdigest()[:16]


def _say(message: str) -> None:
    print(f"[lab] {message}", flush=True)


@dataclass
class Log:
    """The log file of one step; commands run through it append their output."""

    path: Path
    _handle: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("w")

    def write(self, text: str) -> None:
        self._handle.write(text if text.endswith("\n") else text + "\n")  # type: ignore[attr-defined]
        self._handle.flush()  # type: ignore[attr-defined]

    def run(
        self,
        argv: Sequence[str | Path],
        *,
        input: bytes | None = None,
        stdin: IO[bytes] | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        capture: bool = False,
    ) -> str:
        """Run a command, its output going to the log; raise on a non-zero exit.

        With ``capture`` the standard output is returned instead (stderr still logged).
        """
        args = [str(a) for a in argv]
        self.write(f"$ {' '.join(args)}")
        proc = subprocess.run(
            args,
            input=input,
            stdin=stdin,
            env=None if env is None else dict(env),
            cwd=cwd,
            stdout=subprocess.PIPE if capture else self._handle,  # type: ignore[arg-type]
            stderr=self._handle,  # type: ignore[arg-type]
        )
        if proc.returncode != 0:
            raise StepFailed(
                f"`{' '.join(args[:3])} ...` exited {proc.returncode} ({self.last_line()})"
            )
        return proc.stdout.decode() if capture else ""

    def last_line(self) -> str:
        """The log's last non-empty line (usually the tool's own reason), shortened."""
        self._handle.flush()  # type: ignore[attr-defined]
        lines = [
            line for line in self.path.read_text(errors="replace").splitlines() if line.strip()
        ]
        last = lines[-1].strip() if lines else "no output"
        return last if len(last) <= 200 else last[:197] + "..."

    def close(self) -> None:
        self._handle.close()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Step:
    """One build step.

    ``inputs`` decide reuse: the step runs again only when their fingerprint changed or
    ``is_present`` says its output is gone. ``action`` builds the output.
    """

    name: str
    inputs: Iterable[object]
    action: Callable[[Log, str], None]
    is_present: Callable[[str], bool]
    # Whether running it needs root (mysqlsts.lab.root): debootstrap, chroot.
    needs_root: bool = False

    def __post_init__(self) -> None:
        # Computed once: every later use (reuse check, dependants' inputs) sees one key.
        object.__setattr__(self, "_key", fingerprint(self.name, *self.inputs))

    def key(self) -> str:
        return self._key  # type: ignore[attr-defined]


def _stamp(name: str) -> Path:
    return stamp_dir() / (name.replace(" ", "-").replace("/", "_") + ".stamp")


def stamp_matches(name: str, key: str) -> bool:
    stamp = _stamp(name)
    return stamp.exists() and stamp.read_text().strip() == key


def is_done(step: Step) -> bool:
    """Whether ``step`` would be reused (its inputs unchanged, its output there)."""
    key = step.key()
    return stamp_matches(step.name, key) and step.is_present(key)


def run_step(step: Step) -> str:
    """Run (or reuse) one step and return its input key."""
    key = step.key()
    if is_done(step):
        _say(f"= {step.name}: reused (inputs unchanged, key {key})")
        return key
    log = Log(log_dir() / f"{step.name.replace(' ', '-').replace('/', '_')}.log")
    _say(f"> {step.name} ...")
    watch = Stopwatch()
    try:
        step.action(log, key)
    except StepFailed as exc:
        raise StepFailed(
            f"step '{step.name}' failed after {watch}: {exc}; full log: {log.path}"
        ) from None
    except Exception as exc:  # a bug or an OS error: still name the step and its log
        log.write(f"{type(exc).__name__}: {exc}")
        raise StepFailed(
            f"step '{step.name}' failed after {watch}: {type(exc).__name__}: {exc}; "
            f"full log: {log.path}"
        ) from exc
    finally:
        log.close()
    _stamp(step.name).parent.mkdir(parents=True, exist_ok=True)
    _stamp(step.name).write_text(key + "\n")
    _say(f"+ {step.name}: built in {watch} (key {key})")
    return key


def run_all(steps: Iterable[Step]) -> None:
    """Run steps in order; on failure print the one-line reason and exit non-zero."""
    watch = Stopwatch()
    try:
        for step in steps:
            run_step(step)
    except StepFailed as exc:
        print(f"[lab] FAILED {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    _say(f"all steps done in {watch}")
