from __future__ import annotations

from pathlib import Path

from mysqlsts.plugin.state import e2e_requested


def test_e2e_is_set_up_only_when_suites_are_targeted(tmp_path: Path) -> None:
    suites = tmp_path / "suites"
    (suites / "storage").mkdir(parents=True)
    assert e2e_requested(["suites"], tmp_path, suites)
    assert e2e_requested(["suites/storage/test_x.py::test_y"], tmp_path, suites)
    assert e2e_requested(["."], tmp_path, suites)  # everything includes the suites
    assert e2e_requested([str(suites)], Path("/"), suites)
    assert not e2e_requested(["tests/unit"], tmp_path, suites)
    assert not e2e_requested(["tests/unit/test_a.py::test_b"], tmp_path, suites)
    assert not e2e_requested([], tmp_path, suites)
    assert not e2e_requested(["."], tmp_path, tmp_path / "no-suites-here")


def test_a_replica_check_needs_a_replica() -> None:
    from mysqlsts.plugin.fixtures import replicas_missing

    assert replicas_missing(3, 1) is None
    assert replicas_missing(2, 1) is None
    assert replicas_missing(1, 1) == (
        "needs at least 1 replica(s) besides the master, the manifests declare replicas: 1: "
        "with fewer it would check nothing"
    )
