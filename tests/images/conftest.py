"""Fixtures of the stand-in image tests: Docker, the images, and a three-pod "cluster".

These tests need Docker and the stand-in images (tags from lab/lab.toml), but no
Kubernetes. They skip, saying why, when either is missing.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator

import pytest
import standin_docker
import standin_spec
from standin_cluster import Cluster, start_cluster
from standin_pods import Pods

from mysqlsts.lab import config as lab_config

IMAGE_KEYS = ("mysql_standin", "mysql_debian_standin", "xtrabackup_standin")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "images: needs Docker and the lab's stand-in images (no Kubernetes)"
    )


@pytest.fixture(scope="session")
def standin_images() -> dict[str, str]:
    """lab.toml key -> tag of the stand-in images; skips when they cannot be used."""
    reason = standin_docker.unavailable_reason()
    if reason:
        pytest.skip(f"Docker is not usable: {reason}")
    images = lab_config.load().images
    tags = {key: images[key] for key in IMAGE_KEYS}
    missing = [tag for tag in tags.values() if not standin_docker.image_exists(tag)]
    if missing:
        pytest.skip(
            f"stand-in images not built: {', '.join(missing)} "
            "(build them with `python -m mysqlsts.lab build`; manifests/README.md)"
        )
    return tags


@pytest.fixture(scope="session")
def statefulset(standin_images: dict[str, str]) -> standin_spec.StatefulSet:
    spec = standin_spec.load()
    mapped = {c.image for c in (*spec.init_containers, *spec.containers)}
    expected = {standin_images["mysql_debian_standin"], standin_images["xtrabackup_standin"]}
    assert mapped == expected, (
        f"the {standin_spec.PROFILE} profile maps to {mapped}, lab.toml names {expected}"
    )
    return spec


@pytest.fixture(scope="module")
def cluster(
    statefulset: standin_spec.StatefulSet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """mysql-0, mysql-1 and mysql-2 as containers; removed afterwards, even on failure."""
    run_id = f"standin-{uuid.uuid4().hex[:8]}"
    pods = Pods(statefulset, run_id, tmp_path_factory.mktemp(run_id))
    try:
        cluster = start_cluster(pods)
        print(f"\npod start-up times (s): {cluster.startup}")
        yield cluster
    finally:
        problems = standin_docker.remove_labelled(pods.label)
        if problems:
            warnings.warn(f"cleanup of {run_id} incomplete: {problems}", stacklevel=1)
