"""Which trail an event or a delivered file means: trail names resolved to ARNs, and what the
delivered files prove about a trail older than the logs."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from trailforensics.posture.common import UNKNOWN, is_unknown, loads, parse_arn, partition_of, partition_of_region, pick
from trailforensics.posture.deliveries import DeliveredTrail
from trailforensics.posture.trailmodel import OWN_FIELDS, EventRef, Trail

DELIVERED = "delivered files"  # the event_name of a state value proven by the delivered files


class TrailIndex:
    def __init__(self) -> None:
        self.evidence: dict[str, list[DeliveredTrail]] = defaultdict(list)  # trail ARN -> its deliveries
        self.trails: dict[str, Trail] = {}
        self.names: dict[tuple[str, str], list[str]] = defaultdict(list)  # (account, name) -> ARNs

    def learn_arns(self, rows: list[dict[str, Any]]) -> None:
        """First pass: every trail ARN the logs show, so names can be resolved to ARNs."""
        for row in rows:
            if row["event_source"] != "cloudtrail.amazonaws.com":
                continue
            req, resp = loads(row["request_parameters"]) or {}, loads(row["response_elements"]) or {}
            for value in (
                pick(resp, "trailARN"),
                pick(req, "name"),
                pick(req, "trailName"),
                pick(req, "resourceId"),
            ):
                self._remember(value)

    def _remember(self, value: Any) -> None:
        arn = parse_arn(value)
        if arn and arn.service == "cloudtrail" and arn.resource.startswith("trail/"):
            name = arn.resource.split("/", 1)[1]
            if str(value) not in self.names[(arn.account, name)]:
                self.names[(arn.account, name)].append(str(value))

    def learn_deliveries(self, delivered: list[DeliveredTrail]) -> None:
        """Second pass: the trails the digest files name, matched to the ARNs the events show."""
        for d in sorted(delivered, key=lambda d: d.last_digest, reverse=True):  # the latest location first
            arn = self._delivered_arn(d)
            self._remember(arn)
            self.evidence[arn].append(d)

    def _delivered_arn(self, d: DeliveredTrail) -> str:
        for (account, name), arns in self.names.items():
            if name != d.name or not (d.org_ids or account in d.accounts):
                continue
            for arn in arns:
                parsed = parse_arn(arn)
                if parsed and parsed.region == d.home_region:
                    return arn
        # An organisation trail's digests are filed under the member accounts: its own is not known.
        account = d.accounts[0] if len(d.accounts) == 1 and not d.org_ids else ""
        return f"arn:{partition_of_region(d.home_region)}:cloudtrail:{d.home_region}:{account}:trail/{d.name}"

    def adopt(self, trail: Trail, *, seed: bool) -> None:
        """Tie a trail to the buckets its delivered files are in; with ``seed``, also take the
        settings they prove where no event showed them (a trail older than the logs)."""
        for d in self.evidence.get(trail.arn, ()):
            trail.buckets.extend((d.first_digest, b) for b in d.buckets)
            if not seed:
                continue
            proven: dict[str, Any] = {"log_file_validation": True, "organization_trail": bool(d.org_ids)}
            if set(d.regions) - {d.home_region}:
                proven["multi_region"] = True  # a single-region trail delivers its home region only
            if len(d.buckets) == 1:
                proven["s3_bucket"] = d.buckets[0]
            ref = EventRef.evidence(d.first_digest, DELIVERED)
            for f, value in proven.items():
                if is_unknown(trail.values.get(f)):
                    trail.values[f] = value
                    trail.set_by[f] = ref

    def resolve(self, ref: Any, row: dict[str, Any]) -> str | None:
        if not isinstance(ref, str) or not ref:
            return None
        if ref.startswith("arn:"):
            return ref
        account = row["account"] or ""
        known = self.names.get((account, ref), [])
        if len(known) == 1:
            return known[0]
        for arn in known:
            parsed = parse_arn(arn)
            if parsed and parsed.region == row["aws_region"]:
                return arn
        if known:
            return known[0]
        part = partition_of(row["user_identity_arn"])
        arn = f"arn:{part}:cloudtrail:{row['aws_region']}:{account}:trail/{ref}"
        self.names[(account, ref)].append(arn)
        return arn

    def trail(self, arn: str) -> Trail:
        """The trail with this ARN, created (settings unknown) the first time it is named."""
        if arn not in self.trails:
            parsed = parse_arn(arn)
            name = parsed.resource.split("/", 1)[1] if parsed and "/" in parsed.resource else arn
            values: dict[str, Any] = dict.fromkeys(OWN_FIELDS, UNKNOWN)
            values.update(
                name=name,
                arn=arn,
                account=parsed.account if parsed else UNKNOWN,
                home_region=parsed.region if parsed else UNKNOWN,
                deleted=False,
            )
            self.trails[arn] = Trail(arn, values)
        return self.trails[arn]

    def adopt_unseen(self) -> None:
        """Trails only the delivered files show (no event named them)."""
        for arn in self.evidence:
            if arn not in self.trails:
                self.adopt(self.trail(arn), seed=True)
