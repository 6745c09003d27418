"""A PostgreSQL cluster of the test's own, to stop and restart at will: the machine's
shared server is never touched. ``initdb`` into a temporary directory, ``pg_ctl`` on a free
port of 127.0.0.1 (and a socket in that directory). initdb refuses to run as root, so
under root both run as the ``postgres`` system user, owner of the directory."""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

SYSTEM_USER = "postgres"
SERVER_OPTIONS = "-c fsync=off -c full_page_writes=off"  # a throwaway cluster


def server_binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` (Debian), else the one on PATH."""
    candidates = sorted(
        (Path(found).parent for found in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing_requirement() -> str | None:
    """Why this machine cannot run a private cluster, or None when it can."""
    binaries = server_binaries()
    if binaries is None or not (binaries / "pg_ctl").exists():
        return "needs the PostgreSQL server binaries (initdb, pg_ctl)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            return f"runs as root and initdb refuses root: needs a '{SYSTEM_USER}' system user"
        if shutil.which("runuser") is None:
            return "runs as root and needs runuser to run initdb as another user"
    return None


class PrivatePostgres:
    def __init__(self, port: int) -> None:
        binaries = server_binaries()
        assert binaries is not None, missing_requirement()
        self.binaries = binaries
        self.port = port
        # Not pytest's tmp_path: its parents are private to root, where initdb runs as
        # the postgres user.
        self.root = Path(tempfile.mkdtemp(prefix="agora-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"

    @property
    def url(self) -> str:
        return f"postgres://{SYSTEM_USER}@127.0.0.1:{self.port}/agora"

    async def _run(self, tool: str, *args: str) -> None:
        command = [str(self.binaries / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, errors = await process.communicate()
        assert process.returncode == 0, f"{tool} {args[0]}: {errors.decode()}"

    async def create(self) -> None:
        """initdb, start, and a database ``agora``."""
        if os.geteuid() == 0:
            account = pwd.getpwnam(SYSTEM_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        await self._run(
            "initdb", "-D", str(self.data), "-U", SYSTEM_USER, "-A", "trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip
        await self.start()
        await self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SYSTEM_USER, "agora"
        )

    async def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 {SERVER_OPTIONS}"
        await self._run(
            "pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.log), "-o", options
        )

    async def stop(self, mode: str = "fast") -> None:
        await self._run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", mode)

    async def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            await self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
