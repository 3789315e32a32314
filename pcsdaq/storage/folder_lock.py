"""One run at a time per data folder: an advisory lock the running process holds.

``pcsdaq run`` takes :class:`DataFolderLock` on ``DATA/pcsdaq-run.lock`` before it touches
the instruments. The lock is an ``flock`` on that file, which the kernel drops when the
holding process ends in any way (kill -9 included), so a lock left by a killed run is simply
taken over; the file's text (pid, host, plan, start time) only serves the message that
refuses a second run while the first one lives.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path
from typing import Self

from pcsdaq.errors import PcsdaqError
from pcsdaq.storage import layout as L


class DataFolderError(PcsdaqError):
    """The data folder cannot be used: in use by another run, read-only, or not a folder."""


class DataFolderLock:
    """Exclusive use of a data folder by this process (see the module docstring).

    :meth:`acquire` raises :class:`DataFolderError` (one line) when another live process
    holds it or the folder cannot be written; ``previous`` is the holder a killed run left
    in the file (None if none). Use as a context manager or call :meth:`release`."""

    NAME = "pcsdaq-run.lock"

    def __init__(self, folder: str | os.PathLike, plan: str = "") -> None:
        self.folder = Path(folder)
        self.path = self.folder / self.NAME
        self.plan = plan
        self.previous: dict | None = None
        self._fd: int | None = None

    def _holder(self, fd: int) -> dict:
        try:
            text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            info = json.loads(text) if text.strip() else {}
            return info if isinstance(info, dict) else {}
        except (OSError, ValueError):
            return {}

    def acquire(self) -> Self:
        """Take the folder; DataFolderError if it is in use or cannot be written."""
        if self.folder.exists() and not self.folder.is_dir():
            raise DataFolderError(f"data folder {self.folder} is a file, not a folder")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DataFolderError(f"cannot use the data folder: "
                                  f"{L.os_reason(exc, self.folder)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info = self._holder(fd)
            os.close(fd)
            who = ", ".join(f"{k} {info[k]}" for k in ("pid", "host", "plan", "since")
                            if info.get(k))
            raise DataFolderError(
                f"data folder {self.folder} is in use by a run in progress ({who or 'another'}"
                " process); wait for it to end or choose another folder with --data") from None
        info = self._holder(fd)
        self.previous = info or None
        record = {"pid": os.getpid(), "host": socket.gethostname(), "plan": self.plan,
                  "since": L.utc_now_iso()}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise DataFolderError(f"cannot use the data folder: "
                                  f"{L.os_reason(exc, self.folder)}") from None
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the folder back (the file stays; an unlocked file means a free folder)."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
