"""Decoding CloudTrail records with msgspec: the fast path.

A record decodes into ``FastRecord`` only when every key is known and every value has the
JSON type CloudTrail documents; anything else (an unknown key, ``"True"`` for a bool, a
number for a string, even an explicit null) fails validation and the record takes the
tolerant path (:mod:`.tolerant`), which may also put None in a field.  Free-form parts
(``requestParameters`` and friends) are kept as ``msgspec.Raw``: the original bytes, never
re-serialised.

``FastRecord`` is declared statically (msgspec compiles its decoder from the class); its keys
are those :mod:`trailforensics.schema` maps plus ``EXTRA_KEYS``, as tests/test_schema.py checks.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Raw, Struct

from trailforensics.normalize.native import native

NO_RAW = Raw(b"")  # the key was absent (raw fields)
# The key was absent (string fields).  None, so no decoded string can ever be mistaken for it;
# an explicit JSON null fails the fast path, and the tolerant path lists such keys itself.
ABSENT: Any = None


class _NotSet:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_SET"


NOT_SET: Any = _NotSet()  # the key was absent (bool fields)

# Top-level keys without a typed column that real logs carry; kept verbatim in ``extra``.
EXTRA_KEYS: tuple[str, ...] = (
    "addendum",
    "edgeDeviceDetails",
    "vpcEndpointAccountId",
    "annotation",
    "insightContext",
)


class Tls(Struct, forbid_unknown_fields=True, frozen=True, gc=False, omit_defaults=True):
    tlsVersion: str = ABSENT
    cipherSuite: str = ABSENT
    clientProvidedHostHeader: str = ABSENT


# omit_defaults: encoding a decoded record gives back its keys only (the duplicate-key check).
class FastRecord(Struct, forbid_unknown_fields=True, gc=False, omit_defaults=True):
    eventVersion: str = ABSENT
    userIdentity: Raw = NO_RAW
    eventTime: str = ABSENT
    eventSource: str = ABSENT
    eventName: str = ABSENT
    awsRegion: str = ABSENT
    sourceIPAddress: str = ABSENT
    userAgent: str = ABSENT
    errorCode: str = ABSENT
    errorMessage: str = ABSENT
    requestParameters: Raw = NO_RAW
    responseElements: Raw = NO_RAW
    additionalEventData: Raw = NO_RAW
    requestID: str = ABSENT
    eventID: str = ABSENT
    readOnly: bool = NOT_SET
    resources: Raw = NO_RAW
    eventType: str = ABSENT
    apiVersion: str = ABSENT
    managementEvent: bool = NOT_SET
    recipientAccountId: str = ABSENT
    sharedEventID: str = ABSENT
    vpcEndpointId: str = ABSENT
    eventCategory: str = ABSENT
    serviceEventDetails: Raw = NO_RAW
    insightDetails: Raw = NO_RAW
    tlsDetails: Tls = ABSENT
    sessionCredentialFromConsole: str = ABSENT  # AWS writes the string "true"
    addendum: Raw = NO_RAW
    edgeDeviceDetails: Raw = NO_RAW
    vpcEndpointAccountId: Raw = NO_RAW
    annotation: Raw = NO_RAW
    insightContext: Raw = NO_RAW


class _FastFile(Struct, gc=False):
    Records: list[FastRecord]


class _RawFile(Struct, gc=False):
    Records: list[Raw]


# userIdentity is stored whole as JSON; these lenient structs only derive the flat columns
# (unknown keys ignored).  Frozen so shared empty instances can be defaults.
class Issuer(Struct, frozen=True, gc=False):
    type: str | None = None
    principalId: str | None = None
    arn: str | None = None
    accountId: str | None = None
    userName: str | None = None


class Attributes(Struct, frozen=True, gc=False):
    creationDate: str | None = None
    mfaAuthenticated: str | bool | None = None


class WebId(Struct, frozen=True, gc=False):
    federatedProvider: str | None = None


EMPTY_ISSUER = Issuer()
EMPTY_ATTRIBUTES = Attributes()
EMPTY_WEBID = WebId()


class SessionContext(Struct, frozen=True, gc=False):
    sessionIssuer: Issuer = EMPTY_ISSUER
    attributes: Attributes = EMPTY_ATTRIBUTES
    sourceIdentity: str | None = None
    webIdFederationData: WebId = EMPTY_WEBID


EMPTY_SESSION = SessionContext()


class Identity(Struct, frozen=True, gc=False):
    type: str | None = None
    principalId: str | None = None
    arn: str | None = None
    accountId: str | None = None
    accessKeyId: str | None = None
    userName: str | None = None
    invokedBy: str | None = None
    identityProvider: str | None = None
    credentialId: str | None = None
    sessionContext: SessionContext = EMPTY_SESSION


EMPTY_IDENTITY = Identity()


IDENTITY_LIST_DECODER = msgspec.json.Decoder(list[Identity])
IDENTITY_DECODER = msgspec.json.Decoder(Identity)
FAST_FILE_DECODER = msgspec.json.Decoder(_FastFile)
RAW_FILE_DECODER = msgspec.json.Decoder(_RawFile)
RECORD_DECODER = msgspec.json.Decoder(FastRecord)
ANY_DECODER = msgspec.json.Decoder()
RECORD_ENCODER = msgspec.json.Encoder()
RAW_DICT_DECODER = msgspec.json.Decoder(dict[str, Raw])

ValidationError = msgspec.ValidationError
DecodeError = msgspec.DecodeError


# Every record the file decoder builds is counted: more records built than the `Records` list
# holds means a second `Records` key, whose array msgspec silently dropped (last key wins).
COUNTED = [0]


class _CountedRecord(FastRecord, forbid_unknown_fields=True, gc=False):
    def __post_init__(self) -> None:
        COUNTED[0] += 1


class _CountedFile(Struct, gc=False):
    Records: list[_CountedRecord]


COUNTED_FILE_DECODER = msgspec.json.Decoder(_CountedFile)


def _layout(struct: type[Struct]) -> tuple[tuple[str, int, Any, tuple[Any, ...]], ...]:
    """Each field's (name, kind, default, nested layout), for ``_native.encoded_length``."""
    kinds = {str: 0, Raw: 1, bool: 2}
    out: list[tuple[str, int, Any, tuple[Any, ...]]] = []
    for f in msgspec.structs.fields(struct):
        if f.type in kinds:
            out.append((f.encode_name, kinds[f.type], f.default, ()))
        else:  # a nested struct (tlsDetails)
            out.append((f.encode_name, 3, f.default, _layout(f.type)))
    return tuple(out)


RECORD_LAYOUT = _layout(FastRecord)


def encoded_length(records: list[FastRecord]) -> int:
    """``len(RECORD_ENCODER.encode(records))``; the C module counts it without encoding."""
    c = native()
    if c is not None:
        try:
            return int(c.encoded_length(records, RECORD_LAYOUT))
        except (TypeError, ValueError, AttributeError, UnicodeError):
            pass
    return len(RECORD_ENCODER.encode(records))
