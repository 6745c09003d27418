"""The layers contract (``[tool.importlinter]`` in pyproject.toml, docs/ARCHITECTURE.md
"Layers"): no import runs upward, whether at module level, inside a function or under
``TYPE_CHECKING``. ``make lint`` runs ``lint-imports``; these tests pin what it catches on a
copy of the code, and that no package of ours escapes it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# Programs that drive the application from outside: they may import any layer.
OUTSIDE_THE_LAYERS = frozenset({"tests", "bench"})


def importlinter_config() -> dict[str, Any]:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
        config: dict[str, Any] = tomllib.load(file)["tool"]["importlinter"]
    return config


def layered_packages() -> list[str]:
    return list(importlinter_config()["root_packages"])


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    # The working directory comes first on lint-imports' path: it reads the packages in `root`.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def code_copy(tmp_path: Path) -> Path:
    """The packages and pyproject.toml, copied: each test breaks the copy, not the tree."""
    for package in layered_packages():
        shutil.copytree(
            PROJECT_ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "static", "templates"),
        )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_code_keeps_the_layers() -> None:
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "added", "reported"),
    [
        pytest.param(
            "services/events.py",
            "import server.container\n",
            "services.events -> server.container",
            id="module-level",
        ),
        pytest.param(
            "services/emails.py",
            "if TYPE_CHECKING:\n    from server.container import Container\n",
            "services.emails -> server.container",
            id="under-TYPE_CHECKING",
        ),
        pytest.param(
            "core/settings.py",
            "from models.user import User\n",
            "core.settings -> models.user",
            id="core-imports-ours",
        ),
        pytest.param(
            "loaders/level.py",
            "def late() -> None:\n    from vocabulary.context import Context\n",
            "loaders.level -> vocabulary.context",
            id="in-a-function",
        ),
        pytest.param(
            "resolvers/auth.py",
            "from schema.types.auth import AuthPayload\n",
            "resolvers.auth -> schema.types.auth",
            id="resolvers-import-the-schema",
        ),
        pytest.param(
            "vocabulary/context.py",
            "if TYPE_CHECKING:\n    from resolvers.prefetch import Relation\n",
            "vocabulary.context -> resolvers.prefetch",
            id="vocabulary-imports-resolvers",
        ),
    ],
)
def test_an_upward_import_breaks_the_contract(
    code_copy: Path, module: str, added: str, reported: str
) -> None:
    with (code_copy / module).open("a") as file:
        file.write("\n" + added)
    result = lint_imports(code_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert reported in result.stdout


def test_every_package_of_ours_is_in_the_layers() -> None:
    """A top-level package left out would be an outside library to the linter, unchecked."""
    packages = {path.parent.name for path in PROJECT_ROOT.glob("*/__init__.py")}
    assert set(layered_packages()) == packages - OUTSIDE_THE_LAYERS
    in_layers = {
        name.strip()
        for contract in importlinter_config()["contracts"]
        if contract["type"] == "layers"
        for layer in contract["layers"]
        for name in re.split("[|:]", layer)
    }
    assert in_layers == set(layered_packages())
