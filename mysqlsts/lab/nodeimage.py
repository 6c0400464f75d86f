"""Assemble a kind node image by hand, following kind's node image contract.

``kind build node-image`` cannot run offline (it fetches images inside its build
container), so its steps are done here:

1. base: a debootstrap'd Debian userland with systemd, containerd, runc, CNI plugins,
   plus kind's own files (entrypoint, units, scripts) taken from the kind module;
2. node: the base plus kubeadm/kubelet/kubectl, /kind/version, /kind/manifests, and
   every image kubeadm and kind need, and the lab's stand-ins and toolbox, imported into
   containerd's ``k8s.io`` namespace, then ``docker commit``.
"""

from __future__ import annotations

import inspect
import shutil
import subprocess
from pathlib import Path

import yaml

from mysqlsts.lab import docker, rootfs
from mysqlsts.lab.build_steps import Log, Step, StepFailed
from mysqlsts.lab.config import LAB_DIR, LabConfig, cache_dir
from mysqlsts.lab.gobuild import GO_DIR, GoProgram
from mysqlsts.lab.host import bounding_set_lacks_sys_resource
from mysqlsts.waiting import Seen, WaitTimeout, wait_for

NODE_DIR = LAB_DIR / "node"
# The node image's config, as Dockerfile instructions (docker import/commit cannot set
# STOPSIGNAL, so the final image gets them from a metadata-only docker build).
NODE_CONFIG = [
    "ENV container=docker",
    "STOPSIGNAL SIGRTMIN+3",
    'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
    "CMD []",
]


def kind_module_dir() -> Path:
    """The kind module's source in the Go module cache (its base image files live there)."""
    out = subprocess.run(
        ["go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kind"],
        cwd=GO_DIR / "kind",
        capture_output=True,
        text=True,
    )
    if out.returncode != 0 or not out.stdout.strip():
        subprocess.run(
            ["go", "mod", "download", "sigs.k8s.io/kind"], cwd=GO_DIR / "kind", check=True
        )
        return kind_module_dir()
    return Path(out.stdout.strip())


def containerd_config(kind_files: Path, config: LabConfig, restrict_oom: bool) -> str:
    """kind's containerd config (v2 format, read by Debian's containerd 1.6) adapted here."""
    text = (kind_files / "etc/containerd/config.toml").read_text()
    text = text.replace(
        'sandbox_image = "registry.k8s.io/pause:3.10"',
        f'sandbox_image = "{config.images["pause"]}"',
    )
    if f'sandbox_image = "{config.images["pause"]}"' not in text:
        raise StepFailed("kind's containerd config no longer sets sandbox_image as expected")
    if restrict_oom:
        # Without CAP_SYS_RESOURCE runc cannot set oom_score_adj below the parent's:
        # every pod sandbox would fail with "can't get final child's PID from pipe: EOF".
        text = text.replace("restrict_oom_score_adj = false", "restrict_oom_score_adj = true")
    return text


def _copy_tree(src: Path, dst: Path, mode: int) -> None:
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            target.chmod(mode)


def install_kind_files(root: Path, kind_files: Path, config: LabConfig, restrict_oom: bool) -> None:
    """What kind's base Dockerfile COPYs and RUNs, done on a directory."""
    _copy_tree(kind_files / "usr/local/bin", root / "usr/local/bin", 0o755)
    _copy_tree(kind_files / "kind", root / "kind", 0o644)
    _copy_tree(kind_files / "kind/bin", root / "kind/bin", 0o755)
    _copy_tree(kind_files / "etc", root / "etc", 0o644)
    (root / "etc/containerd/config.toml").write_text(
        containerd_config(kind_files, config, restrict_oom)
    )
    # Debian installs containerd in /usr/bin, kind's unit expects /usr/local/bin.
    unit = root / "etc/systemd/system/containerd.service"
    unit.write_text(unit.read_text().replace("/usr/local/bin/containerd", "/usr/bin/containerd"))
    # kind runs the fuse-overlayfs snapshotter only for rootless nodes; it is not built here.
    (root / "etc/systemd/system/containerd-fuse-overlayfs.service").unlink(missing_ok=True)
    # CNI plugins: Debian puts them in /usr/lib/cni, kind's config expects /opt/cni/bin.
    cni = root / "opt/cni/bin"
    cni.mkdir(parents=True, exist_ok=True)
    for plugin in ("host-local", "loopback", "ptp", "portmap"):
        link = cni / plugin
        link.unlink(missing_ok=True)
        link.symlink_to(f"/usr/lib/cni/{plugin}")
    (root / "etc/kubernetes/manifests").mkdir(parents=True, exist_ok=True)
    journald = root / "etc/systemd/journald.conf"
    journald.write_text(journald.read_text() + "ReadKMsg=no\n")


CHROOT_SCRIPT = r"""
set -eu
find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete
rm -f /lib/systemd/system/multi-user.target.wants/*
rm -f /etc/systemd/system/*.wants/*
rm -f /lib/systemd/system/local-fs.target.wants/*
rm -f /lib/systemd/system/sockets.target.wants/*udev*
rm -f /lib/systemd/system/sockets.target.wants/*initctl*
rm -f /lib/systemd/system/basic.target.wants/*
systemctl enable kubelet.service containerd.service undo-mount-hacks.service
systemctl mask systemd-binfmt.service
ctr oci spec \
  | jq '.hooks.createContainer[.hooks.createContainer| length]
        |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json
"""


def base_step(config: LabConfig, packages: list[str]) -> Step:
    restrict_oom = bounding_set_lacks_sys_resource()
    tag_prefix = "node-base"

    def action(log: Log, key: str) -> None:
        kind_files = kind_module_dir() / "images/base/files"
        target = cache_dir() / "rootfs" / f"node-base-{key}"
        rootfs.debootstrap(log, config, packages, target)
        install_kind_files(target, kind_files, config, restrict_oom)
        log.run(["chroot", target, "/bin/bash", "-c", CHROOT_SCRIPT])
        rootfs.import_dir(log, target, rootfs.base_tag(tag_prefix, key), [])
        shutil.rmtree(target, ignore_errors=True)

    return Step(
        name="node base",
        inputs=(
            config.debian_suite,
            config.debian_mirror,
            packages,
            restrict_oom,
            GO_DIR / "kind",
            # The code that shapes the base, not the whole module: editing the node step
            # must not redo the debootstrap.
            inspect.getsource(install_kind_files),
            inspect.getsource(containerd_config),
            CHROOT_SCRIPT,
            inspect.getsource(rootfs.debootstrap),
            inspect.getsource(rootfs.import_dir),
            config.images["pause"],
        ),
        action=action,
        is_present=lambda key: docker.image_exists(rootfs.base_tag(tag_prefix, key)),
        needs_root=True,  # debootstrap and chroot
    )


def cni_manifest(config: LabConfig, kind_dir: Path) -> str:
    """kind's default CNI manifest with the lab's kindnetd (no NRI: containerd 1.6 has none)."""
    source = (kind_dir / "pkg/build/nodeimage/const_cni.go").read_text()
    # The raw string ends with a backtick alone at the start of a line; the one inline
    # backtick pair splices in the image name.
    manifest = source.split("const defaultCNIManifest = `", 1)[1].split("\n`", 1)[0]
    manifest = manifest.replace("` + kindnetdImage + `", config.images["kindnetd"])
    # kind fills in {{ .PodSubnet }} at cluster creation; keep it through the YAML round trip.
    placeholder = "LAB_POD_SUBNET_PLACEHOLDER"
    documents = [
        d for d in yaml.safe_load_all(manifest.replace("{{ .PodSubnet }}", placeholder)) if d
    ]
    for document in documents:
        if document.get("kind") != "DaemonSet":
            continue
        pod = document["spec"]["template"]["spec"]
        pod["volumes"] = [v for v in pod["volumes"] if v["name"] != "nri-plugin"]
        for container in pod["containers"]:
            mounts = container["volumeMounts"]
            container["volumeMounts"] = [m for m in mounts if m["name"] != "nri-plugin"]
    # kind templates and patches the manifest only when it carries these magic comments.
    header = "# would you kindly template this file\n# would you kindly patch this file\n"
    text = header + yaml.safe_dump_all(documents, sort_keys=False).replace(
        placeholder, "{{ .PodSubnet }}"
    )
    if "nri-plugin" in text or config.images["kindnetd"] not in text:
        raise StepFailed("kind's CNI manifest template changed; update the lab's node build")
    return text


def storage_manifest(config: LabConfig, kind_dir: Path) -> str:
    """kind's default storage manifest (rancher's local-path-provisioner as the default
    StorageClass ``standard``, WaitForFirstConsumer) with the lab's provisioner image and
    the toolbox as its helper image (the helper pods run the setup/teardown shell scripts).

    Without it kind falls back to an in-tree ``kubernetes.io/host-path`` class, which makes
    the claim's directory on the controller-manager's node only: a pod elsewhere fails with
    ``CreateContainerConfigError: stat /tmp/hostpath_pv/<uid>: no such file or directory``.
    """
    source = (kind_dir / "pkg/build/nodeimage/const_storage.go").read_text()
    manifest = source.split("const defaultStorageManifest = `", 1)[1].split("\n`", 1)[0]
    manifest = manifest.replace(
        "` + storageProvisionerImage + `", config.images["local_path_provisioner"]
    ).replace("` + storageHelperImage + `", config.images["toolbox"])
    documents = [d for d in yaml.safe_load_all(manifest) if d]
    classes = [d for d in documents if d.get("kind") == "StorageClass"]
    if (
        "`" in manifest
        or len(classes) != 1
        or classes[0].get("volumeBindingMode") != "WaitForFirstConsumer"
        or config.images["local_path_provisioner"] not in manifest
    ):
        raise StepFailed("kind's storage manifest template changed; update the lab's node build")
    return manifest.lstrip("\n")


NODE_BINARIES = ("kubeadm", "kubelet", "kubectl")
# The images kubeadm asks the runtime for; the node also carries kind's CNI image.
KUBEADM_IMAGES = (
    "kube_apiserver",
    "kube_controller_manager",
    "kube_scheduler",
    "kube_proxy",
    "etcd",
    "coredns",
    "pause",
)
COMPONENT_IMAGES = (*KUBEADM_IMAGES, "kindnetd", "local_path_provisioner")
# The lab's own application images, preloaded too: every node of a cluster has them from
# its first second, so a run loads nothing into a node whatever the number of workers.
APPLICATION_IMAGES = ("mysql_standin", "mysql_debian_standin", "xtrabackup_standin", "toolbox")
PRELOADED_IMAGES = (*COMPONENT_IMAGES, *APPLICATION_IMAGES)


def check_kubeadm_images(log: Log, config: LabConfig, kubeadm: Path) -> None:
    """The tags in lab.toml must be exactly those kubeadm will ask the runtime for."""
    listed = log.run(
        [
            kubeadm,
            "config",
            "images",
            "list",
            "--kubernetes-version",
            config.versions["kubernetes"],
        ],
        capture=True,
    ).split()
    ours = sorted(config.images[k] for k in KUBEADM_IMAGES)
    if sorted(listed) != ours:
        raise StepFailed(
            f"kubeadm expects {sorted(set(listed) - set(ours))} but lab.toml builds "
            f"{sorted(set(ours) - set(listed))}: fix [versions]/[images] in lab/lab.toml"
        )


def _docker(log: Log, *argv: str | Path, capture: bool = False) -> str:
    return log.run(["docker", *argv], capture=capture)


def node_step(
    config: LabConfig,
    base_key: str,
    kubernetes: GoProgram,
    kubernetes_key: str,
    image_keys: dict[str, str],
) -> Step:
    tag = config.node_image

    def action(log: Log, key: str) -> None:
        check_kubeadm_images(log, config, kubernetes.out_dir / "kubeadm")
        kind_dir = kind_module_dir()
        name = f"lab-node-build-{key}"
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        _docker(
            log,
            "run",
            "-d",
            "--name",
            name,
            "--privileged",
            "--entrypoint",
            "sleep",
            rootfs.base_tag("node-base", base_key),
            "infinity",
        )
        try:
            for binary in NODE_BINARIES:
                _docker(log, "cp", kubernetes.out_dir / binary, f"{name}:/usr/bin/{binary}")
            staging = cache_dir() / "node-staging"
            shutil.rmtree(staging, ignore_errors=True)
            (staging / "manifests").mkdir(parents=True)
            (staging / "version").write_text(config.versions["kubernetes"] + "\n")
            (staging / "manifests/default-cni.yaml").write_text(cni_manifest(config, kind_dir))
            (staging / "manifests/default-storage.yaml").write_text(
                storage_manifest(config, kind_dir)
            )
            _docker(log, "cp", staging / "version", f"{name}:/kind/version")
            _docker(log, "cp", staging / "manifests", f"{name}:/kind/manifests")
            # containerd in the build container only ingests content (no unpack, no mounts).
            _docker(
                log,
                "exec",
                "-d",
                name,
                "sh",
                "-c",
                "containerd >/var/log/containerd-build.log 2>&1",
            )
            answers = ["docker", "exec", name, "ctr", "version"]
            try:
                wait_for(
                    "containerd in the build container to answer `ctr version`",
                    lambda: Seen(
                        subprocess.run(answers, capture_output=True).returncode == 0, "no answer"
                    ),
                    timeout=60,
                )
            except WaitTimeout as exc:
                raise StepFailed(str(exc)) from None
            for image_key in PRELOADED_IMAGES:
                image = config.images[image_key]
                save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
                log.run(
                    [
                        "docker",
                        "exec",
                        "-i",
                        name,
                        "ctr",
                        "--namespace=k8s.io",
                        "images",
                        "import",
                        "--all-platforms",
                        "--no-unpack",
                        "--digests",
                        "-",
                    ],
                    stdin=save.stdout,
                )
                if save.wait() != 0:
                    raise StepFailed(f"docker save {image} failed")
            listed = _docker(
                log, "exec", name, "ctr", "--namespace=k8s.io", "images", "list", "-q", capture=True
            )
            missing = [
                config.images[k]
                for k in PRELOADED_IMAGES
                if _canonical(config.images[k]) not in listed
            ]
            if missing:
                raise StepFailed(f"images missing in the node's containerd after import: {missing}")
            _docker(log, "exec", name, "pkill", "containerd")
            committed = f"localhost/lab/node-build:{key}"
            _docker(log, "commit", name, committed)
            dockerfile = "\n".join(
                [f"FROM {committed}", *NODE_CONFIG, f"LABEL {docker.INPUTS_LABEL}={key}"]
            )
            log.run(
                ["docker", "build", "--pull=false", "-t", tag, "-"],
                input=dockerfile.encode(),
                env={"DOCKER_BUILDKIT": "0", "PATH": docker.DEFAULT_PATH},
            )
            docker.remove_images([committed])
        finally:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)

    return Step(
        name="node image",
        inputs=(tag, base_key, image_keys, kubernetes_key, config.versions, Path(__file__)),
        action=action,
        is_present=lambda key: docker.image_key(tag) == key,
    )


def _canonical(ref: str) -> str:
    """containerd lists docker.io images fully qualified; ours are already qualified."""
    return ref if "/" in ref.split(":")[0] else f"docker.io/library/{ref}"
