"""One writer at a time per dataset (an advisory lock the OS releases if we die).

Portable: ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows, each imported when a writer takes
the lock, so that importing this module (and starting the CLI) needs neither.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType

from trailforensics.errors import TrailforensicsError

# Windows locks are mandatory byte ranges: lock one byte far past the holder text so that a second
# writer can still read who holds the lock.
_WINDOWS_LOCK_OFFSET = 1 << 20


class DatasetLocked(TrailforensicsError, RuntimeError):
    pass


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on `fd` without waiting; False when another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


class WriteLock:
    def __init__(self, dataset: Path):
        self.path = dataset / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> WriteLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise DatasetLocked(
                f"dataset {self.path.parent} is locked by {holder}: "
                "another writer (ingest, verify -d, compact) is running"
            )
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None
