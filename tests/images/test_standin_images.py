"""Single-container checks of the stand-in images: labels, tools, and loud refusals.

A stand-in must fail with a clear message on anything it cannot honour, never ignore it.
"""

from __future__ import annotations

import subprocess
import uuid

import pytest
from standin_docker import docker, image_label

pytestmark = pytest.mark.images


def run_once(
    image: str, *args: str, entrypoint: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``docker run --rm`` bounded in time; the container is removed even on a timeout."""
    name = f"standin-once-{uuid.uuid4().hex[:8]}"
    argv = ["run", "--rm", "--name", name]
    for key, value in (env or {}).items():
        argv += ["-e", f"{key}={value}"]
    if entrypoint:
        argv += ["--entrypoint", entrypoint]
    try:
        return docker(*argv, image, *args, check=False, timeout=90)
    finally:
        docker("rm", "-f", name, check=False)


@pytest.mark.parametrize("key", ["mysql_standin", "mysql_debian_standin", "xtrabackup_standin"])
def test_labels_say_mariadb_stand_in(standin_images: dict[str, str], key: str) -> None:
    title = image_label(standin_images[key], "org.opencontainers.image.title")
    description = image_label(standin_images[key], "org.opencontainers.image.description")
    assert "MariaDB" in title and "stand" in title, title
    assert description.startswith("NOT "), description


def test_server_defaults_are_57s_durable_ones(standin_images: dict[str, str]) -> None:
    """mysql:5.7 syncs the binlog and the redo log at every commit (MariaDB: sync_binlog=0)."""
    proc = run_once(standin_images["mysql_standin"], "--mysqld", entrypoint="my_print_defaults")
    assert proc.returncode == 0, proc.stderr
    options = proc.stdout.split()
    assert "--sync_binlog=1" in options and "--innodb_flush_log_at_trx_commit=1" in options, options


@pytest.mark.parametrize(
    ("key", "tools"),
    [
        ("mysql_standin", "bash mysql mysqladmin mysqld mariadbd"),
        ("xtrabackup_standin", "bash ncat mysql xtrabackup xbstream"),
    ],
)
def test_tools_the_manifests_use(standin_images: dict[str, str], key: str, tools: str) -> None:
    proc = run_once(standin_images[key], "-c", f"command -v {tools}", entrypoint="bash")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("key", "has_hostname"),
    [("mysql_standin", False), ("mysql_debian_standin", True), ("xtrabackup_standin", True)],
)
def test_hostname_binary_is_where_the_real_image_has_it(
    standin_images: dict[str, str], key: str, has_hostname: bool
) -> None:
    """Today's mysql:5.7 (Oracle Linux) has no hostname; mysql:5.7-debian and xtrabackup:1.0
    (Debian) have it. The upstream init script calls it, so this decides whether pods start."""
    proc = run_once(standin_images[key], "-c", "hostname", entrypoint="bash")
    if has_hostname:
        assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr
    else:
        assert proc.returncode == 127 and "hostname: command not found" in proc.stderr, (
            proc.stdout + proc.stderr
        )


def test_server_listens_beyond_localhost(standin_images: dict[str, str]) -> None:
    """Debian's 50-server.cnf has bind-address = 127.0.0.1; replicas must get in."""
    proc = run_once(standin_images["mysql_standin"], "--mysqld", entrypoint="my_print_defaults")
    assert proc.returncode == 0, proc.stderr
    assert "--bind-address" not in proc.stdout, proc.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["mysqld", "--gtid-mode=ON"], "cannot honour"),
        (["mysqld", "--super-read-only=maybe"], "super-read-only"),
        (["mysqld", "--init-file=/tmp/x.sql"], "cannot honour another one"),
    ],
)
def test_database_refuses_what_it_cannot_honour(
    standin_images: dict[str, str], args: list[str], expected: str
) -> None:
    proc = run_once(standin_images["mysql_standin"], *args, env={"MYSQL_ROOT_PASSWORD": "x"})
    assert proc.returncode != 0, proc.stdout
    assert expected in proc.stderr, proc.stderr


def test_database_needs_a_password_option(standin_images: dict[str, str]) -> None:
    proc = run_once(standin_images["mysql_standin"])
    assert proc.returncode != 0
    assert "password option is not specified" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("xtrabackup", ["--backup", "--stream=tar"], "only --stream=xbstream"),
        ("xtrabackup", ["--backup", "--compress"], "unsupported option '--compress'"),
        ("xtrabackup", ["--copy-back", "--target-dir=/tmp"], "unsupported option"),
        ("xtrabackup", ["--target-dir=/tmp"], "give --backup or --prepare"),
        ("xbstream", ["-x", "--decompress"], "unsupported option '--decompress'"),
    ],
)
def test_backup_tools_refuse_unsupported_flags(
    standin_images: dict[str, str], tool: str, args: list[str], expected: str
) -> None:
    proc = run_once(standin_images["xtrabackup_standin"], *args, entrypoint=tool)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert expected in proc.stderr, proc.stderr
