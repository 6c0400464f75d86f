from __future__ import annotations

from pathlib import Path

import article
import pytest
import yaml

from mysqlsts.errors import InputError
from mysqlsts.manifests import source as manifests


def test_plain_directory_is_read_in_file_name_order(tmp_path: Path) -> None:
    objects = manifests.render(article.write(tmp_path / "m"))
    assert [o["kind"] for o in objects] == [
        "PersistentVolume",
        "PersistentVolume",
        "PersistentVolume",
        "StorageClass",
        "Namespace",
        "ConfigMap",
        "Secret",
        "Service",
        "Service",
        "StatefulSet",
    ]


def test_kustomization_is_rendered_with_kubectl(tmp_path: Path) -> None:
    directory = article.write(tmp_path / "k")
    files = sorted(p.name for p in directory.iterdir())
    (directory / "kustomization.yaml").write_text(yaml.safe_dump({"resources": files}))
    objects = manifests.render(directory)
    assert sorted(o["metadata"]["name"] for o in objects if o["kind"] == "Service") == [
        "mysql",
        "mysql-read",
    ]
    # A kustomization.yaml path means its directory.
    assert len(manifests.render(directory / "kustomization.yaml")) == len(objects)


def test_single_file(tmp_path: Path) -> None:
    directory = article.write(tmp_path / "m")
    assert len(manifests.render(directory / "06-mysql-services.yaml")) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: [unclosed\n", "invalid YAML in "),
        ("- a\n- b\n", "not a Kubernetes object"),
        ("kind: Service\nmetadata: {}\n", "missing apiVersion, metadata.name"),
    ],
)
def test_bad_documents_give_one_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(InputError) as caught:
        manifests.render(tmp_path)
    assert message in str(caught.value) and str(tmp_path / "bad.yaml") in str(caught.value)
    assert "\n" not in str(caught.value)


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: [x\n")
    with pytest.raises(InputError, match=r"line \d+ column \d+"):
        manifests.render(tmp_path)


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no YAML files"):
        manifests.render(tmp_path)


def test_failing_kustomization_gives_kubectls_error(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(InputError, match=r"kubectl kustomize .* failed: .*missing\.yaml"):
        manifests.render(tmp_path)


def test_no_statefulset_and_several_statefulsets(tmp_path: Path) -> None:
    objs = [o for o in article.objects() if o["kind"] != "StatefulSet"]
    with pytest.raises(InputError, match="contains no StatefulSet"):
        manifests.statefulset_of(objs, "manifests x")
    sts = article.statefulset(article.objects())
    with pytest.raises(InputError, match=r"2 StatefulSets \(mysql, mysql\)"):
        manifests.statefulset_of([sts, sts], "manifests x")


def test_locate_profiles_and_paths(tmp_path: Path) -> None:
    upstream = article.write(tmp_path / "upstream")
    profiles = tmp_path / "profiles"
    (profiles / "offline").mkdir(parents=True)
    (profiles / "offline" / "kustomization.yaml").write_text("resources: [../../upstream]\n")
    (profiles / "notes").mkdir()  # not a profile: no kustomization
    kw = {"upstream_dir": upstream, "profiles_dir": profiles}
    assert manifests.known_profiles(upstream, profiles) == ["upstream", "offline"]
    assert manifests.locate("upstream", None, **kw).path == upstream
    assert manifests.locate("offline", None, **kw).label == "profile offline"
    with pytest.raises(
        InputError, match=r"unknown profile 'bogus' \(known profiles: upstream, offline\)"
    ):
        manifests.locate("bogus", None, **kw)
    with pytest.raises(InputError, match="unknown profile 'notes'"):
        manifests.locate("notes", None, **kw)
    # --manifests wins over the profile, and must exist.
    assert manifests.locate("bogus", upstream, **kw).path == upstream.resolve()
    with pytest.raises(InputError, match=r"--manifests .*nowhere: no such file or directory"):
        manifests.locate("offline", tmp_path / "nowhere", **kw)


needs_upstream = pytest.mark.skipif(
    not (manifests.UPSTREAM_DIR / "kustomization.yaml").is_file(),
    reason="manifests/upstream/kustomization.yaml not written yet",
)


@needs_upstream
def test_real_upstream_profile_renders_the_article() -> None:
    objects, statefulset = manifests.load(manifests.locate("upstream", None))
    assert statefulset["metadata"]["name"] == "mysql"
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == sorted(o["kind"] for o in article.objects())


@pytest.mark.skipif(
    not (manifests.PROFILES_DIR / "offline" / "kustomization.yaml").is_file(),
    reason="manifests/profiles/offline not written yet",
)
def test_real_offline_profile_renders() -> None:
    objects, _ = manifests.load(manifests.locate("offline", None))
    assert any(o["kind"] == "StatefulSet" for o in objects)


def test_lab_images_are_found_through_the_kustomization_chain(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "sts.yaml").write_text("kind: StatefulSet\nimage: mysql:5.7\n")
    (base / "kustomization.yaml").write_text("resources: [sts.yaml]\n")
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "kustomization.yaml").write_text(
        "resources: [../base]\nimages:\n- name: mysql:5.7\n  newName: localhost/lab/mysql-standin\n"
    )
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("resources: [../lab]\n")
    assert manifests.uses_lab_images(overlay) and manifests.uses_lab_images(lab)
    assert not manifests.uses_lab_images(base)
    assert manifests.uses_lab_images(manifests.PROFILES_DIR / "offline-debian")
    assert not manifests.uses_lab_images(manifests.PROFILES_DIR / "upstream-debian")
