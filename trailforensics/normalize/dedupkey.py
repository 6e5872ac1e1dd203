"""The dedup key of each row: (eventID, recipientAccountId), checked against the record's content.

Every genuine copy of an event (the organisation trail's and the account trail's, an export's)
has the same content, so the content never stops a real duplicate from being dropped; it stops
two *different* records that claim the same eventID (a forged copy that would hide the genuine
one, or test data) from being merged into one.  The key is a BLAKE2b-128 over the row's parts
joined by a separator; a row without an eventID is keyed by its canonical record hash.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trailforensics.normalize.fast import ANY_DECODER, ValidationError

if TYPE_CHECKING:
    from trailforensics.normalize.columns import Decoded
    from trailforensics.normalize.fields import Fields

KEY_SIZE = 16  # bytes of a dedup key digest
_encode = msgspec.json.encode


def dedup_keys(decoded: Decoded, cols: dict[str, pa.Array], fields: Fields) -> tuple[dict[int, str], bytes]:
    """The record hash of each row without an eventID, and every row's key (KEY_SIZE bytes each)."""
    event_ids = cols["event_id"]
    hashes: dict[int, str] = {}
    if event_ids.null_count:
        for i in np.flatnonzero(~np.asarray(event_ids.is_valid())).tolist():
            hashes[i] = record_hash(decoded.raw_of(i))
    parts = [cols[c] for c in KEY_COLUMNS]
    parts.insert(2, pc.cast(pc.cast(cols["event_time"], pa.int64()), pa.string()))
    keys = fields.digests(parts)
    if hashes:  # rows without an eventID: keyed by their canonical record hash
        out = bytearray(keys)
        for i, h in hashes.items():
            out[i * KEY_SIZE : (i + 1) * KEY_SIZE] = digest(b"h\x1f" + h.encode())
        keys = bytes(out)
    return hashes, keys


# What a genuine copy of an event shares with every other copy, whichever trail or export
# delivered it: the key (eventID, recipientAccountId) and the record's content.  JSON parts
# are compared as text (compacted when the input was pretty-printed).
KEY_COLUMNS = (
    "event_id",
    "recipient_account_id",
    "event_source",
    "event_name",
    "aws_region",
    "source_ip_address",
    "user_agent",
    "error_code",
    "error_message",
    "request_id",
    "event_type",
    "event_category",
    "user_identity",
    "request_parameters",
    "response_elements",
    "additional_event_data",
    "resources",
    "service_event_details",
)
SEPARATOR = pa.scalar("\x1f", pa.string())
SEPARATOR_BYTES = b"\x1f"
JOIN_NULL_AS_EMPTY = pc.JoinOptions(null_handling="replace", null_replacement="")
_BLAKE = hashlib.blake2b(digest_size=KEY_SIZE)


def digest(material: bytes) -> bytes:
    """The key of one row's material (the Python path; the C path hashes the parts in turn)."""
    h = _BLAKE.copy()
    h.update(material)
    return h.digest()


def record_hash(raw: bytes) -> str:
    """SHA-256 of the canonical form (sorted keys, compact) of a record."""
    try:
        canonical = _encode(ANY_DECODER.decode(raw), order="sorted")
    except ValidationError:  # a number beyond float range (1e400): Python's json keeps it as inf
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()
