"""Each bad input ends the run with one line, before anything is created.

Most cases drive Run.preflight() in-process (fast); two run pytest itself to show the
whole path: the line printed, the exit code and the time taken.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import article
import pytest
import yaml
from fake_apiserver import serve

from mysqlsts import settings
from mysqlsts.errors import (
    EXIT_BAD_INPUT,
    EXIT_SETUP_FAILED,
    EnvironmentProblem,
    InputError,
    SuiteError,
)
from mysqlsts.repository import REPO_ROOT
from mysqlsts.run.environment import Run


def run_for(tmp_path: Path, **given: object) -> Run:
    values = {f"mysqlsts_{k}": v for k, v in given.items()}
    return Run(settings.resolve(values, {}), lambda _line: None, tmp_path / "reports")


def closed_port_kubeconfig(tmp_path: Path) -> Path:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp_path.mkdir(parents=True, exist_ok=True)
    with serve() as fake:
        fake.url = f"http://127.0.0.1:{port}"
        return fake.kubeconfig(tmp_path)


def preflight_error(run: Run) -> SuiteError:
    with pytest.raises(SuiteError) as caught:
        run.preflight()
    assert "\n" not in str(caught.value)
    assert not run.state_dir.exists()  # nothing created
    return caught.value


def test_manifests_path_missing(tmp_path: Path) -> None:
    error = preflight_error(run_for(tmp_path, manifests=str(tmp_path / "nowhere")))
    assert isinstance(error, InputError) and "no such file or directory" in str(error)


def test_invalid_yaml(tmp_path: Path) -> None:
    directory = article.write(tmp_path / "m")
    (directory / "05-mysql-secret.yaml").write_text("data: {password: [\n")
    error = preflight_error(run_for(tmp_path, manifests=str(directory)))
    assert isinstance(error, InputError) and str(error).startswith("invalid YAML in ")


def test_no_statefulset(tmp_path: Path) -> None:
    directory = article.write(tmp_path / "m")
    (directory / "07-mysql-statefulset.yaml").unlink()
    error = preflight_error(run_for(tmp_path, manifests=str(directory)))
    assert "contains no StatefulSet" in str(error)


def test_unknown_profile(tmp_path: Path) -> None:
    error = preflight_error(run_for(tmp_path, profile="bogus"))
    assert isinstance(error, InputError) and "unknown profile 'bogus'" in str(error)


def test_kubeconfig_missing(tmp_path: Path) -> None:
    directory = article.write(tmp_path / "m")
    run = run_for(
        tmp_path, manifests=str(directory), cluster="existing", kubeconfig=str(tmp_path / "kc")
    )
    error = preflight_error(run)
    assert (
        isinstance(error, InputError)
        and "kubeconfig" in str(error)
        and "does not exist" in str(error)
    )


def test_unreachable_api_server(tmp_path: Path) -> None:
    directory = article.write(tmp_path / "m")
    kubeconfig = closed_port_kubeconfig(tmp_path)
    run = run_for(
        tmp_path, manifests=str(directory), cluster="existing", kubeconfig=str(kubeconfig)
    )
    started = time.monotonic()
    error = preflight_error(run)
    assert isinstance(error, EnvironmentProblem) and "is unreachable" in str(error)
    assert time.monotonic() - started < 30


def test_kind_binary_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYSQLSTS_KIND", raising=False)
    monkeypatch.setenv("MYSQLSTS_LAB_CACHE", str(tmp_path / "no-lab"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    error = preflight_error(run_for(tmp_path, manifests=str(article.write(tmp_path / "m"))))
    assert isinstance(error, EnvironmentProblem) and str(error).startswith("kind binary not found")


def test_docker_not_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_kind = tmp_path / "kind"
    fake_kind.write_text("#!/bin/sh\necho 'this fake kind must not run' >&2\nexit 1\n")
    fake_kind.chmod(0o755)
    monkeypatch.setenv("MYSQLSTS_KIND", str(fake_kind))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    started = time.monotonic()
    error = preflight_error(run_for(tmp_path, manifests=str(article.write(tmp_path / "m"))))
    assert isinstance(error, EnvironmentProblem)
    assert str(error).startswith(
        ("Docker is not running or not reachable at unix://", "docker CLI not found")
    )
    assert time.monotonic() - started < 30


def start_pytest(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQLSTS_", "PYTEST_"))}
    env["TMPDIR"] = str(tmp_path)  # a state directory, if one were made, would show here
    env["MYSQLSTS_REPORTS_DIR"] = str(tmp_path / "reports")  # and so would a reports folder
    # Only the suite's plugin (from conftest.py): start-up is most of these runs' time.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_pytest_exits_with_one_line_a_distinct_code_and_leaves_nothing(tmp_path: Path) -> None:
    # Both runs at once: each is mostly interpreter start-up.
    bad_input_tmp, unreachable_tmp = tmp_path / "a", tmp_path / "b"
    bad_input_tmp.mkdir()
    kubeconfig = closed_port_kubeconfig(unreachable_tmp / "kc")
    manifests = article.write(unreachable_tmp / "m")
    bad_input = start_pytest(bad_input_tmp, "--manifests", str(tmp_path / "nowhere"))
    unreachable = start_pytest(
        unreachable_tmp,
        *("--cluster", "existing", "--kubeconfig", str(kubeconfig), "--manifests", str(manifests)),
    )
    _, bad_input_err = bad_input.communicate(timeout=60)
    _, unreachable_err = unreachable.communicate(timeout=60)

    assert bad_input.returncode == EXIT_BAD_INPUT
    assert bad_input_err.strip().splitlines()[-1] == (
        f"Exit: --manifests {tmp_path / 'nowhere'}: no such file or directory"
    )
    assert list(bad_input_tmp.iterdir()) == []

    assert unreachable.returncode == EXIT_SETUP_FAILED, unreachable_err
    last = unreachable_err.strip().splitlines()[-1]
    assert last.startswith("Exit: API server http://127.0.0.1:") and "is unreachable" in last
    # A setup failure keeps its reports (the evidence of what was tried).
    assert sorted(p.name for p in unreachable_tmp.iterdir()) == ["kc", "m", "reports"]


def test_the_fixture_article_is_valid_yaml(tmp_path: Path) -> None:
    for path in article.write(tmp_path).iterdir():
        assert list(yaml.safe_load_all(path.read_text()))
