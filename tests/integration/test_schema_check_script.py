"""``.ci/schema-check`` in a real git repository: schema.graphql against the previous commit's
and, on a branch, against the merge-base with main."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
V1 = "type Query { post: Post }\ntype Post { id: ID! title: String! }\n"
V2_BREAKING = "type Query { post: Post }\ntype Post { id: ID! }\n"
V3_ADDITION = "type Query { post: Post }\ntype Post { id: ID! body: String }\n"


class Repository:
    def __init__(self, path: Path) -> None:
        self.path = path
        (path / ".ci").mkdir()
        shutil.copy(ROOT / ".ci" / "schema-check", path / ".ci" / "schema-check")
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "ci@example.com")
        self.git("config", "user.name", "CI")

    def git(self, *arguments: str) -> None:
        subprocess.run(["git", *arguments], cwd=self.path, check=True, capture_output=True)

    def commit(self, schema: str, announcements: str | None = None) -> None:
        (self.path / "schema.graphql").write_text(schema)
        if announcements is not None:
            (self.path / "schema-changes.md").write_text(announcements)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "change")

    def check(self) -> subprocess.CompletedProcess[str]:
        environment = {
            **os.environ,
            "PYTHON": sys.executable,
            "PYTHONPATH": str(ROOT),
        }
        return subprocess.run(
            [str(self.path / ".ci" / "schema-check")],
            cwd=self.path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return Repository(tmp_path)


def test_a_first_commit_has_nothing_to_compare(repository: Repository) -> None:
    repository.commit(V1)
    result = repository.check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the previous commit does not exist, skipped" in result.stdout


def test_an_addition_passes(repository: Repository) -> None:
    repository.commit(V1)
    repository.commit(V1.replace("title: String!", "title: String! body: String"))
    result = repository.check()
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unannounced_breaking_commit_fails(repository: Repository) -> None:
    repository.commit(V1)
    repository.commit(V2_BREAKING)
    result = repository.check()
    assert result.returncode == 1
    assert "breaking (unannounced): Field Post.title was removed." in result.stdout


def test_the_same_commit_with_its_announcement_passes(repository: Repository) -> None:
    repository.commit(V1)
    repository.commit(V2_BREAKING, "- Field Post.title was removed.\n")
    result = repository.check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "breaking (announced): Field Post.title was removed." in result.stdout


def test_a_branch_is_checked_against_its_merge_base_too(repository: Repository) -> None:
    repository.commit(V1)
    repository.git("checkout", "-q", "-b", "feature")
    repository.commit(V2_BREAKING)
    repository.commit(V3_ADDITION)  # fine against the previous commit, not against main
    result = repository.check()
    assert result.returncode == 1
    assert "against the previous commit" in result.stdout
    assert "against the merge-base with main" in result.stdout
    assert "breaking (unannounced): Field Post.title was removed." in result.stdout
