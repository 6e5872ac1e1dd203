"""An ingest worker keeps the memory it freed up to a share of the memory setting, and hands back the rest."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from trailforensics.engine.resources import ENV_MEMORY_LIMIT
from trailforensics.ingest import worker


@pytest.mark.parametrize(
    ("setting", "retained"),
    [("512MiB", worker.RETAIN_MIN), ("3GiB", 256 << 20), ("64GiB", worker.RETAIN_MAX)],
)
def test_the_share_follows_the_memory_setting_within_bounds(
    setting: str, retained: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_MEMORY_LIMIT, setting)
    assert worker.retain_bytes() == retained


class _Libc:
    def __init__(self) -> None:
        self.trims = 0

    def malloc_trim(self, pad: int) -> int:
        assert pad == 0
        self.trims += 1
        return 1


@pytest.mark.parametrize(("rss", "trims"), [(100 << 20, 0), (300 << 20, 1), (None, 1)])
def test_trims_only_above_the_share_or_when_it_cannot_tell(
    rss: int | None, trims: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    libc = _Libc()
    monkeypatch.setattr(ctypes, "CDLL", lambda *_a, **_k: libc)
    monkeypatch.setattr(worker, "_rss", lambda: rss)
    release = worker._malloc_trim(200 << 20)
    release()
    assert libc.trims == trims


def test_the_resident_set_is_read_from_proc() -> None:
    rss: Any = worker._rss()
    assert rss is None or 10 << 20 < rss < 8 << 30
