"""The nightly's upstream leg: green only when setup stops for the hostname reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from mysqlsts.cli import expected_failure
from mysqlsts.reporting import summary

HOSTNAME = (
    "the deployment did not come up: pod mysql-0: init container init-mysql exited 1, "
    "restarted 3 times: bash: line 3: hostname: command not found"
)


def run_folder(tmp_path: Path, line: str | None) -> Path:
    if line is not None:
        (tmp_path / "junit.xml").write_text(summary.setup_failure_junit(line, 3.0))
    return tmp_path


def judge(folder: Path, code: int) -> int:
    return expected_failure.main(
        ["--like", "mysql-image-without-hostname", "--exit-code", str(code), str(folder)]
    )


def test_the_hostname_diagnosis_is_the_expected_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert judge(run_folder(tmp_path, HOSTNAME), 6) == 0
    assert "caught" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "code", "said"),
    [
        ("the deployment did not come up: pod mysql-0: ImagePullBackOff", 6, "WRONG REASON"),
        (None, 0, "MISSED"),  # the deployment came up: mysql:5.7 was fixed upstream
        (None, 6, "WRONG REASON"),  # stopped, but no diagnosis to show for it
    ],
)
def test_any_other_outcome_fails_saying_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str | None, code: int, said: str
) -> None:
    assert judge(run_folder(tmp_path, line), code) == 1
    assert said in capsys.readouterr().out


def test_a_defect_without_a_setup_claim_is_bad_input(tmp_path: Path) -> None:
    code = expected_failure.main(["--like", "no-liveness-probe", "--exit-code", "6", str(tmp_path)])
    assert code == 4
