"""The breaking-change check (``python -m server schema-diff``): a breaking change fails it
unless schema-changes.md announces it or the old schema deprecated what was removed;
additions and dangerous changes never fail it."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import main
from server.schema_diff import diff

OLD = """
type Query {
  post(id: ID!): Post
  legacy: String @deprecated(reason: "Use post")
}

type Post {
  id: ID!
  title: String!
  status: Status!
}

enum Status { DRAFT PUBLISHED OLD @deprecated(reason: "gone soon") }
"""


def changed(old: str, new: str) -> str:
    assert old in OLD
    return OLD.replace(old, new)


def test_the_same_schema_has_no_changes() -> None:
    result = diff(OLD, OLD)
    assert result.ok
    assert result.breaking == []
    assert result.dangerous == []


def test_an_added_field_and_type_are_not_breaking() -> None:
    new = (
        changed("  title: String!\n", "  title: String!\n  body: String\n")
        + "type Extra { id: ID! }"
    )
    result = diff(OLD, new)
    assert result.ok
    assert result.breaking == []


def test_a_removed_field_is_an_unannounced_breaking_change() -> None:
    result = diff(OLD, changed("  title: String!\n", ""))
    assert not result.ok
    [change] = result.unannounced
    assert change.description == "Field Post.title was removed."
    assert result.report()[0] == "breaking (unannounced): Field Post.title was removed."


def test_a_changed_argument_type_is_breaking() -> None:
    result = diff(OLD, changed("post(id: ID!)", "post(id: Int!)"))
    assert [change.description for change in result.unannounced] == [
        "Argument Query.post(id:) has changed type from ID! to Int!."
    ]


def test_a_breaking_change_announced_in_the_file_passes() -> None:
    announcements = "## 2026-12\n- Field Post.title was removed.\n  Use `name` instead.\n"
    result = diff(OLD, changed("  title: String!\n", ""), announcements)
    assert result.ok
    assert len(result.breaking) == 1
    assert result.report() == ["breaking (announced): Field Post.title was removed."]


def test_an_announcement_of_another_change_does_not_cover_this_one() -> None:
    result = diff(OLD, changed("  title: String!\n", ""), "- Field Post.body was removed.\n")
    assert not result.ok


def test_removing_a_deprecated_field_is_announced_by_its_deprecation() -> None:
    result = diff(OLD, changed('  legacy: String @deprecated(reason: "Use post")\n', ""))
    assert result.ok
    assert [change.description for change in result.breaking] == ["Field Query.legacy was removed."]


def test_removing_a_deprecated_enum_value_is_announced_by_its_deprecation() -> None:
    result = diff(OLD, changed(' OLD @deprecated(reason: "gone soon")', ""))
    assert result.ok
    assert len(result.breaking) == 1


def test_removing_an_enum_value_that_was_not_deprecated_is_unannounced() -> None:
    result = diff(OLD, changed(" PUBLISHED", ""))
    assert not result.ok


def test_a_dangerous_change_is_reported_and_passes() -> None:
    result = diff(OLD, changed("DRAFT PUBLISHED", "DRAFT PUBLISHED ARCHIVED"))
    assert result.ok
    assert result.report() == ["dangerous: Enum value Status.ARCHIVED was added."]


# --- the command --------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "old.graphql").write_text(OLD)
    return tmp_path


def run(files: Path, new: str, announcements: str | None = None) -> int:
    (files / "new.graphql").write_text(new)
    arguments = [
        "schema-diff",
        str(files / "old.graphql"),
        str(files / "new.graphql"),
        "--announcements",
        str(files / "schema-changes.md"),
    ]
    if announcements is not None:
        (files / "schema-changes.md").write_text(announcements)
    return main(arguments)


def test_the_command_exits_0_without_breaking_changes(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(files, OLD + "type Extra { id: ID! }") == 0
    assert "no unannounced breaking change" in capsys.readouterr().out


def test_the_command_exits_1_on_an_unannounced_breaking_change(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(files, changed("  title: String!\n", "")) == 1
    out = capsys.readouterr().out
    assert "breaking (unannounced): Field Post.title was removed." in out
    assert "schema-changes.md" in out


def test_the_command_exits_0_once_the_change_is_announced(files: Path) -> None:
    assert run(files, changed("  title: String!\n", ""), "- Field Post.title was removed.\n") == 0


def test_the_command_exits_2_on_an_sdl_that_does_not_build(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(files, "type Query { post: Missing }") == 2
    assert "new schema" in capsys.readouterr().err


def test_the_command_exits_2_on_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema-diff", str(tmp_path / "none.graphql"), str(tmp_path / "x")]) == 2
    assert "schema-diff:" in capsys.readouterr().err
