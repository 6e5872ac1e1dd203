"""Deriving the flat identity columns from a ``userIdentity`` value of any shape."""

from __future__ import annotations

from typing import Any

from msgspec import Raw

from trailforensics.normalize.fast import (
    ANY_DECODER,
    EMPTY_ATTRIBUTES,
    EMPTY_IDENTITY,
    EMPTY_ISSUER,
    EMPTY_SESSION,
    EMPTY_WEBID,
    IDENTITY_DECODER,
    Attributes,
    DecodeError,
    Identity,
    Issuer,
    SessionContext,
    ValidationError,
    WebId,
)

# The flat string fields of Identity and Issuer (sessionContext is nested, built apart).
_IDENTITY_KEYS: tuple[str, ...] = tuple(k for k in Identity.__struct_fields__ if k != "sessionContext")
_ISSUER_KEYS: tuple[str, ...] = Issuer.__struct_fields__


def _text(value: Any) -> str | None:
    """Strings as they are; numbers (an account id written as a number) as their text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _texts(value: dict[str, Any], keys: tuple[str, ...]) -> dict[str, str | None]:
    return {k: _text(value.get(k)) for k in keys}


def lenient_identity(value: Any) -> Identity:
    """Any decoded userIdentity value -> Identity; parts of the wrong type count as absent."""
    if not isinstance(value, dict):
        return EMPTY_IDENTITY
    ctx = value.get("sessionContext")
    session = EMPTY_SESSION
    if isinstance(ctx, dict):
        iss, att, web = ctx.get("sessionIssuer"), ctx.get("attributes"), ctx.get("webIdFederationData")
        mfa = att.get("mfaAuthenticated") if isinstance(att, dict) else None
        session = SessionContext(
            sessionIssuer=Issuer(**_texts(iss, _ISSUER_KEYS)) if isinstance(iss, dict) else EMPTY_ISSUER,
            attributes=Attributes(
                creationDate=_text(att.get("creationDate")),
                mfaAuthenticated=mfa if isinstance(mfa, (str, bool)) else None,
            )
            if isinstance(att, dict)
            else EMPTY_ATTRIBUTES,
            sourceIdentity=_text(ctx.get("sourceIdentity")),
            webIdFederationData=WebId(federatedProvider=_text(web.get("federatedProvider")))
            if isinstance(web, dict)
            else EMPTY_WEBID,
        )
    return Identity(sessionContext=session, **_texts(value, _IDENTITY_KEYS))


def identity_of_raw(raw: Raw | bytes) -> Identity:
    """Decode one raw userIdentity (absent, null, or any JSON value)."""
    if not len(raw):
        return EMPTY_IDENTITY
    try:
        return IDENTITY_DECODER.decode(raw)
    except (ValidationError, DecodeError):
        pass
    try:
        return lenient_identity(ANY_DECODER.decode(raw))
    except (DecodeError, RecursionError):  # ValidationError is a DecodeError (e.g. 1e400)
        return EMPTY_IDENTITY
