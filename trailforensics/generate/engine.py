"""`Gen`: turns (actor, API, time, region) into a CloudTrail record, in AWS key order.

One `Gen` serves one account over one time chunk (a shard).  Records are kept
as ``(eventTime epoch, recipientAccountId, awsRegion, record dict)`` tuples in
`Gen.events`; delivery into files happens later (`delivery`).  When a record
belongs to another account (the other copy of a cross-account call) it is only
kept if that account is in `emit_for` (None = keep everything).
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable
from typing import Any

from trailforensics.generate.errors import make_error, resource_hint
from trailforensics.generate.model import JSON, Account, Actor, Org
from trailforensics.generate.rng import Rng
from trailforensics.generate.services import REGISTRY, WEIGHTS, Api
from trailforensics.generate.timeutil import iso, java_date

MISSING: Any = object()
TLS13 = ("TLSv1.3", "TLS_AES_128_GCM_SHA256")
TLS12 = ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")
Event = tuple[int, str, str, JSON]


class Gen:
    def __init__(
        self,
        org: Org,
        account: Account,
        rng: Rng,
        t0: int,
        t1: int,
        *,
        trail_name: str = "org-trail",
        err_rate: float = 0.1,
        emit_for: set[str] | None = None,
        trail_arn: str | None = None,
    ) -> None:
        self.org = org
        self.acct = account
        self.aid = account.id
        self.res = account.res
        self.r = rng
        self.t0 = t0
        self.t1 = t1
        self.t = t0
        self.rid = ""
        self.trail_name = trail_name
        self.trail_arn = trail_arn
        self.err_rate = err_rate
        self.emit_for = {account.id} if emit_for is None else emit_for
        self.emit_all = False
        self.org_accounts = [a.id for a in org.accounts]
        self.events: list[Event] = []
        self._tls: dict[tuple[str, str], JSON] = {}
        self._ua: dict[tuple[str, str], str] = {}
        self._tables: dict[str, tuple[list[Api], list[float]]] = {}
        self.api_filter: Callable[[Api], bool] | None = None  # which APIs background activity may pick

    # ------------------------------------------------------------------ helpers for builders
    def java(self, comma: bool = True) -> str:
        return java_date(self.t, comma)

    def iso_ms(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.t)) + f".{self.r.randrange(1000):03d}+0000"

    def allows(self, key: str) -> bool:
        api = REGISTRY[key]
        return self.api_filter is None or self.api_filter(api)

    def pick(self, profile: str) -> Api:
        tab = self._tables.get(profile)
        if tab is None:
            weights = WEIGHTS[profile]
            apis = [REGISTRY[k] for k in sorted(weights) if self.allows(k)]
            cum = list(itertools.accumulate(weights[a.key] for a in apis))
            tab = self._tables[profile] = (apis, cum)
        apis, cum = tab
        return apis[bisect.bisect_right(cum, self.r.random() * cum[-1])]

    def tls(self, version: str, host: str) -> JSON:
        key = (version, host)
        d = self._tls.get(key)
        if d is None:
            v, c = TLS13 if version == "1.3" else TLS12
            d = self._tls[key] = {"tlsVersion": v, "cipherSuite": c, "clientProvidedHostHeader": host}
        return d

    def user_agent(self, actor: Actor, api: Api) -> str:
        if actor.ua_kind != "cli2":
            return actor.ua
        key = (actor.ua, api.key)
        ua = self._ua.get(key)
        if ua is None:
            ua = self._ua[key] = f"{actor.ua} md/command#{api.cli}"
        return ua

    # ------------------------------------------------------------------ the record factory
    def call(
        self,
        actor: Actor,
        api: Api | str,
        t: int,
        region: str | None = None,
        *,
        req: Any = MISSING,
        resp: Any = MISSING,
        res: Any = MISSING,
        add: Any = MISSING,
        error: tuple[str | None, str | None] | None = None,
        no_error: bool = False,
        shared: str | None = None,
        recipient: str | None = None,
        ident: JSON | None = None,
        ip: str | None = None,
        ua: str | None = None,
        event_type: str = "AwsApiCall",
        details: JSON | None = None,
        request_id: Any = MISSING,
        event_id: str | None = None,
        read_only: bool | None = None,
        management: bool | None = None,
        version: str | None = None,
        tls_host: str | None = None,
    ) -> JSON:
        if isinstance(api, str):
            api = REGISTRY[api]
        r = self.r
        if api.glob:
            region = "us-east-1"
        elif region is None:
            region = actor.region or self.acct.main_region
        if actor.sts_global and api.source == "sts.amazonaws.com":
            region = "us-east-1"
        self.t = t
        if request_id is MISSING:
            request_id = r.s3_request_id() if api.rid == "s3" else r.uuid()
        self.rid = request_id or ""
        if req is MISSING or resp is MISSING or res is MISSING or add is MISSING:
            b_req, b_resp, b_res, b_add = api.build(self, region, actor)
            req = b_req if req is MISSING else req
            resp = b_resp if resp is MISSING else resp
            res = b_res if res is MISSING else res
            add = b_add if add is MISSING else add
        acct = recipient or actor.account
        if (
            error is None
            and not no_error
            and api.errors
            and r.random() < self.err_rate * api.err * (0.1 if actor.ua_kind == "service" else 1.0)
        ):
            arn = actor.arn or f"arn:aws:iam::{acct}:root"
            error = make_error(
                r.pick(api.errors),
                api.source,
                api.name,
                api.read_only,
                arn,
                resource_hint(api.source, api.name, region, acct, req),
                r,
            )
        rec: JSON = {
            "eventVersion": version or api.version,
            "userIdentity": ident if ident is not None else actor.ident,
            "eventTime": iso(t),
            "eventSource": api.source,
            "eventName": api.name,
            "awsRegion": region,
            "sourceIPAddress": ip or actor.ip,
            "userAgent": ua or self.user_agent(actor, api),
        }
        if error is not None:
            if error[0] is not None:
                rec["errorCode"] = error[0]
            if error[1] is not None:
                rec["errorMessage"] = error[1]
            resp = None
        rec["requestParameters"] = req
        rec["responseElements"] = resp
        if add is not None:
            rec["additionalEventData"] = add
        if request_id:
            rec["requestID"] = request_id
        rec["eventID"] = event_id or r.uuid()
        rec["readOnly"] = api.read_only if read_only is None else read_only
        if res:
            rec["resources"] = res
        rec["eventType"] = event_type
        if api.api_version:
            rec["apiVersion"] = api.api_version
        rec["managementEvent"] = (not api.data) if management is None else management
        rec["recipientAccountId"] = acct
        if shared:
            rec["sharedEventID"] = shared
        if actor.vpce and api.vpce:
            rec["vpcEndpointId"] = actor.vpce
            rec["vpcEndpointAccountId"] = acct
        if details is not None:
            rec["serviceEventDetails"] = details
        rec["eventCategory"] = "Data" if api.data else "Management"
        if actor.tls:
            if tls_host is None:
                if api.source == "s3.amazonaws.com" and isinstance(req, dict) and "Host" in req:
                    tls_host = req["Host"]
                elif api.glob or (actor.sts_global and api.source == "sts.amazonaws.com"):
                    tls_host = f"{api.endpoint}.amazonaws.com"
                else:
                    tls_host = f"{api.endpoint}.{region}.amazonaws.com"
            rec["tlsDetails"] = self.tls(actor.tls, tls_host)
        if actor.console:
            rec["sessionCredentialFromConsole"] = "true"
        if self.emit_all or acct in self.emit_for:
            self.events.append((t, acct, region, rec))
        return rec

    def in_chunk(self, t: int) -> bool:
        return self.t0 <= t < self.t1
