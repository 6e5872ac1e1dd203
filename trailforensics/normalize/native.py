"""The optional C module of the normaliser (``_native.c``), when it was built.

``TRAILFORENSICS_PURE_PYTHON=1`` turns it off (the Python twin does the same work, slower).
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from types import ModuleType


@cache
def native() -> ModuleType | None:
    if os.environ.get("TRAILFORENSICS_PURE_PYTHON") == "1":
        return None
    try:
        return importlib.import_module("trailforensics.normalize._native")
    except ImportError:
        return None
