"""Names from the file system or an archive, as text that can be stored and printed.

POSIX file names are bytes; Python hands undecodable ones over with surrogate escapes
(``'caf\\udce9'``), which UTF-8 (Parquet, JSON, the terminal) cannot encode.  Such a
name is kept readable and unambiguous as ``caf\\xe9``; the original still opens the file.
"""

from __future__ import annotations


def utf8_text(name: str) -> str:
    """``name`` unchanged when it is valid Unicode; otherwise undecodable bytes as ``\\xNN``."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
