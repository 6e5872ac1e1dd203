"""The report row (`VerifiedFile`) of one log file, listed by a digest or not."""

from __future__ import annotations

from trailforensics.verify import model as m
from trailforensics.verify.listings import Listing
from trailforensics.verify.paths import LOG_SCOPE_RE, Tree, log_name_time


def _kind_of(rel: str) -> str:
    mt = LOG_SCOPE_RE.match(rel)
    return m.INSIGHT if mt and mt.group("service") == "CloudTrail-Insight" else m.KIND_LOG_FILE


def object_key(rel: str) -> str:
    """The S3 object key (from `AWSLogs/` on) of a tree path."""
    idx = rel.find("AWSLogs/")
    return rel[idx:] if idx >= 0 else rel


def log_row(
    rel: str,
    status: str,
    reason: str | None,
    lst: Listing | None,
    scanned: Tree,
    actual: str | None = None,
    size: int | None = None,
) -> m.VerifiedFile:
    mt = LOG_SCOPE_RE.match(rel)
    f = scanned.logs.get(rel)
    d = lst.digest if lst else None
    return m.VerifiedFile(
        source_file=rel,
        kind=_kind_of(rel),
        status=status,
        reason=reason,
        digest_key=d.key if d else None,
        bucket=(lst.bucket if lst else None) or (d.bucket if d else None),
        object_key=lst.key if lst else object_key(rel),
        account_id=mt.group("account") if mt else (f.account if f else None),
        region=mt.group("region") if mt else (f.region if f else None),
        trail=d.name.trail if d and d.name else None,
        expected_sha256=lst.expected if lst else None,
        actual_sha256=actual,
        file_time=f.name_time if f else log_name_time(rel.rsplit("/", 1)[-1]),
        digest_start=d.start if d else None,
        digest_end=d.end if d else None,
        size=size,
    )
