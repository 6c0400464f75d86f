"""How the suite reaches MySQL, as the manifests say: the MySQL container and the port it
serves, each read Service's own port, the account the manifests' probes log in as, and the
root password with where it comes from (a Secret, a ConfigMap, a literal, or none)."""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from typing import Any

from mysqlsts.errors import InputError

Obj = dict[str, Any]

# The server's own default port, for a container that declares none.
MYSQL_DEFAULT_PORT = 3306
# The official mysql image creates this account for MYSQL_ROOT_PASSWORD; the manifests'
# probes name it (``-uroot``) where they name one.
IMAGE_ROOT_USER = "root"
_TRUE_VALUES = {"1", "true", "yes", "on"}


def decode_secret_value(secret: Obj, key: str) -> str | None:
    if key in (secret.get("stringData") or {}):
        return str(secret["stringData"][key])
    encoded = (secret.get("data") or {}).get(key)
    if encoded is None:
        return None
    try:
        return base64.b64decode(str(encoded), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InputError(
            f"Secret {secret['metadata']['name']} key {key}: not valid base64 text"
        ) from None


def find_object(objects: list[Obj], kind: str, name: str, namespace: str) -> Obj | None:
    for obj in objects:
        meta = obj["metadata"]
        if (
            obj["kind"] == kind
            and meta["name"] == name
            and meta.get("namespace", namespace) == namespace
        ):
            return obj
    return None


def root_password(container: Obj, objects: list[Obj], namespace: str) -> tuple[str, str]:
    """(password, where it comes from) for the container's MYSQL_* environment."""
    env = {e["name"]: e for e in container.get("env") or []}
    name = container["name"]
    if "MYSQL_ROOT_PASSWORD" in env:
        entry = env["MYSQL_ROOT_PASSWORD"]
        if "value" in entry:
            return str(entry["value"]), f"container {name} env MYSQL_ROOT_PASSWORD (literal)"
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        kind = "Secret"
        if ref is None:
            ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
            kind = "ConfigMap"
        if ref is None:
            raise InputError(
                f"container {name}: MYSQL_ROOT_PASSWORD comes from neither a value, a Secret "
                "nor a ConfigMap; the suite cannot learn the root password"
            )
        source = find_object(objects, kind, ref["name"], namespace)
        where = f"{kind} {namespace}/{ref['name']} key {ref['key']}"
        if source is None:
            raise InputError(
                f"MYSQL_ROOT_PASSWORD refers to {where}, which is not in the manifests"
            )
        if kind == "Secret":
            value = decode_secret_value(source, ref["key"])
        else:
            value = (source.get("data") or {}).get(ref["key"])
        if value is None:
            raise InputError(f"MYSQL_ROOT_PASSWORD refers to {where}, which has no such key")
        return value, where
    allow_empty = env.get("MYSQL_ALLOW_EMPTY_PASSWORD", {}).get("value")
    if allow_empty is not None and str(allow_empty).strip().lower() in _TRUE_VALUES | {"y"}:
        return "", f"container {name} env MYSQL_ALLOW_EMPTY_PASSWORD (empty password)"
    raise InputError(
        f"container {name} sets neither MYSQL_ROOT_PASSWORD nor MYSQL_ALLOW_EMPTY_PASSWORD; "
        "the suite cannot learn the root password"
    )


def mysql_container(containers: list[Obj]) -> tuple[Obj, int]:
    """The MySQL container and the port it serves: the container whose port is named
    ``mysql`` (the article's), else the one named ``mysql``, else the first; its port named
    ``mysql``, else its first declared port, else the server's default."""
    named = [(c, p) for c in containers for p in c.get("ports") or [] if p.get("name") == "mysql"]
    if named:
        container, port = named[0]
        return container, int(port["containerPort"])
    container = next((c for c in containers if c["name"] == "mysql"), containers[0])
    ports = container.get("ports") or []
    return container, int(ports[0]["containerPort"]) if ports else MYSQL_DEFAULT_PORT


_USER_OPTION = re.compile(r"^(?:-u(\S+)|--user=(\S+))$")


def _words(command: list[Any]) -> list[str]:
    """The words of an exec command, a shell script among them split as the shell would
    (roughly: enough to find an option); a script shlex cannot split counts as one word."""
    words: list[str] = []
    for arg in command:
        try:
            words += shlex.split(str(arg))
        except ValueError:
            words.append(str(arg))
    return words


def root_user(container: Obj) -> str:
    """The account the manifests' own probes log in as (``-uroot``, ``-u root``,
    ``--user=root``); the image's root account when no probe names one."""
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        command = ((container.get(probe) or {}).get("exec") or {}).get("command") or []
        words = _words(command)
        for i, word in enumerate(words):
            found = _USER_OPTION.match(word)
            if found:
                return found.group(1) or found.group(2)
            if word in ("-u", "--user") and i + 1 < len(words):
                return words[i + 1]
    return IMAGE_ROOT_USER


def service_port(service: Obj, container: Obj, container_port: int) -> int:
    """The port of ``service`` that leads to the MySQL container: the one whose targetPort
    names or numbers the container's port (or, without targetPort, is that port)."""
    names = {
        p.get("name")
        for p in container.get("ports") or []
        if p.get("containerPort") == container_port
    }
    ports = (service.get("spec") or {}).get("ports") or []
    for port in ports:
        target = port.get("targetPort", port.get("port"))
        if target == container_port or (isinstance(target, str) and target in names):
            return int(port["port"])
    return int(ports[0]["port"]) if ports else container_port
