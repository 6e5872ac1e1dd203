"""The API registry: one `Api` per (eventSource, eventName) the generator knows.

Service modules declare their APIs with a :class:`Service` at import time.  A
builder receives the shard generator `g` (rng `g.r`, account id `g.aid`,
resources `g.res`, current event time `g.t`, request id `g.rid`), the region
and the calling `Actor`, and returns ``(requestParameters, responseElements,
resources, additionalEventData)``.

Weights (``"dev:3 ci:1"``) say how often each caller profile uses the API:
dev (developer CLI), admin (console admin), ro (read-only console), data (data
engineer), ci (pipelines / terraform), app (EC2/ECS workloads), lambda
(functions), svc (service-linked roles such as AWS Config), report (federated
reporting portal), mgmt (organisation admin), sec (security team).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
Out = tuple[Any, Any, Any, Any]
Builder = Callable[[Any, str, Any], Out]
ReqFn = Callable[[Any, str], Any]


@dataclass(frozen=True, slots=True)
class Api:
    key: str
    source: str
    name: str
    read_only: bool
    build: Builder
    data: bool
    glob: bool
    version: str
    errors: tuple[str, ...]
    err: float
    endpoint: str
    cli: str
    vpce: bool
    rid: str  # request id style: uuid | s3
    api_version: str | None = None


REGISTRY: dict[str, Api] = {}
WEIGHTS: dict[str, dict[str, float]] = defaultdict(dict)

_CLI_NAMES = {"monitoring": "cloudwatch", "elasticloadbalancing": "elbv2"}


def _kebab(name: str) -> str:
    name = re.sub(r"20\d{6}(v\d)?$", "", name)
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def register(
    svc: str,
    name: str,
    ro: bool,
    build: Builder,
    *,
    w: str = "",
    data: bool = False,
    glob: bool = False,
    version: str = "1.08",
    errors: tuple[str, ...] = ("denied",),
    err: float = 1.0,
    endpoint: str | None = None,
    vpce: bool = False,
    rid: str = "uuid",
    source: str | None = None,
    api_version: str | None = None,
) -> Api:
    key = f"{svc}:{name}"
    api = Api(
        key=key,
        source=source or f"{svc}.amazonaws.com",
        name=name,
        read_only=ro,
        build=build,
        data=data,
        glob=glob,
        version=version,
        errors=errors,
        err=err,
        endpoint=endpoint or svc,
        cli=f"{_CLI_NAMES.get(svc, svc)}.{_kebab(name)}",
        vpce=vpce,
        rid=rid,
        api_version=api_version,
    )
    REGISTRY[key] = api
    for part in w.split():
        prof, _, weight = part.partition(":")
        WEIGHTS[prof][key] = float(weight or 1)
    return api


def res(rtype: str, arn: str, account: str | None) -> JSON:
    if account is None:
        return {"type": rtype, "ARN": arn}
    return {"accountId": account, "type": rtype, "ARN": arn}


def no_out(req: Any = None) -> Out:
    return (req, None, None, None)


def _builder(req: Any, out: Builder | None) -> Builder:
    if out is not None:
        return out
    if req is None or isinstance(req, dict):
        static = (req, None, None, None)
        return lambda g, rg, a: static
    fn: ReqFn = req
    return lambda g, rg, a: (fn(g, rg), None, None, None)


class Service:
    """Declares the APIs of one service with shared defaults.

    ``req`` is a static requestParameters dict or ``fn(g, region) -> dict``;
    ``out`` is a full builder returning the 4-tuple."""

    def __init__(
        self,
        svc: str,
        *,
        errors: tuple[str, ...] = ("denied",),
        version: str = "1.08",
        glob: bool = False,
        vpce: bool = False,
        rid: str = "uuid",
        api_version: str | None = None,
    ) -> None:
        self.svc, self.errors, self.version, self.glob = svc, errors, version, glob
        self.vpce, self.rid, self.api_version = vpce, rid, api_version

    def add(self, name: str, ro: bool, w: str = "", req: Any = None, out: Builder | None = None, **kw: Any) -> Api:
        opts: dict[str, Any] = {
            "errors": self.errors,
            "version": self.version,
            "glob": self.glob,
            "vpce": self.vpce,
            "rid": self.rid,
            "api_version": self.api_version,
        }
        opts.update(kw)
        return register(self.svc, name, ro, _builder(req, out), w=w, **opts)

    def read(self, name: str, w: str = "", req: Any = None, out: Builder | None = None, **kw: Any) -> Api:
        return self.add(name, True, w, req, out, **kw)

    def write(self, name: str, w: str = "", req: Any = None, out: Builder | None = None, **kw: Any) -> Api:
        return self.add(name, False, w, req, out, **kw)
