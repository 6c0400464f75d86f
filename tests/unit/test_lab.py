"""The offline lab's pure logic: keys, reuse, host detection, node image inputs."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
import yaml

from mysqlsts.lab import build_steps, config, gomod, host, images, nodeimage


@pytest.fixture
def lab_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MYSQLSTS_LAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_fingerprint_follows_file_content_not_location(tmp_path: Path) -> None:
    one, two = tmp_path / "a" / "ctx", tmp_path / "b" / "ctx"
    for directory in (one, two):
        directory.mkdir(parents=True)
        (directory / "Dockerfile").write_text("FROM x\n")
    assert build_steps.fingerprint(one) == build_steps.fingerprint(two)
    (two / "Dockerfile").write_text("FROM y\n")
    assert build_steps.fingerprint(one) != build_steps.fingerprint(two)


def _step(calls: list[str], present: bool = True, fail: bool = False) -> build_steps.Step:
    def action(log: build_steps.Log, key: str) -> None:
        calls.append(key)
        log.write("working")
        if fail:
            raise build_steps.StepFailed("boom")

    return build_steps.Step("demo", ("v1",), action, lambda _key: present)


def test_step_is_reused_when_inputs_unchanged(lab_cache: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    build_steps.run_step(_step(calls))
    build_steps.run_step(_step(calls))
    assert len(calls) == 1
    assert "reused" in capsys.readouterr().out


def test_step_runs_again_when_its_output_is_gone(lab_cache: Path) -> None:
    calls: list[str] = []
    build_steps.run_step(_step(calls))
    build_steps.run_step(_step(calls, present=False))
    assert len(calls) == 2


def test_failed_step_names_itself_and_its_log_and_leaves_no_stamp(lab_cache: Path) -> None:
    calls: list[str] = []
    with pytest.raises(build_steps.StepFailed) as failure:
        build_steps.run_step(_step(calls, fail=True))
    message = str(failure.value)
    assert "step 'demo' failed" in message and "boom" in message
    log_path = Path(message.split("full log: ")[1])
    assert log_path.read_text().strip() == "working"
    assert not build_steps.stamp_matches("demo", _step([]).key())


def test_run_all_exits_non_zero_with_one_line(lab_cache: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_info:
        build_steps.run_all([_step([], fail=True)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("[lab] FAILED step 'demo'")


@pytest.mark.parametrize(
    ("capbnd", "lacks"),
    [("000001fffeffffff", True), ("000001ffffffffff", False)],
)
def test_bounding_set_detection(capbnd: str, lacks: bool) -> None:
    status = f"Name:\tx\nCapBnd:\t{capbnd}\n"
    assert host.bounding_set_lacks_sys_resource(status) is lacks


def test_daemon_config_keeps_user_settings_and_removes_only_our_shim() -> None:
    user = {"log-level": "warn", "runtimes": {"other": {"path": "/x"}}}
    with_shim = host.desired_daemon_config(user, needs_shim=True)
    assert with_shim["default-runtime"] == host.SHIM_RUNTIME
    assert with_shim["runtimes"]["other"] == {"path": "/x"}
    assert host.desired_daemon_config(with_shim, needs_shim=False) == user


def test_static_image_has_binary_and_world_writable_tmp(tmp_path: Path) -> None:
    binary = tmp_path / "etcd"
    binary.write_bytes(b"\x7fELF")
    data = images.static_rootfs_tar(binary, "/usr/local/bin/etcd")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["usr/local/bin/etcd"].mode == 0o755
    assert members["tmp"].mode == 0o1777
    assert "etc/passwd" in members


def test_image_tags_take_versions_from_one_place() -> None:
    cfg = config.load()
    assert cfg.images["kube_apiserver"].endswith(":" + cfg.versions["kubernetes"])
    assert cfg.images["etcd"].endswith(":" + cfg.versions["etcd_image_tag"])
    assert all("{" not in ref for ref in cfg.images.values())


def test_wrapper_modules_agree_with_lab_toml() -> None:
    assert gomod.mismatches(config.load()) == []


def test_kubernetes_wrapper_replaces_staging_modules() -> None:
    upstream = (
        "module k8s.io/kubernetes\n\nrequire (\n\tgithub.com/a/b v1.2.3\n"
        "\tk8s.io/api v0.0.0\n)\n\nreplace k8s.io/api => ./staging/src/k8s.io/api\n"
    )
    text = gomod.kubernetes_go_mod(upstream, "v1.34.9")
    assert "\tk8s.io/kubernetes v1.34.9" in text
    assert "\tk8s.io/api v0.34.9" in text
    assert "\tk8s.io/api => k8s.io/api v0.34.9" in text
    assert "\tgithub.com/a/b v1.2.3" in text
    assert gomod.pinned_version(text, "k8s.io/kubernetes") == "v1.34.9"


def _kind_files(tmp_path: Path) -> Path:
    files = tmp_path / "files"
    (files / "etc/containerd").mkdir(parents=True)
    (files / "etc/containerd/config.toml").write_text(
        'version = 2\n  sandbox_image = "registry.k8s.io/pause:3.10"\n'
        "  restrict_oom_score_adj = false\n"
    )
    return files


@pytest.mark.parametrize("restrict", [True, False])
def test_containerd_config_restricts_oom_score_only_when_asked(
    tmp_path: Path, restrict: bool
) -> None:
    cfg = config.load()
    text = nodeimage.containerd_config(_kind_files(tmp_path), cfg, restrict)
    assert f"restrict_oom_score_adj = {'true' if restrict else 'false'}" in text
    assert f'sandbox_image = "{cfg.images["pause"]}"' in text


def test_cni_manifest_uses_lab_kindnetd_without_nri(tmp_path: Path) -> None:
    source = tmp_path / "pkg/build/nodeimage"
    source.mkdir(parents=True)
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "image": "IMAGE",
                            "env": [{"name": "POD_SUBNET", "value": "SUBNET"}],
                            "volumeMounts": [
                                {"name": "cni-cfg", "mountPath": "/etc/cni/net.d"},
                                {"name": "nri-plugin", "mountPath": "/var/run/nri"},
                            ],
                        }
                    ],
                    "volumes": [{"name": "cni-cfg"}, {"name": "nri-plugin"}],
                }
            }
        },
    }
    template = yaml.safe_dump(ds).replace("IMAGE", "` + kindnetdImage + `")
    template = template.replace("SUBNET", "{{ .PodSubnet }}")
    (source / "const_cni.go").write_text(f"const defaultCNIManifest = `\n{template}\n`\n")
    cfg = config.load()
    text = nodeimage.cni_manifest(cfg, tmp_path)
    assert text.startswith("# would you kindly template this file")
    assert "{{ .PodSubnet }}" in text and cfg.images["kindnetd"] in text
    assert "nri" not in text


STORAGE_TEMPLATE = """const defaultStorageManifest = `
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - image: ` + storageProvisionerImage + `
          command: [local-path-provisioner, start, --helper-image, ` + storageHelperImage + `]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
`
"""


def test_storage_manifest_runs_the_lab_provisioner_with_the_toolbox_as_helper(
    tmp_path: Path,
) -> None:
    source = tmp_path / "pkg/build/nodeimage"
    source.mkdir(parents=True)
    (source / "const_storage.go").write_text(STORAGE_TEMPLATE)
    cfg = config.load()
    documents = list(yaml.safe_load_all(nodeimage.storage_manifest(cfg, tmp_path)))
    container = documents[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == cfg.images["local_path_provisioner"]
    assert container["command"][-1] == cfg.images["toolbox"]
    assert "local_path_provisioner" in nodeimage.PRELOADED_IMAGES


def test_a_changed_storage_template_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "pkg/build/nodeimage"
    source.mkdir(parents=True)
    changed = STORAGE_TEMPLATE.replace("WaitForFirstConsumer", "Immediate")
    (source / "const_storage.go").write_text(changed)
    with pytest.raises(build_steps.StepFailed, match="storage manifest template changed"):
        nodeimage.storage_manifest(config.load(), tmp_path)


@pytest.mark.parametrize(
    ("args", "node_image", "needed"),
    [
        ([], None, True),  # the offline-debian profile is the default
        (["--profile=offline", "-n", "2"], None, True),
        (["--manifests", "manifests/defects/no-liveness-probe"], None, True),  # an overlay
        (["--profile", "offline-debian"], "kindest/node:v1.34.0", True),  # lab images
        (["--profile", "upstream"], None, False),  # kind's own node image, pulled
        (["--profile", "upstream-debian", "--registry-mirror", "127.0.0.1:5001"], None, False),
        (["--profile", "upstream"], "kindest/node:v1.34.0", False),
        (["--profile", "upstream-debian"], "kindest/node:v1.34.0", False),
        (["--cluster", "existing"], None, False),
    ],
)
def test_e2e_builds_the_lab_only_when_the_run_needs_it(
    args: list[str], node_image: str | None, needed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mysqlsts.cli.ensure_lab import lab_needed

    for name in ("MYSQLSTS_PROFILE", "MYSQLSTS_CLUSTER", "MYSQLSTS_MANIFESTS"):
        monkeypatch.delenv(name, raising=False)
    if node_image:
        monkeypatch.setenv("MYSQLSTS_KIND_NODE_IMAGE", node_image)
    else:
        monkeypatch.delenv("MYSQLSTS_KIND_NODE_IMAGE", raising=False)
    assert lab_needed(args) is needed


def test_inotify_limits_are_raised_never_lowered(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    files = {}
    for name, value in (
        ("fs.inotify.max_user_instances", "128"),
        ("fs.inotify.max_user_watches", "999999"),
    ):
        files[name] = tmp_path / name
        files[name].write_text(value + "\n")
    monkeypatch.setattr(host, "sysctl_path", lambda name: files[name])
    logged: list[str] = []
    log = type("L", (), {"write": lambda self, text: logged.append(text)})()
    assert host.raise_inotify_limits(log) == ["fs.inotify.max_user_instances 128 -> 8192"]
    assert files["fs.inotify.max_user_instances"].read_text() == "8192\n"
    assert files["fs.inotify.max_user_watches"].read_text() == "999999\n"
    assert host.raise_inotify_limits(log) == []


def test_the_lab_names_every_application_image_under_its_prefix() -> None:
    from mysqlsts.manifests.source import LAB_IMAGE_PREFIX

    images = config.load().images
    for key in nodeimage.APPLICATION_IMAGES:
        assert images[key].startswith(LAB_IMAGE_PREFIX), (key, images[key])


def test_a_user_who_is_not_root_and_has_no_sudo_is_told_which_steps_need_root(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mysqlsts.lab import build, root

    monkeypatch.setattr(root, "is_root", lambda: False)
    monkeypatch.setattr(root, "sudo_works", lambda: False)
    monkeypatch.setattr(build.host, "root_work", lambda: ["start dockerd"])
    monkeypatch.setattr(build, "is_done", lambda step: False)
    rootfs = build_steps.Step("rootfs toolbox", (), lambda log, key: None, lambda key: False, True)
    gobuild_step = build_steps.Step("go build kind", (), lambda log, key: None, lambda key: False)
    with pytest.raises(SystemExit) as stopped:
        build.get_root_if_needed([gobuild_step, rootfs])
    assert stopped.value.code == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("[lab] FAILED these lab steps need root: start dockerd; rootfs toolbox.")


def test_with_password_less_sudo_the_build_runs_again_as_root_with_the_users_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mysqlsts.lab import build, root

    monkeypatch.setenv("MYSQLSTS_LAB_CACHE", str(tmp_path))
    monkeypatch.setattr(root, "is_root", lambda: False)
    monkeypatch.setattr(root, "sudo_works", lambda: True)
    monkeypatch.setattr(build.host, "root_work", lambda: ["start dockerd"])
    ran: list[list[str]] = []

    def run(argv: list[str]) -> build.subprocess.CompletedProcess[bytes]:
        ran.append(argv)
        return build.subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(build.subprocess, "run", run)
    with pytest.raises(SystemExit) as stopped:
        build.get_root_if_needed([])
    assert stopped.value.code == 0
    (argv,) = ran
    assert argv[:3] == ["sudo", "-n", "env"]
    assert f"MYSQLSTS_LAB_CACHE={tmp_path}" in argv
    assert argv[-3:] == ["-m", "mysqlsts.lab", "build"]


def test_nothing_left_to_do_needs_no_root(monkeypatch: pytest.MonkeyPatch) -> None:
    from mysqlsts.lab import build, root

    monkeypatch.setattr(root, "is_root", lambda: False)
    monkeypatch.setattr(build.host, "root_work", lambda: [])
    monkeypatch.setattr(build, "is_done", lambda step: True)
    rootfs = build_steps.Step("rootfs toolbox", (), lambda log, key: None, lambda key: True, True)
    build.get_root_if_needed([rootfs])  # returns: the build goes on as this user
