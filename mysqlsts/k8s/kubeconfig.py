"""An API client from a kubeconfig; a kubeconfig that cannot be used is an environment
problem, said in one line."""

from __future__ import annotations

from pathlib import Path

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from mysqlsts.errors import EnvironmentProblem


def load_api_client(kubeconfig: Path, *, retries: int | None = None) -> k8s.ApiClient:
    """An ApiClient for ``kubeconfig``; unreadable kubeconfigs are environment problems."""
    if not kubeconfig.is_file():
        raise EnvironmentProblem(f"kubeconfig {kubeconfig} does not exist")
    configuration = type.__call__(k8s.Configuration)
    try:
        k8s_config.load_kube_config(
            config_file=str(kubeconfig), client_configuration=configuration, persist_config=False
        )
    except (ConfigException, yaml.YAMLError, OSError, ValueError, TypeError) as error:
        raise EnvironmentProblem(
            f"kubeconfig {kubeconfig} is not usable: {str(error).splitlines()[0]}"
        ) from None
    if retries is not None:
        configuration.retries = retries
    return k8s.ApiClient(configuration)
