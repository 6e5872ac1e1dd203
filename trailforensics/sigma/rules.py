"""Loading Sigma rule files and compiling them (pySigma parse -> CloudTrail pipeline -> SQL)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaTransformationError
from sigma.rule import SigmaDetection, SigmaDetectionItem
from sigma.rule import SigmaRule as PySigmaRule
from sigma.types import SigmaFieldReference, SigmaString

from trailforensics.sigma.backend import CloudTrailSQLBackend, SigmaCompileError
from trailforensics.sigma.pipeline import UNKNOWN_FIELD_MESSAGE, cloudtrail_pipeline, is_known_field

RULE_SUFFIXES = (".yml", ".yaml")

# Sigma ATT&CK tags: attack.t1098.001 (technique), attack.ta0003 (tactic id), attack.g0016 / attack.s0002.
_ATTACK_TAG = re.compile(r"^attack\.((?:t\d{4}(?:\.\d{3})?)|(?:ta\d{4})|(?:[gs]\d{4}))$", re.IGNORECASE)


@dataclass
class SigmaRule:
    """A compiled Sigma rule.

    ``sql`` is a boolean DuckDB expression over the ``events`` view (the WHERE condition);
    ``query`` is a full SELECT.  ``source`` is the parsed pySigma rule *before* our pipeline
    ran (original field names).  ``warnings`` flags known rule-quality problems (a literal
    that looks like a field name, a template placeholder, an ARN compared with a user name).
    """

    id: str
    title: str
    level: str
    author: str
    sql: str
    path: Path | None = None
    status: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    attack: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    falsepositives: list[str] = field(default_factory=list)
    license: str = ""
    warnings: list[str] = field(default_factory=list)
    source: Any = field(default=None, repr=False, compare=False)

    @property
    def query(self) -> str:
        return f"SELECT * FROM events WHERE {self.sql}"


def attack_ids(tags: Iterable[str]) -> list[str]:
    """ATT&CK ids (T1234, T1234.001, TA0005, G0001, S0001) from Sigma ``attack.*`` tags."""
    out: list[str] = []
    for tag in tags:
        m = _ATTACK_TAG.match(tag)
        if m and m.group(1).upper() not in out:
            out.append(m.group(1).upper())
    return out


# -- compile -------------------------------------------------------------------------------


def _items(detection: SigmaDetection) -> Iterable[SigmaDetectionItem]:
    for item in detection.detection_items:
        if isinstance(item, SigmaDetection):
            yield from _items(item)
        else:
            yield item


def _all_items(rule: PySigmaRule) -> Iterable[tuple[str, SigmaDetectionItem]]:
    for name, detection in rule.detection.detections.items():
        for item in _items(detection):
            yield name, item


def _explain_unknown(rule: PySigmaRule) -> str:
    """Turn the pipeline's generic unknown-field failure into a precise message."""
    if "timeframe" in rule.detection.detections:
        return (
            "uses the legacy 'timeframe' multi-event aggregation (count()/near or two events in a "
            "window): correlation is not supported; rewrite it as a Sigma correlation rule or SQL"
        )
    keywords = [name for name, item in _all_items(rule) if item.field is None]
    if keywords:
        return f"keyword (full-text) detection {keywords[0]!r} is not supported: name the CloudTrail field to search"
    unknown: list[str] = []
    for _, item in _all_items(rule):
        names = [item.field] + [v.field for v in item.value if isinstance(v, SigmaFieldReference)]
        for name in names:
            if name is not None and not is_known_field(name) and name not in unknown:
                unknown.append(name)
    if unknown:
        listed = ", ".join(repr(n) for n in unknown)
        return f"unknown field {listed}: {UNKNOWN_FIELD_MESSAGE}"
    return UNKNOWN_FIELD_MESSAGE


_FIELDISH = re.compile(
    r"^(requestParameters|responseElements|additionalEventData|userIdentity|"
    r"serviceEventDetails|resources|tlsDetails)\.[A-Za-z]"
)
_TEMPLATE = re.compile(r"<[A-Z][A-Z0-9_-]{2,}>")


def lint(rule: PySigmaRule) -> list[str]:
    """Known rule-quality problems (reported with the rule; they do not stop compilation)."""
    warnings: list[str] = []
    for _, item in _all_items(rule):
        for value in item.value:
            if isinstance(value, SigmaString):
                text = value.to_plain_regex()
                core = text.strip("*")
                if _FIELDISH.match(core):
                    warnings.append(
                        f"{item.field}: the value {core!r} looks like a field name but is "
                        "matched as a literal string (Sigma needs |fieldref to compare fields)"
                    )
                for placeholder in _TEMPLATE.findall(text):
                    warnings.append(
                        f"{item.field}: the value holds the template text {placeholder}; "
                        "edit the rule before relying on it"
                    )
            elif isinstance(value, SigmaFieldReference) and item.field:
                pair = {item.field.rsplit(".", 1)[-1], value.field.rsplit(".", 1)[-1]}
                if pair == {"arn", "userName"}:
                    warnings.append(
                        f"{item.field}|fieldref {value.field}: compares an ARN with a bare user "
                        "name, which are never equal"
                    )
    return warnings


_BACKEND = CloudTrailSQLBackend()


def compile_rule(rule: PySigmaRule, path: Path | None = None) -> SigmaRule:
    """Compile one parsed pySigma rule; raises ``SigmaCompileError`` with a clear message."""
    if rule.errors:
        raise SigmaCompileError(str(rule.errors[0]))
    original = copy.deepcopy(rule)
    try:
        cloudtrail_pipeline().apply(rule)
    except SigmaTransformationError as exc:
        message = exc.args[0] if exc.args else str(exc)
        if message == UNKNOWN_FIELD_MESSAGE:
            message = _explain_unknown(rule)
        raise SigmaCompileError(message) from exc
    try:
        sql = _BACKEND.convert_rule(rule)
    except SigmaError as exc:
        raise SigmaCompileError(exc.args[0] if exc.args else str(exc)) from exc
    tags = [str(t) for t in rule.tags]
    return SigmaRule(
        id=str(rule.id) if rule.id else (rule.name or (path.stem if path else rule.title)),
        title=rule.title,
        level=str(rule.level) if rule.level else "",
        author=rule.author or "",
        sql=sql,
        path=path,
        status=str(rule.status) if rule.status else "",
        description=rule.description or "",
        tags=tags,
        attack=attack_ids(tags),
        references=list(rule.references or []),
        falsepositives=list(rule.falsepositives or []),
        license=rule.license or "",
        warnings=lint(original),
        source=original,
    )


def _not_a_mapping(text: str) -> str | None:
    """Why a YAML text cannot hold Sigma rules (a document that is a list, a string, a number...), else None.

    pySigma expects every document to be a mapping and fails with an AttributeError otherwise
    (``hunt --sigma /etc/passwd``, a ``notes.yml`` holding a list).
    """
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return None  # reported by pySigma's own parse below, with its message
    for n, doc in enumerate(docs, 1):
        if doc is not None and not isinstance(doc, dict):
            where = f"document {n} " if len(docs) > 1 else ""
            kind = "a list" if isinstance(doc, list) else "a text" if isinstance(doc, str) else "a single value"
            return f"not a Sigma rule file: the YAML {where}is {kind}, not a mapping of rule keys"
    return None


def compile_text(text: str, path: Path | None = None) -> tuple[list[SigmaRule], list[str]]:
    """Every rule of one YAML text (several documents allowed): compiled rules and error messages.

    Never raises for bad content: a file that is not Sigma at all is one error message.
    """
    problem = _not_a_mapping(text)
    if problem:
        return [], [problem]
    try:
        # Correlation rules are rejected below; without resolving references they do not need
        # the rules they refer to in the same file.
        collection = SigmaCollection.from_yaml(text, collect_errors=True, resolve_references=False)
    except (yaml.YAMLError, SigmaError) as exc:
        return [], [f"not a valid Sigma YAML file: {exc}"]
    except (AttributeError, TypeError, ValueError, KeyError) as exc:  # pySigma on unexpected shapes
        return [], [f"not a valid Sigma rule file: {type(exc).__name__}: {exc}"]
    rules: list[SigmaRule] = []
    errors: list[str] = []
    multiple = len(collection.rules) > 1
    for rule in collection.rules:
        label = f"{rule.title or rule.id}: " if multiple else ""
        if isinstance(rule, SigmaCorrelationRule):
            errors.append(f"{label}Sigma correlation rules (multi-event) are not supported")
            continue
        try:
            rules.append(compile_rule(rule, path))
        except SigmaCompileError as exc:
            errors.append(f"{label}{exc}")
        except SigmaError as exc:  # any other pySigma complaint about the rule
            errors.append(f"{label}{exc}")
    filters = getattr(collection, "filters", [])
    if filters:
        errors.append("Sigma filters are not supported (apply them to the rules first)")
    seen = {str(e) for r in collection.rules for e in r.errors}
    errors.extend(str(e) for e in collection.errors if str(e) not in seen)
    if not collection.rules and not filters and not errors:
        errors.append("no Sigma rule in the file")
    return rules, errors


def rule_files(paths: Sequence[Path | str]) -> tuple[list[Path], list[tuple[str, str]]]:
    files: list[Path] = []
    errors: list[tuple[str, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in RULE_SUFFIXES and f.is_file()))
        elif p.is_file():
            files.append(p)
        else:
            errors.append((str(p), "no such file or folder"))
    return files, errors


def load_sigma_rules(paths: Sequence[Path | str]) -> tuple[list[SigmaRule], list[tuple[str, str]]]:
    """Compile the Sigma rules in files or folders (recursive ``*.yml``/``*.yaml``).

    Returns the compiled rules and ``(file, message)`` for every rule that did not compile
    (non-CloudTrail logsource, a field CloudTrail does not have, keyword searches, correlations,
    YAML or Sigma syntax errors...).  One bad rule never stops the others.
    """
    files, errors = rule_files(paths)
    rules: list[SigmaRule] = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append((str(f), f"cannot read: {exc}"))
            continue
        try:
            compiled, messages = compile_text(text, f)
        except Exception as exc:  # one unreadable rule file must never stop the hunt
            errors.append((str(f), f"cannot compile: {type(exc).__name__}: {exc}"))
            continue
        rules.extend(compiled)
        errors.extend((str(f), m) for m in messages)
    return rules, errors
