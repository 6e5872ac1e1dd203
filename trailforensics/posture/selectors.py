"""What a trail records, from its (basic or advanced) event selectors.

``Selection`` answers the questions responders ask: are read and write management events
logged, which event sources are excluded, which data events are logged and with which
read/write type.  ``None`` means the logs never showed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trailforensics.posture.common import as_bool, as_list, pick

DEFAULT_BASIC = (
    {
        "readWriteType": "All",
        "includeManagementEvents": True,
        "dataResources": [],
        "excludeManagementEventSources": [],
    },
)


@dataclass(frozen=True)
class DataSelection:
    resource_type: str  # AWS::S3::Object, AWS::Lambda::Function, ... or "*" for every type
    read: bool
    write: bool
    values: tuple[str, ...] = ()  # ARN prefixes; empty = all resources of the type
    selector: str = ""  # the advanced selector's name

    @property
    def rw(self) -> str:
        return "all" if self.read and self.write else "read-only" if self.read else "write-only"

    def text(self) -> str:
        out = f"{self.resource_type} {self.rw}"
        if self.selector:
            out += f" ({self.selector})"
        if self.values:
            out += ": " + ", ".join(self.values)
        return out


@dataclass(frozen=True)
class Selection:
    mgmt_read: bool | None
    mgmt_write: bool | None
    excluded_sources: tuple[str, ...] | None
    data: tuple[DataSelection, ...] | None

    @property
    def known(self) -> bool:
        return self.mgmt_read is not None

    def management_text(self) -> str:
        if self.mgmt_read is None:
            return "unknown"
        if self.mgmt_read and self.mgmt_write:
            return "all"
        if self.mgmt_read:
            return "read-only"
        if self.mgmt_write:
            return "write-only"
        return "none"

    def excluded_text(self) -> str:
        if self.excluded_sources is None:
            return "unknown"
        return ", ".join(self.excluded_sources) or "none"

    def data_text(self) -> str:
        if self.data is None:
            return "unknown"
        return "; ".join(d.text() for d in self.data) or "none"

    def data_for(self, resource_type: str) -> DataSelection | None:
        """The widest data selection covering a resource type (read or write)."""
        if not self.data:
            return None
        hits = [d for d in self.data if d.resource_type in (resource_type, "*")]
        if not hits:
            return None
        return DataSelection(
            resource_type,
            any(d.read for d in hits),
            any(d.write for d in hits),
            tuple(v for d in hits for v in d.values) if all(d.values for d in hits) else (),
        )


UNKNOWN_SELECTION = Selection(None, None, None, None)


def _rw(value: Any) -> tuple[bool, bool]:
    text = str(value or "All").lower()
    if text == "readonly":
        return True, False
    if text == "writeonly":
        return False, True
    return True, True


def normalise_basic(selectors: Any) -> list[dict[str, Any]]:
    out = []
    for sel in as_list(selectors):
        if not isinstance(sel, dict):
            continue
        include = as_bool(pick(sel, "includeManagementEvents"))
        out.append(
            {
                "readWriteType": str(pick(sel, "readWriteType") or "All"),
                "includeManagementEvents": True if include is None else include,
                "dataResources": [
                    {
                        "type": str(pick(d, "type") or ""),
                        "values": [str(v) for v in as_list(pick(d, "values"))],
                    }
                    for d in as_list(pick(sel, "dataResources"))
                    if isinstance(d, dict)
                ],
                "excludeManagementEventSources": [str(s) for s in as_list(pick(sel, "excludeManagementEventSources"))],
            }
        )
    return out


def normalise_advanced(selectors: Any) -> list[dict[str, Any]]:
    out = []
    for sel in as_list(selectors):
        if not isinstance(sel, dict):
            continue
        fields = []
        for fs in as_list(pick(sel, "fieldSelectors")):
            if not isinstance(fs, dict):
                continue
            entry: dict[str, Any] = {"field": str(pick(fs, "field") or "")}
            for op in ("equals", "startsWith", "endsWith", "notEquals", "notStartsWith", "notEndsWith"):
                values = pick(fs, op)
                if values is not None:
                    entry[op] = [str(v) for v in as_list(values)]
            fields.append(entry)
        out.append({"name": str(pick(sel, "name") or ""), "fieldSelectors": fields})
    return out


def basic_text(selectors: list[dict[str, Any]]) -> str:
    parts = []
    for sel in selectors:
        bits = [sel["readWriteType"], "management" if sel["includeManagementEvents"] else "no management"]
        if sel["excludeManagementEventSources"]:
            bits.append("excluding " + ", ".join(sel["excludeManagementEventSources"]))
        for d in sel["dataResources"]:
            bits.append(f"data {d['type']}" + (f" [{', '.join(d['values'])}]" if d["values"] else ""))
        parts.append(" ".join(bits[:2]) + (": " + "; ".join(bits[2:]) if bits[2:] else ""))
    return " | ".join(parts) or "none"


def advanced_text(selectors: list[dict[str, Any]]) -> str:
    parts = []
    for sel in selectors:
        conds = []
        for fs in sel["fieldSelectors"]:
            for op, values in fs.items():
                if op == "field":
                    continue
                sym = {
                    "equals": "=",
                    "notEquals": "!=",
                    "startsWith": "^=",
                    "notStartsWith": "!^=",
                    "endsWith": "$=",
                    "notEndsWith": "!$=",
                }[op]
                conds.append(f"{fs['field']}{sym}{','.join(values)}")
        parts.append(f"{sel['name'] or '(unnamed)'}: " + " ".join(conds))
    return " | ".join(parts) or "none"


def from_basic(selectors: list[dict[str, Any]]) -> Selection:
    read = write = False
    excluded: set[str] | None = None
    data: list[DataSelection] = []
    for sel in selectors:
        r, w = _rw(sel["readWriteType"])
        if sel["includeManagementEvents"]:
            read, write = read or r, write or w
            srcs = set(sel["excludeManagementEventSources"])
            excluded = srcs if excluded is None else excluded & srcs  # excluded only if every selector does
        for d in sel["dataResources"]:
            values = tuple(v for v in d["values"] if v not in ("arn:aws:s3", "arn:aws:s3:::", "arn:aws:lambda"))
            data.append(DataSelection(d["type"] or "*", r, w, values))
    return Selection(read, write, tuple(sorted(excluded or ())), tuple(data))


def _field(sel: dict[str, Any], name: str, op: str) -> list[str] | None:
    for fs in sel["fieldSelectors"]:
        if fs["field"] == name and op in fs:
            return list(fs[op])
    return None


def from_advanced(selectors: list[dict[str, Any]]) -> Selection:
    read = write = False
    excluded: set[str] | None = None
    data: list[DataSelection] = []
    for sel in selectors:
        categories = _field(sel, "eventCategory", "equals") or []
        ro = _field(sel, "readOnly", "equals")
        r, w = (True, True) if not ro or len(set(ro)) > 1 else (ro[0].lower() == "true", ro[0].lower() == "false")
        if "Management" in categories:
            read, write = read or r, write or w
            srcs = set(_field(sel, "eventSource", "notEquals") or [])
            excluded = srcs if excluded is None else excluded & srcs
        if "Data" in categories:
            types = _field(sel, "resources.type", "equals") or ["*"]
            values = tuple(
                (_field(sel, "resources.ARN", "startsWith") or []) + (_field(sel, "resources.ARN", "equals") or [])
            )
            data.extend(DataSelection(t, r, w, values, sel["name"]) for t in types)
    return Selection(read, write, tuple(sorted(excluded or ())), tuple(data))
