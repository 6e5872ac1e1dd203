"""Print the declared minimum of every runtime dependency (and the sigma extra) as ``name==version``.

Used by ``.ci/run`` to install exactly the floors pyproject.toml declares and smoke-test them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

FLOOR = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)")


def pins(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    out = []
    for spec in [*project["dependencies"], *project["optional-dependencies"].get("sigma", [])]:
        match = FLOOR.match(spec)
        if not match:
            raise SystemExit(f"no >= floor in dependency {spec!r}: every dependency needs one")
        out.append(f"{match.group(1)}=={match.group(2)}")
    return out


if __name__ == "__main__":
    print("\n".join(pins(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml"))))
