"""One writer at a time per dataset (an advisory lock the OS releases if we die)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from trailforensics.errors import TrailforensicsError


class DatasetLocked(TrailforensicsError, RuntimeError):
    pass


class WriteLock:
    def __init__(self, dataset: Path):
        self.path = dataset / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> WriteLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise DatasetLocked(
                f"dataset {self.path.parent} is locked by {holder}: "
                "another writer (ingest, verify -d, compact) is running"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
