from __future__ import annotations

import article
import pytest

from mysqlsts.errors import InputError, NotDeclared
from mysqlsts.manifests.model import discover
from mysqlsts.redaction import redact, register_secret


def test_discovers_the_article() -> None:
    d = discover(article.objects())
    assert (d.namespace, d.statefulset, d.replicas) == ("mysql", "mysql", 2)
    assert (d.headless_service, d.read_services, d.read_service) == (
        "mysql",
        ("mysql-read",),
        "mysql-read",
    )
    assert d.storage_class == "local-storage" and d.claim_templates == ("data",)
    assert [(pv.name, pv.path, pv.capacity) for pv in d.pvs] == [
        ("example-mysql-pv", "/data/svr/projects/mysql", "15Gi"),
        ("example-mysql-pv-2", "/data/svr/projects/mysql2", "15Gi"),
        ("example-mysql-pv-3", "/data/svr/projects/mysql3", "15Gi"),
    ]
    assert d.containers == ("mysql", "xtrabackup") and d.init_containers == (
        "init-mysql",
        "clone-mysql",
    )
    assert d.images == ("mysql:5.7", "gcr.io/google-samples/xtrabackup:1.0")
    assert (d.mysql_container, d.mysql_image, d.mysql_port) == ("mysql", "mysql:5.7", 3306)
    assert (
        d.root_password == "123456"
        and d.password_source == "Secret mysql/mysql-secret key password"
    )
    assert d.label_selector == "app=mysql"


def test_pod_names_and_dns() -> None:
    d = discover(article.objects())
    assert d.pod_names() == ["mysql-0", "mysql-1"] and d.pod_names(3)[-1] == "mysql-2"
    assert d.master_pod == "mysql-0" and d.replica_pods(3) == ["mysql-1", "mysql-2"]
    assert d.pod_host(1) == "mysql-1.mysql"
    assert d.pod_fqdn(0) == "mysql-0.mysql.mysql.svc.cluster.local"
    assert d.pvc_name(2) == "data-mysql-2"
    assert d.ordinal_of("mysql-2") == 2
    with pytest.raises(ValueError):
        d.ordinal_of("other-1")


def test_discovery_registers_nothing_and_hides_the_password_from_repr() -> None:
    d = discover(article.objects())
    assert d.root_password == "123456"
    assert redact("mysql -uroot -p123456") == "mysql -uroot -p123456"  # explicit, elsewhere
    assert "123456" not in repr(d)


def test_a_registered_password_is_masked_in_both_forms() -> None:
    register_secret(discover(article.objects()).root_password)
    assert redact("mysql -uroot -p123456") == "mysql -uroot -p***"
    assert redact("MTIzNDU2") == "***"  # the base64 form, as in the Secret


def test_the_pod_template_and_the_masters_names() -> None:
    d = discover(article.objects())
    assert d.mysql_container_spec["name"] == "mysql"
    assert [c["name"] for c in d.pod_spec["initContainers"]] == ["init-mysql", "clone-mysql"]
    assert d.master_host_names() == {
        "mysql-0",
        "mysql-0.mysql",
        "mysql-0.mysql.mysql",
        "mysql-0.mysql.mysql.svc",
        "mysql-0.mysql.mysql.svc.cluster.local",
    }


def test_follows_other_names() -> None:
    objs = article.objects()
    for obj in objs:
        if obj["metadata"].get("namespace") == "mysql":
            obj["metadata"]["namespace"] = "db"
    sts = article.statefulset(objs)
    sts["metadata"]["name"] = "maria"
    sts["spec"]["replicas"] = 3
    d = discover(objs)
    assert (d.namespace, d.statefulset, d.replicas, d.master_pod) == ("db", "maria", 3, "maria-0")


def test_ports_and_user_come_from_the_manifests() -> None:
    d = discover(article.objects())
    assert (d.mysql_port, d.port_of("mysql-read"), d.port_of("mysql-0.mysql")) == (3306, 3306, 3306)
    assert d.root_user == "root"  # no probe names a user: the image's account
    objs = article.objects()
    mysql = article.statefulset(objs)["spec"]["template"]["spec"]["containers"][0]
    mysql["ports"] = [{"name": "mysql", "containerPort": 3307}]
    mysql["livenessProbe"] = {"exec": {"command": ["mysqladmin", "ping", "-udba", "-p${P}"]}}
    read = next(o for o in objs if o["metadata"]["name"] == "mysql-read")
    read["spec"]["ports"] = [{"name": "mysql", "port": 6033, "targetPort": "mysql"}]
    d = discover(objs)
    assert (d.mysql_port, d.port_of("mysql-read"), d.port_of("mysql-1.mysql")) == (3307, 6033, 3307)
    assert d.root_user == "dba"
    mysql["livenessProbe"] = {"exec": {"command": ["sh", "-c", "mysql --user=ops -e 'SELECT 1'"]}}
    assert discover(objs).root_user == "ops"


def test_without_probes_or_ports_the_images_defaults_hold() -> None:
    objs = article.objects()
    mysql = article.statefulset(objs)["spec"]["template"]["spec"]["containers"][0]
    for key in ("ports", "readinessProbe", "livenessProbe"):
        mysql.pop(key, None)
    d = discover(objs)
    assert (d.mysql_port, d.root_user) == (3306, "root")


def test_empty_password_allowed() -> None:
    objs = article.objects()
    mysql = article.statefulset(objs)["spec"]["template"]["spec"]["containers"][0]
    mysql["env"] = [{"name": "MYSQL_ALLOW_EMPTY_PASSWORD", "value": "1"}]
    d = discover(objs)
    assert d.root_password == "" and "MYSQL_ALLOW_EMPTY_PASSWORD" in d.password_source


def test_literal_password_and_string_data() -> None:
    objs = article.objects()
    mysql = article.statefulset(objs)["spec"]["template"]["spec"]["containers"][0]
    mysql["env"] = [{"name": "MYSQL_ROOT_PASSWORD", "value": "lit"}]
    assert discover(objs).root_password == "lit"
    objs = article.objects()
    secret = next(o for o in objs if o["kind"] == "Secret")
    secret.pop("data")
    secret["stringData"] = {"password": "plain"}
    assert discover(objs).root_password == "plain"


def _mutate(change: str) -> list[dict]:
    objs = article.objects()
    sts = article.statefulset(objs)
    containers = sts["spec"]["template"]["spec"]["containers"]
    if change == "no-namespace":
        del sts["metadata"]["namespace"]
    elif change == "no-password":
        containers[0]["env"] = []
    elif change == "secret-missing":
        objs = [o for o in objs if o["kind"] != "Secret"]
    elif change == "key-missing":
        next(o for o in objs if o["kind"] == "Secret")["data"] = {}
    elif change == "bad-base64":
        next(o for o in objs if o["kind"] == "Secret")["data"] = {"password": "%%%"}
    elif change == "no-headless":
        objs = [
            o for o in objs if not (o["kind"] == "Service" and o["metadata"]["name"] == "mysql")
        ]
    elif change == "not-headless":
        next(o for o in objs if o["kind"] == "Service")["spec"].pop("clusterIP")
    return objs


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no-namespace", "has no metadata.namespace"),
        ("no-password", "sets neither MYSQL_ROOT_PASSWORD nor MYSQL_ALLOW_EMPTY_PASSWORD"),
        ("secret-missing", "Secret mysql/mysql-secret key password, which is not in the manifests"),
        ("key-missing", "which has no such key"),
        ("bad-base64", "not valid base64"),
        ("no-headless", r"Service mysql \(spec.serviceName of StatefulSet mysql\) is not in"),
        ("not-headless", "must be headless"),
    ],
)
def test_unusable_manifests(change: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        discover(_mutate(change))


def test_a_read_service_narrowed_to_one_pod_is_still_found() -> None:
    objs = article.objects()
    read = next(o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == "mysql-read")
    read["spec"]["selector"] = {"statefulset.kubernetes.io/pod-name": "mysql-0"}
    assert discover(objs).read_services == ("mysql-read",)


def test_missing_parts_fail_a_check_in_one_line() -> None:
    objs = [
        o
        for o in article.objects()
        if not (o["kind"] == "Service" and o["metadata"]["name"] == "mysql-read")
    ]
    article.statefulset(objs)["spec"]["volumeClaimTemplates"] = []
    d = discover(objs)
    with pytest.raises(NotDeclared, match="no read Service"):
        d.read_service  # noqa: B018
    with pytest.raises(NotDeclared, match="no volumeClaimTemplates"):
        d.pvc_name(0)


def test_config_files_are_every_configmap_key() -> None:
    files = discover(article.objects()).config_files()
    assert set(files) == {"mysql/master.cnf", "mysql/slave.cnf"}
    assert "super-read-only" in files["mysql/slave.cnf"]
