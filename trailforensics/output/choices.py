"""The output formats commands offer, by name: light enough for the CLI to declare its options with.

The renderers themselves (and Arrow) live in :mod:`.formats`, loaded only when a command writes rows.
"""

from __future__ import annotations

from trailforensics.output.sink import OutputError

FORMATS = ("table", "csv", "json", "jsonl", "parquet", "timesketch")


def check_format(fmt: str, formats: tuple[str, ...] = FORMATS) -> None:
    if fmt not in formats:
        raise OutputError(f"unknown format {fmt!r}: choose one of {', '.join(formats)}")
