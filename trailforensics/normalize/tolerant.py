"""The tolerant path: any JSON object becomes a row, and nothing is lost.

Used for records the fast path refuses (unknown keys, values of the wrong JSON type).
Each top-level value is looked at on its own: values of the documented type are kept as
they are; values that can be coerced with certainty (``"True"`` -> true, ``123`` ->
``"123"``, a JSON string holding an object -> the object) are coerced; and the original of
every value a column cannot reproduce goes to ``original_values``.  Unknown keys go to
``extra`` verbatim.  The result is again a ``FastRecord``, so one column builder serves
both paths.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Raw

from trailforensics.errors import TrailforensicsError
from trailforensics.normalize.fast import (
    ANY_DECODER,
    RAW_DICT_DECODER,
    DecodeError,
    FastRecord,
    Tls,
    ValidationError,
)
from trailforensics.schema import (
    STRING_BOOL_KEYS,
    TLS_KEYS,
    TOP_LEVEL_BOOL_KEYS,
    TOP_LEVEL_JSON_KEYS,
    TOP_LEVEL_STRING_KEYS,
)

_STRING_KEYS = frozenset([*TOP_LEVEL_STRING_KEYS, "eventTime"])
_BOOL_KEYS = frozenset(TOP_LEVEL_BOOL_KEYS)
_JSON_KEYS = frozenset(TOP_LEVEL_JSON_KEYS)
_encode = msgspec.json.encode
_NULL = b"null"
_TYPED_KEYS = frozenset([*_STRING_KEYS, *STRING_BOOL_KEYS, *_BOOL_KEYS, "tlsDetails"])


class RejectedRecord(TrailforensicsError, ValueError):
    """A ``Records`` element that is not a JSON object."""


class Tolerant:
    """Result of the tolerant path for one record."""

    __slots__ = ("extra", "nulls", "original", "record")

    def __init__(
        self,
        record: FastRecord,
        extra: dict[str, Raw] | None,
        original: dict[str, Raw] | None,
        nulls: list[str] | None = None,
    ):
        self.record = record
        self.extra = extra
        self.original = original
        self.nulls = nulls  # typed keys present with an explicit JSON null


def coerce_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low == "true":
            return True
        if low == "false":
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def json_text_of_string(value: str) -> Raw | None:
    """A JSON *string* that holds a JSON object or array: return the inner JSON text."""
    stripped = value.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        ANY_DECODER.decode(stripped)
    except (DecodeError, ValidationError):
        return None
    return Raw(stripped.encode("utf-8"))


class _Undecodable:
    """A value msgspec cannot represent (a number beyond float range): kept verbatim, never coerced."""


_UNDECODABLE: Any = _Undecodable()


def _value(raw: Raw) -> Any:
    try:
        return ANY_DECODER.decode(raw)
    except ValidationError:
        return _UNDECODABLE


def decode_tolerant(raw: bytes | Raw) -> Tolerant:
    try:
        fields = RAW_DICT_DECODER.decode(raw)
    except ValidationError as exc:
        raise RejectedRecord("a Records element is not a JSON object") from exc
    kwargs: dict[str, Any] = {}
    extra: dict[str, Raw] = {}
    original: dict[str, Raw] = {}
    nulls: list[str] = []
    for key, value_raw in fields.items():
        if key in _TYPED_KEYS and bytes(value_raw) == _NULL:
            nulls.append(key)  # the column is NULL; null_fields says the key was there
            continue
        if key in _STRING_KEYS:
            value = _value(value_raw)
            if value is None or isinstance(value, str):
                kwargs[key] = value
                continue
            original[key] = value_raw
            if key != "eventTime" and isinstance(value, (int, float)) and not isinstance(value, bool):
                kwargs[key] = str(value)
        elif key in STRING_BOOL_KEYS:
            value = _value(value_raw)
            if value is None or isinstance(value, str):
                kwargs[key] = value
                continue
            original[key] = value_raw
            coerced = coerce_bool(value)
            if coerced is not None:
                kwargs[key] = "true" if coerced else "false"
        elif key in _BOOL_KEYS:
            value = _value(value_raw)
            if value is None or isinstance(value, bool):
                kwargs[key] = value
                continue
            original[key] = value_raw
            coerced = coerce_bool(value)
            if coerced is not None:
                kwargs[key] = coerced
        elif key in _JSON_KEYS:
            value = _value(value_raw)
            inner = json_text_of_string(value) if isinstance(value, str) else None
            if inner is not None:
                original[key] = value_raw
                kwargs[key] = inner
            else:
                kwargs[key] = value_raw
        elif key == "tlsDetails":
            _tls(value_raw, kwargs, original)
        else:
            # Unknown keys, and known keys without a column, are kept verbatim.
            extra[key] = value_raw
    return Tolerant(FastRecord(**kwargs), extra or None, original or None, nulls or None)


def _tls(value_raw: Raw, kwargs: dict[str, Any], original: dict[str, Raw]) -> None:
    value = _value(value_raw)
    if value is None:
        kwargs["tlsDetails"] = None
        return
    if not isinstance(value, dict):
        original["tlsDetails"] = value_raw
        return
    parts = {k: v for k, v in value.items() if k in TLS_KEYS and isinstance(v, str)}
    if not parts or len(parts) != len(value):
        original["tlsDetails"] = value_raw  # the columns alone cannot rebuild it
    if parts:
        kwargs["tlsDetails"] = Tls(**parts)
