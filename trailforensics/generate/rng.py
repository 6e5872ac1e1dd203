"""Seeded randomness: every random value of the generator comes from here.

`Rng` is a :class:`random.Random` with helpers for the identifiers CloudTrail
records carry (uuid4 strings, access key ids, principal ids, S3 request ids...).
It never touches the OS entropy pool or the clock, so a given seed always
produces the same values.  `derive_seed` builds independent sub-seeds (per
shard, per trail...) from stable strings, without Python's salted ``hash()``.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
HEX = "0123456789abcdef"

_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def derive_seed(*parts: object) -> int:
    """A 64-bit seed derived from `parts` (stable across processes and runs)."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


class Rng(random.Random):
    """`random.Random` plus CloudTrail identifier helpers."""

    def sub(self, *parts: object) -> Rng:
        """An independent generator derived from this one's next value and `parts`."""
        return Rng(derive_seed(self.getrandbits(64), *parts))

    def uuid(self) -> str:
        """A uuid4 string (the format of eventID, sharedEventID and most requestIDs)."""
        h = "%032x" % ((self.getrandbits(128) & _V4_CLEAR) | _V4_SET)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def hexs(self, n: int) -> str:
        return f"{self.getrandbits(4 * n):0{n}x}"

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.choices(alphabet, k=n))

    def alnum(self, n: int) -> str:
        return "".join(self.choices(ALNUM, k=n))

    def access_key(self, prefix: str = "AKIA") -> str:
        """A 20-character access key id: AKIA (long-term) or ASIA (temporary)."""
        return prefix + "".join(self.choices(B32, k=16))

    def principal_id(self, prefix: str = "AIDA") -> str:
        """A 21-character unique id: AIDA (user), AROA (role), AGPA (group)."""
        return prefix + "".join(self.choices(B32, k=17))

    def s3_request_id(self) -> str:
        return "".join(self.choices(UPPER_ALNUM, k=16))

    def amz_id_2(self) -> str:
        return base64.b64encode(self.randbytes(57)).decode()

    def session_token(self, n: int = 420) -> str:
        return "IQoJb3JpZ2luX2Vj" + base64.b64encode(self.randbytes(n)).decode()

    def ec2_id(self, prefix: str, n: int = 17) -> str:
        return f"{prefix}-{self.hexs(n)}"

    def account_id(self) -> str:
        return str(self.randrange(100000000000, 999999999999))

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.random() < p

    def private_ip(self, prefix: str = "10.20") -> str:
        return f"{prefix}.{self.randrange(0, 64)}.{self.randrange(2, 254)}"
