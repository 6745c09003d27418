"""The suite never writes into the working tree's data/: its mails, files and databases go
to a scratch directory (a developer's outbox and uploads stay theirs)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_settings
from tests.e2e.processes import server_env
from tests.scratch import PROJECT_ROOT, changes, snapshot


def outside_the_working_tree(location: str) -> bool:
    return not Path(location).resolve().is_relative_to(PROJECT_ROOT)


def test_test_settings_keep_mails_and_files_outside_the_working_tree() -> None:
    settings = make_settings()

    assert outside_the_working_tree(settings.mail_outbox_dir)
    assert outside_the_working_tree(settings.storage_local_dir)
    assert settings.sqlite_path() is None or outside_the_working_tree(str(settings.sqlite_path()))


def test_server_processes_keep_mails_and_files_outside_the_working_tree() -> None:
    env = server_env("sqlite://:memory:")

    assert outside_the_working_tree(env["MAIL_OUTBOX_DIR"])
    assert outside_the_working_tree(env["STORAGE_LOCAL_DIR"])


def test_the_guard_sees_a_created_a_changed_and_a_removed_file(tmp_path: Path) -> None:
    (tmp_path / "kept.txt").write_text("same")
    (tmp_path / "changed.txt").write_text("before")
    (tmp_path / "removed.txt").write_text("gone soon")
    before = snapshot(tmp_path)

    (tmp_path / "changed.txt").write_text("after, longer")
    (tmp_path / "removed.txt").unlink()
    (tmp_path / "outbox").mkdir()
    (tmp_path / "outbox" / "mail.json").write_text("{}")

    assert changes(before, snapshot(tmp_path)) == [
        "changed.txt",
        "outbox",
        "outbox/mail.json",
        "removed.txt",
    ]


def test_the_guard_sees_nothing_where_data_does_not_exist(tmp_path: Path) -> None:
    assert snapshot(tmp_path / "data") == {}
