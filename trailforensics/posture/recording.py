"""Whether the trails recorded read management events and data events over a period.

Answered from the :func:`~trailforensics.posture.trails.trails` reconstruction: "recorded",
"partly recorded", "not recorded", or "unknown" when the logs never showed the selectors of a
trail that was logging.  The policy generator uses it to say which actions it may have missed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from trailforensics.posture.common import UNKNOWN
from trailforensics.posture.trails import TrailReport

DATA_TYPES = ("AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table")


def recording(
    report: TrailReport,
    start: datetime | None,
    end: datetime | None,
    observed_types: set[str],
    accounts: set[str],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Were read management events and data events recorded over [start, end] in these accounts?

    A trail counts when it lives in one of the accounts or may be an organisation trail.
    """
    if start is None or end is None:
        return [], []
    relevant = {
        arn: t
        for arn, t in report.trails.items()
        if t.values.get("account") in accounts or t.values.get("organization_trail") is not False
    }
    checkpoints = {start}
    for trail in relevant.values():
        for t, _ in trail.history:
            if start <= t <= end:
                checkpoints.add(t)
    needs: list[tuple[str, str]] = [
        ("read management events", "mgmt_read"),
        ("write management events", "mgmt_write"),
    ]
    needs += [(f"{t} data events (read)", f"{t}|read") for t in DATA_TYPES]
    needs += [(f"{t} data events (write)", f"{t}|write") for t in DATA_TYPES]
    rows, warnings = [], []
    for label, need in needs:
        per_point: list[str] = []  # yes | no | unknown at each checkpoint
        who: set[str] = set()
        for point in sorted(checkpoints):
            status = "no"
            for trail in relevant.values():
                values = trail.values_at(point)
                if values is None:
                    continue
                if values.get("deleted") is True:
                    continue
                logging = values.get("logging", UNKNOWN)
                if logging is False:
                    continue
                sel = trail.selection_at(point)
                if not sel.known:
                    status = "unknown" if status == "no" else status
                    continue
                if need.startswith("mgmt"):
                    ok = sel.mgmt_read if need == "mgmt_read" else sel.mgmt_write
                else:
                    typ, rw = need.split("|")
                    d = sel.data_for(typ)
                    ok = bool(d and (d.read if rw == "read" else d.write))
                if ok and logging is True:
                    status = "yes"
                    who.add(trail.name)
                elif ok and status == "no":
                    status = "unknown"  # recorded if the trail was logging, which the logs never showed
            per_point.append(status)
        if all(s == "unknown" for s in per_point):
            status_text = "unknown"
            detail = "the logs never showed the trails' event selectors for this period"
        elif "yes" not in per_point and "unknown" in per_point:
            status_text = "unknown"
            detail = "not recorded by the trails whose selectors the logs show; the other trails' selectors are unknown"
        elif all(s == "yes" for s in per_point):
            status_text, detail = "recorded", "by " + ", ".join(sorted(who))
        elif "yes" in per_point:
            status_text, detail = (
                "partly recorded",
                "by " + ", ".join(sorted(who)) + " for part of the period",
            )
        else:
            status_text, detail = "not recorded", "no trail seen in the logs recorded them"
        rows.append({"events": label, "status": status_text, "detail": detail})
        if status_text != "recorded":
            what = label.replace(" events", "")
            if need == "mgmt_read":
                miss = "read-only actions (Describe*, List*, Get*)"
            elif need == "mgmt_write":
                miss = "write actions"
            else:
                typ = need.split("|")[0]
                miss = f"{typ} {'reads' if need.endswith('read') else 'writes'}"
                if status_text == "not recorded" and typ in observed_types:
                    detail += "; yet some were seen: another trail (not in the logs) recorded them"
                    rows[-1]["detail"] = detail
            warnings.append(f"{what} {status_text}: the policy may miss {miss} ({detail})")
    return rows, warnings
