"""The output formats commands offer, by name: light enough for the CLI to declare its options with.

The renderers themselves (and Arrow) live in :mod:`.formats`, loaded only when a command writes rows.
"""

from __future__ import annotations

from pathlib import PurePath

from trailforensics.output.sink import OutputError

FORMATS = ("table", "csv", "json", "jsonl", "parquet", "timesketch")


def check_format(fmt: str, formats: tuple[str, ...] = FORMATS) -> None:
    if fmt not in formats:
        raise OutputError(f"unknown format {fmt!r}: choose one of {', '.join(formats)}")


# A file's extension names its format (as DuckDB's COPY reads it); the first format listed is inferred.
EXTENSION_FORMATS: dict[str, tuple[str, ...]] = {
    ".csv": ("csv",),
    ".json": ("json", "jsonl", "timesketch"),
    ".jsonl": ("jsonl", "timesketch"),
    ".ndjson": ("jsonl", "timesketch"),
    ".parquet": ("parquet",),
    ".pq": ("parquet",),
    ".txt": ("table",),
}


def format_for(fmt: str | None, out: str | None, default: str = "table", formats: tuple[str, ...] = FORMATS) -> str:
    """The format to write: `fmt` when given, else the one `out`'s extension names, else `default`.

    A format the file name contradicts (``-f table -o t.csv``) is an error, not a surprise in the file.
    """
    suffix = PurePath(out).suffix.lower() if out is not None else ""
    named = tuple(f for f in EXTENSION_FORMATS.get(suffix, ()) if f in formats)
    if fmt is None:
        return named[0] if named else default
    check_format(fmt, formats)
    if named and fmt not in named:
        contradiction = OutputError(
            f"-f {fmt} contradicts the output file name {out} ({suffix} is {' or '.join(named)}): "
            "drop -f, or name the file for the format"
        )
        contradiction.exit_code = 2  # a usage error
        raise contradiction
    return fmt
