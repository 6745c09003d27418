"""deploy/k8s: every manifest is valid against the Kubernetes schemas (kubernetes-validate,
which bundles them: no network), strictly (an unknown field is an error); the pieces refer to
each other (selectors, ports, names); the containers run commands the CLI accepts; a pod is
given time to drain before SIGKILL; and every setting of .env.example is accounted for in the
ConfigMap or the Secret, which together make a valid production configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from core.settings import Settings, load_settings
from server.cli import build_parser
from server.websocket.registry import DRAIN_TIMEOUT_SECONDS
from tests.deploy_files import (
    K8S,
    KUSTOMIZATION,
    all_resources,
    commented_out_keys,
    env_example_names,
    manifest_files,
    resource,
    resources,
)

# The oldest Kubernetes still supported by the big providers' extended support, and the
# newest whose schemas the package bundles.
KUBERNETES_VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]
CONFIGMAP = K8S / "configmap.yaml"
SECRET = K8S / "secret.example.yaml"
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def pod_spec(kind: str, name: str) -> dict[str, Any]:
    return resource(kind, name)["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def container(kind: str, name: str) -> dict[str, Any]:
    [only] = pod_spec(kind, name)["containers"]
    return only  # type: ignore[no-any-return]


def option(args: list[str], name: str) -> str:
    [value] = [arg.split("=", 1)[1] for arg in args if arg.startswith(f"{name}=")]
    return value


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", manifest_files(), ids=lambda path: path.name)
def test_each_manifest_is_valid_against_the_kubernetes_schemas(path: Path, version: str) -> None:
    documents = resources(path)
    assert documents, f"{path.name} holds no resource"
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_validation_refuses_a_misspelt_field() -> None:
    """The check above has teeth: strict validation names an unknown field."""
    deployment = resource("Deployment", "agora-api")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["periodSecond"] = 5
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_kustomization_applies_everything_but_the_secret_example_and_the_migration_job():
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text())
    expected = {p.name for p in manifest_files()} - {SECRET.name, "migrate-job.yaml"}
    assert set(kustomization["resources"]) == expected
    [image] = kustomization["images"]
    assert container("Deployment", "agora-api")["image"] == image["name"]
    assert container("Deployment", "agora-worker")["image"] == image["name"]
    # The Job is applied on its own, before the kustomization: the same release by hand.
    assert container("Job", "agora-migrate")["image"] == f"{image['newName']}:{image['newTag']}"


def test_the_api_the_worker_and_the_migration_run_commands_the_cli_accepts() -> None:
    parser = build_parser()
    commands = {
        "api": container("Deployment", "agora-api")["args"],
        "worker": container("Deployment", "agora-worker")["args"],
        "migrate": container("Job", "agora-migrate")["args"],
    }
    for role, args in commands.items():
        parsed = parser.parse_args(args)
        assert parsed.command == {"api": "serve"}.get(role, role)


def test_an_api_pod_is_given_time_to_drain_before_it_is_killed() -> None:
    """preStop, then the websocket drain, then uvicorn's --graceful-timeout for in-flight
    requests, all within terminationGracePeriodSeconds (with margin for closing the pools)."""
    spec = pod_spec("Deployment", "agora-api")
    api = container("Deployment", "agora-api")
    graceful = build_parser().parse_args(api["args"]).graceful_timeout
    pre_stop = api["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    needed = int(pre_stop[1]) + DRAIN_TIMEOUT_SECONDS + graceful
    assert needed + 5 <= spec["terminationGracePeriodSeconds"] <= needed + 30


def test_the_probes_use_the_health_endpoints_and_the_named_port() -> None:
    api = container("Deployment", "agora-api")
    [port] = api["ports"]
    assert port["containerPort"] == int(option(api["args"], "--port"))
    probes = {name: api[name]["httpGet"] for name in ("startupProbe", "livenessProbe")}
    probes["readinessProbe"] = api["readinessProbe"]["httpGet"]
    assert probes["livenessProbe"]["path"] == "/health/live"
    assert probes["readinessProbe"]["path"].startswith("/health/ready")
    assert {probe["port"] for probe in probes.values()} == {port["name"]}


def test_the_service_hpa_and_pdb_select_the_api_pods() -> None:
    deployment = resource("Deployment", "agora-api")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    service = resource("Service", "agora-api")
    assert service["spec"]["selector"] == selector
    [service_port] = service["spec"]["ports"]
    assert service_port["targetPort"] == container("Deployment", "agora-api")["ports"][0]["name"]
    assert resource("PodDisruptionBudget", "agora-api")["spec"]["selector"]["matchLabels"] == (
        selector
    )
    target = resource("HorizontalPodAutoscaler", "agora-api")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "agora-api")
    assert "replicas" not in deployment["spec"]  # the HPA owns it


def test_every_pod_reads_the_configmap_and_the_secret_and_runs_as_the_image_user() -> None:
    names = {
        "ConfigMap": resource("ConfigMap", "agora-config")["metadata"]["name"],
        "Secret": resource("Secret", "agora-secrets")["metadata"]["name"],
    }
    for kind, name in [
        ("Deployment", "agora-api"),
        ("Deployment", "agora-worker"),
        ("Job", "agora-migrate"),
    ]:
        sources = container(kind, name)["envFrom"]
        assert {s["configMapRef"]["name"] for s in sources if "configMapRef" in s} == {
            names["ConfigMap"]
        }
        assert {s["secretRef"]["name"] for s in sources if "secretRef" in s} == {names["Secret"]}
        security = pod_spec(kind, name)["securityContext"]
        assert security["runAsNonRoot"] is True
        assert security["runAsUser"] == 10001  # the Dockerfile's USER


def test_every_setting_of_env_example_is_in_the_configmap_or_the_secret() -> None:
    config = set(resource("ConfigMap", "agora-config")["data"])
    secret = set(resource("Secret", "agora-secrets")["stringData"])
    unset = commented_out_keys(CONFIGMAP) | commented_out_keys(SECRET)
    missing = env_example_names() - config - secret - unset
    assert not missing, (
        f"add {sorted(missing)} to deploy/k8s/configmap.yaml (or secret.example.yaml if a "
        "secret), or as a `# NAME: reason` comment when it stays unset"
    )
    assert not config & secret


def test_every_key_of_the_configmap_and_the_secret_is_a_setting() -> None:
    config = set(resource("ConfigMap", "agora-config")["data"])
    secret = set(resource("Secret", "agora-secrets")["stringData"])
    unset = commented_out_keys(CONFIGMAP) | commented_out_keys(SECRET)
    assert (config | secret | unset) - SETTING_NAMES == set()


def test_the_configmap_with_a_filled_in_secret_is_a_valid_production_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    secret = {
        name: value.replace("CHANGE-ME", f"{name.lower()}-{'x' * 40}")
        for name, value in resource("Secret", "agora-secrets")["stringData"].items()
    }
    for name, value in {**resource("ConfigMap", "agora-config")["data"], **secret}.items():
        monkeypatch.setenv(name, value)

    settings = load_settings(_env_file=None)

    assert settings.is_production
    assert settings.storage_backend == "s3"  # shared by every replica
    assert settings.job_backend == "saq"  # run by the worker Deployment
    assert settings.jwt_previous_secrets == []


def test_no_resource_is_left_without_the_app_label() -> None:
    for found in all_resources():
        assert found["metadata"]["labels"]["app.kubernetes.io/name"] == "agora", found
