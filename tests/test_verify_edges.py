"""verify: digests deleted at the edges of a chain, and no false alarm on a copy taken mid-hour.

A trail here is three regions whose hourly digests end at different minutes past the hour (as
CloudTrail's do), built with the generator's digest helpers; tests delete what an attacker would
and check the evidence verify finds (sibling regions, the signatures file, logs, the cadence).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from verify_fixtures import ACCOUNT, BUCKET, HOUR, REGION, T0, TRAIL, aws_key, kinds, only, write_log

from trailforensics.generate import digests as dg
from trailforensics.verify import EXIT_MISSING, EXIT_UNCHECKED, VerifyReport, verify_tree
from trailforensics.verify import model as m

OFFSETS = {"eu-west-1": 14 * 60 + 8, "us-east-1": 20 * 60 + 22, "sa-east-1": 22 * 60 + 49}


@dataclass
class Trail:
    tree: Path
    root: Path
    chains: dict[str, list[dg.Digest]]  # region -> digests, in time order (segments joined)
    logs: dict[str, list[dg.LogRef]]
    keys: Path
    sigs: Path

    def path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def rel(self, key: str) -> str:
        return f"{BUCKET}/{key}"

    def sign(self, digests: list[dg.Digest] | None = None) -> Path:
        """The signatures file: each segment's newest digest of each region (or the given ones)."""
        chosen = digests if digests is not None else [d for c in self.chains.values() for d in _segment_ends(c)]
        self.sigs.write_bytes(orjson.dumps({d.key: d.signature for d in chosen}))
        return self.sigs

    def delete(self, digest: dg.Digest, with_logs: bool = True) -> None:
        self.path(digest.key).unlink()
        for key in digest.logs if with_logs else []:
            self.path(key).unlink()

    def run(self, **kw: Any) -> VerifyReport:
        return verify_tree(self.tree, **{"public_keys": [self.keys], "signatures": [self.sigs], **kw})


def build(tmp: Path, *, start: int = T0, hours: int = 5, stop: tuple[int, int] | None = None) -> Trail:
    """Hourly digests of each region from `start`, 2 logs an hour; `stop`=(stop, restart): logging
    off in between (each region's segment ends with the window holding the stop, then a restart)."""
    root = tmp / "dump" / BUCKET
    chains: dict[str, list[dg.Digest]] = {}
    logs: dict[str, list[dg.LogRef]] = {}
    end = start + hours * HOUR
    for region, offset in OFFSETS.items():
        refs = [
            write_log(root, start + h * HOUR + 420 + i * 1700, region=region)
            for h in range(hours)
            for i in range(2)
            if stop is None or not stop[0] <= start + h * HOUR + 420 + i * 1700 < stop[1]
        ]
        common: dict[str, Any] = dict(
            account=ACCOUNT,
            region=region,
            trail_name=TRAIL,
            home_region=REGION,
            bucket=BUCKET,
            offset=offset,
            private_key=aws_key(),
        )
        if stop is None:
            chain = dg.build_chain(root, refs, start=start, end=end, **common)
        else:
            first = dg.build_chain(root, [x for x in refs if x.delivered < stop[0]], start=start, end=stop[0], **common)
            chain = first + dg.build_chain(
                root, [x for x in refs if x.delivered >= stop[1]], start=stop[1], end=end, **common
            )
        chains[region], logs[region] = chain, refs
    meta = tmp / "meta"
    meta.mkdir()
    keys = meta / "keys.json"
    keys.write_bytes(orjson.dumps(dg.public_keys_document(aws_key().public_key(), start - 86400, start + 30 * 86400)))
    t = Trail(tmp / "dump", root, chains, logs, keys, meta / "sigs.json")
    t.sign()
    return t


def _segment_ends(chain: list[dg.Digest]) -> list[dg.Digest]:
    """The digests no later digest names (the newest, and the last before each restart)."""
    named = {orjson.loads(d.raw)["previousDigestS3Object"] for d in chain}
    return [d for d in chain if d.key not in named]


def test_clean_trail_is_silent(tmp_path: Path) -> None:
    t = build(tmp_path)
    r = t.run()
    assert r.findings == [] and r.exit_code == 0


# -- newest ------------------------------------------------------------------------------------------------
def test_newest_digest_and_its_logs_deleted_named_by_the_signatures_file(tmp_path: Path) -> None:
    t = build(tmp_path)
    victim = t.chains["eu-west-1"][-1]  # ends 14 min past: other regions' later digests are in the tree
    t.delete(victim)
    r = t.run()  # the signatures file, taken with the tree, still names it
    # MISSING; and NOT PROVEN: the digest now newest in eu-west-1 has no signature to check
    assert kinds(r, m.ERROR) == [m.DIGEST_MISSING] and r.exit_code == EXIT_MISSING | EXIT_UNCHECKED
    f = only(r, m.DIGEST_MISSING)
    assert f.details["position"] == "newest" and f.count == 1 and f.start == victim.start
    # two witnesses: the signatures file, and us-east-1/sa-east-1 digests ending after it (same schedule)
    assert [w["kind"] for w in f.details["witnesses"]] == ["sibling_regions", "signatures_file"]
    assert t.rel(victim.key) in f.files
    assert victim.key.rsplit("/", 1)[-1] in f.message and "eu-west-1" in (f.chain or "")
    assert not r.by_kind(m.SIGNATURE_ENTRY_UNUSED)
    (chain,) = [c for c in r.chains if c.region == "eu-west-1"]
    assert chain.digests_missing == 1 and chain.gaps[0][0] == victim.start


def test_newest_digest_of_the_bucket_named_by_the_signatures_file_is_missing(tmp_path: Path) -> None:
    # the newest digest of the whole bucket: no other region's digest is later, but the signatures
    # file captured with the tree names it (S3 metadata exists only for delivered objects)
    t = build(tmp_path)
    victim = t.chains["sa-east-1"][-1]
    t.delete(victim)
    r = t.run()
    assert kinds(r) == [m.DIGEST_MISSING, m.SIGNATURE_UNCHECKED] and r.exit_code == EXIT_MISSING | EXIT_UNCHECKED
    f = only(r, m.DIGEST_MISSING)
    assert f.details["witness"] == "signatures_file" and "signatures file names" in f.message
    assert [w["kind"] for w in f.details["witnesses"]] == ["signatures_file"] and t.rel(victim.key) in f.files
    # without that signature entry nothing in the tree tells it from a copy taken just before it came
    t.sign([c[-1] for region, c in t.chains.items() if region != "sa-east-1"] + [t.chains["sa-east-1"][-2]])
    r2 = t.run()
    assert kinds(r2) == [] and r2.exit_code == 0 and r2.result == ["OK"]


def test_two_newest_digests_deleted_count_is_two(tmp_path: Path) -> None:
    t = build(tmp_path)
    for d in t.chains["eu-west-1"][-2:]:
        t.delete(d)
    t.sign([c[-1] for r, c in t.chains.items() if r != "eu-west-1"] + [t.chains["eu-west-1"][-3]])
    r = t.run()
    f = only(r, m.DIGEST_MISSING)
    assert f.count == 2 and f.details["confirmed_by_other_chains"] and "(about 2:" in f.message
    assert r.summary.digests_missing == 2 and r.exit_code == EXIT_MISSING


# -- finding 6: a copy taken before the next digest was due -------------------------------------------------
def synced_at(t: Trail, when: int) -> None:
    """Remove what CloudTrail had not delivered at `when`; the signatures file lists what is left."""
    for region, chain in t.chains.items():
        for d in [d for d in chain if d.end > when]:
            t.path(d.key).unlink()
        t.chains[region] = [d for d in chain if d.end <= when]
        for x in t.logs[region]:
            if x.delivered > when:
                t.path(x.key).unlink()
    t.sign()


def test_fresh_copy_mid_hour_is_not_an_alarm(tmp_path: Path) -> None:
    t = build(tmp_path)
    synced_at(t, T0 + 3 * HOUR + 10 * 60)  # eu-west-1's next digest is due at 03:14, the others' later
    r = t.run()
    assert kinds(r, m.ERROR) == [] and r.exit_code == 0 and r.summary.digests_missing == 0
    maybe = r.by_kind(m.DIGEST_MAYBE_MISSING)
    assert {f.chain for f in maybe} == {c.chain for c in r.chains} and all(f.severity == m.WARNING for f in maybe)
    assert r.summary.logs_unproven == sum(f.details["log_files_after"] for f in maybe) > 0
    # signatures captured later than the tree, naming digests delivered after the copy, are taken
    # at their word (capture them with the tree): those digests are MISSING, the signatures file named
    everything = build(tmp_path / "full")
    t.sign([*(c[-1] for c in t.chains.values()), *(c[-1] for c in everything.chains.values())])
    later = t.run()
    assert kinds(later, m.ERROR) == [m.DIGEST_MISSING] * 3
    assert {f.details["witness"] for f in later.by_kind(m.DIGEST_MISSING)} == {"signatures_file"}


def test_logs_delivered_after_the_next_digest_was_due_prove_it_missing(tmp_path: Path) -> None:
    t = build(tmp_path)
    synced_at(t, T0 + 3 * HOUR + 10 * 60)
    late = write_log(t.root, T0 + 3 * HOUR + 14 * 60 + 8 + 20 * 60, region="eu-west-1", tag="late")  # 03:34
    r = t.run()
    assert r.exit_code == EXIT_MISSING
    by_region = {(f.chain or "").split(" ")[1]: f for f in r.by_kind(m.DIGEST_MISSING)}
    f = by_region["eu-west-1"]
    assert f.details["position"] == "newest" and f.details["witness"] == "log_files_after"
    assert t.rel(late.key) in f.files and f.count == 1
    # that log dates the whole copy after 03:34: the other regions, which logged after their newest
    # digests (due 03:25 and 03:27), are missing theirs too; the witness is the bucket's newest file
    for region in ("us-east-1", "sa-east-1"):
        g = by_region[region]
        assert [w["kind"] for w in g.details["witnesses"]] == ["log_files_after", "copy_newest_file"]
        assert g.count == 1 and t.rel(late.key) in g.details["witnesses"][1]["files"]


# -- the last digests before a restart ----------------------------------------------------------------------
STOP, RESTART = T0 + 2 * HOUR + 47 * 60, T0 + 3 * HOUR + 32 * 60


def test_restart_of_every_region_is_a_note(tmp_path: Path) -> None:
    t = build(tmp_path, stop=(STOP, RESTART))
    r = t.run()
    assert kinds(r) == [m.CHAIN_RESTART] * 3 and r.exit_code == 0


def test_last_digest_before_a_restart_deleted_with_its_logs(tmp_path: Path) -> None:
    t = build(tmp_path, stop=(STOP, RESTART))
    segment = [d for d in t.chains["eu-west-1"] if d.end <= RESTART]
    victim = segment[-1]  # 02:14 to 03:14: held the StopLogging call
    t.delete(victim)
    r = t.run()
    f = only(r, m.DIGEST_MISSING)
    # MISSING, and NOT PROVEN: the digest before the deleted one lost its only signature source
    assert f.details["position"] == "before_restart" and f.count == 1 and r.exit_code == EXIT_MISSING | EXIT_UNCHECKED
    assert f.details["witness"] == "sibling_regions"
    assert (f.start, f.end) == (victim.start, victim.end)
    assert "logging was on" in f.message
    # the hour it hid is not "validation off" but missing
    hours = {c.hour: c.state for c in r.coverage if c.region == "eu-west-1"}
    assert hours[T0 + 2 * HOUR] == m.MISSING_DIGEST
    (chain,) = [c for c in r.chains if c.region == "eu-west-1"]
    assert chain.digests_missing == 1 and chain.restarts == [RESTART]


# -- oldest ------------------------------------------------------------------------------------------------
def test_oldest_digest_and_its_logs_deleted(tmp_path: Path) -> None:
    t = build(tmp_path)
    victim = t.chains["us-east-1"][0]
    t.delete(victim)
    r = t.run()
    f = only(r, m.DIGEST_MISSING)
    assert f.details["position"] == "oldest" and f.count == 1 and f.end == victim.end and r.exit_code == EXIT_MISSING
    assert "other regions" in f.message


def test_three_oldest_digests_deleted(tmp_path: Path) -> None:
    t = build(tmp_path)
    for d in t.chains["sa-east-1"][:3]:
        t.delete(d)
    f = only(t.run(), m.DIGEST_MISSING)
    assert f.count == 3 and f.start == T0


def test_copy_of_whole_days_starting_mid_chain_is_a_note(tmp_path: Path) -> None:
    # logging ran since the day before; the responder copied only the folders of T0's day
    t = build(tmp_path, start=T0 - 3 * HOUR, hours=6)
    for region, chain in t.chains.items():
        for d in [d for d in chain if d.end < T0]:
            t.path(d.key).unlink()
        for x in t.logs[region]:
            if x.delivered < T0:
                t.path(x.key).unlink()
    r = t.run()
    # (the first digest of the day lists the previous evening's logs, which were not copied: log_missing)
    assert len(r.by_kind(m.CHAIN_STARTS_MID)) == 3 and not r.by_kind(m.DIGEST_MISSING)
    assert r.summary.digests_missing == 0
