"""Lone UTF-16 surrogate escapes (``"\\ud800"``): valid JSON syntax, but no text can hold them.

msgspec (rightly) refuses them.  Rather than lose a whole file to one such escape, we
replace each lone surrogate escape by ``\\ufffd`` (the replacement character) and report
how many were replaced; surrogate *pairs* (emoji) are untouched.
"""

from __future__ import annotations

import re

_ESCAPE_RE = re.compile(rb"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")


def replace_lone_surrogates(data: bytes) -> tuple[bytes, int]:
    out: list[bytes] = []
    last = 0
    count = 0
    matches = list(_ESCAPE_RE.finditer(data))
    for idx, m in enumerate(matches):
        if len(m.group(1)) % 2 == 0:
            continue  # an escaped backslash followed by a literal "u..."
        high = m.group(2)[1:2].lower() in b"89ab"
        if high:
            nxt = matches[idx + 1] if idx + 1 < len(matches) else None
            paired = (
                nxt is not None
                and nxt.start() == m.end()
                and len(nxt.group(1)) == 1
                and nxt.group(2)[1:2].lower() in b"cdef"
            )
        else:
            prev = matches[idx - 1] if idx else None
            paired = (
                prev is not None
                and prev.end() == m.start()
                and len(prev.group(1)) % 2 == 1
                and prev.group(2)[1:2].lower() in b"89ab"
            )
        if paired:
            continue
        start = m.start() + len(m.group(1)) - 1  # keep any escaped backslashes before it
        out.append(data[last:start])
        out.append(b"\\ufffd")
        last = m.end()
        count += 1
    if not count:
        return data, 0
    out.append(data[last:])
    return b"".join(out), count
