"""The deployment files as data: the Kubernetes manifests of deploy/k8s, .env.example's
setting names, docker-compose.yml and the Dockerfile."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION = K8S / "kustomization.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_LINE = re.compile(r"^#? ?([A-Z][A-Z0-9_]+)=", re.MULTILINE)


def manifest_files() -> list[Path]:
    return sorted(path for path in K8S.glob("*.yaml") if path != KUSTOMIZATION)


def resources(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def all_resources() -> list[dict[str, Any]]:
    return [resource for path in manifest_files() for resource in resources(path)]


def resource(kind: str, name: str) -> dict[str, Any]:
    [found] = [r for r in all_resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


def env_example_names() -> set[str]:
    """Every setting .env.example shows, set or commented out."""
    return set(ENV_LINE.findall(ENV_EXAMPLE.read_text()))


def commented_out_keys(path: Path) -> set[str]:
    """Keys a manifest names in a comment (`# NAME:`): settings deliberately left unset."""
    return set(re.findall(r"^\s*# ([A-Z][A-Z0-9_]+):", path.read_text(), re.MULTILINE))


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # type: ignore[no-any-return]


def dockerfile_instructions(name: str) -> list[str]:
    """The arguments of each ``name`` instruction (continuation lines joined)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return re.findall(rf"^{name} (.+)$", text, re.MULTILINE)


def dockerfile_command(name: str) -> list[str]:
    """An exec-form instruction's array (ENTRYPOINT, CMD)."""
    [arguments] = dockerfile_instructions(name)
    return json.loads(arguments)  # type: ignore[no-any-return]
