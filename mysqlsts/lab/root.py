"""The lab's work that needs root, and how it gets it.

Only the offline lab ever needs root; the suite itself needs a Docker the user can use.
What needs root, and only when it is not done yet:

- the host: installing Debian packages (``apt-get``), the runtime shim and
  ``/etc/docker/daemon.json``, starting ``dockerd``, raising the inotify limits;
- the root filesystems: ``debootstrap`` and ``chroot`` make files owned by root, which
  only root can read into an image and remove afterwards.

A user who is not root gets them through ``sudo -n`` (the whole build runs again under
it, its cache kept where the user's is and handed back to the user at the end), or one
line saying what needs root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

from mysqlsts.lab.config import cache_dir

# The environment the build under sudo keeps (sudo resets the rest).
KEPT_ENV = ("PATH", "HOME", "XDG_CACHE_HOME", "GOPATH", "GOCACHE", "GOMODCACHE", "DOCKER_HOST")
# Set in the build sudo runs: the user to hand the cache back to.
OWNER_ENV = "MYSQLSTS_LAB_OWNER"


def is_root() -> bool:
    return os.geteuid() == 0


def sudo_works() -> bool:
    """Whether ``sudo`` runs commands as root without asking for a password."""
    if shutil.which("sudo") is None:
        return False
    done = subprocess.run(["sudo", "-n", "true"], capture_output=True, timeout=30)
    return done.returncode == 0


def refusal(pending: Sequence[str]) -> str:
    """The one line for a user who is not root and has no password-less sudo."""
    return (
        f"these lab steps need root: {'; '.join(pending)}. Run `tox -e lab` as root, let "
        "this user run sudo without a password, or use a profile whose images are pulled "
        "(upstream-debian: no lab)"
    )


def sudo_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` again under ``sudo -n``, with the user's cache and the kept environment."""
    kept = [f"{name}={os.environ[name]}" for name in KEPT_ENV if name in os.environ]
    owner = f"{os.getuid()}:{os.getgid()}"
    return [
        "sudo", "-n", "env", *kept, f"MYSQLSTS_LAB_CACHE={cache_dir()}", f"{OWNER_ENV}={owner}",
        sys.executable, *argv,
    ]  # fmt: skip


def hand_back() -> None:
    """Under sudo: the cache goes back to the user who asked for the build."""
    owner = os.environ.get(OWNER_ENV)
    if owner and is_root() and cache_dir().exists():
        subprocess.run(["chown", "-R", owner, str(cache_dir())], check=False)
