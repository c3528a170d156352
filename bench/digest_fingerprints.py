"""Every digest of a bench_digest.py dataset, fingerprinted: to check that a change to how
digests are composed leaves each one exactly as it was.

    .venv/bin/python bench/digest_fingerprints.py TARGET OUT.json [--channels 10000 --teams 1000]
    .venv/bin/python bench/digest_fingerprints.py --compare A.json B.json

TARGET is the SQLite file or PostgreSQL URL bench_digest.py loads (its set-up, same seed). Each
channel's digest of the bench's week is composed as the scheduler composes it (compose_many, a
page of 500 channels at a time) and its Reply's whole JSON (sources and their order included)
hashed with SHA-256; `--sample N` channels are also composed alone (compose(), one read each)
and compared field by field with the page's Reply, sources as a set, as the tests compare them
(floats to 1e-12: a batch read adds a campaign's figures in another order than one read of the
channel, so they may differ in the last bit, bot/store/digests.py says so; every text the
same).
Run it with one tree, then with another (PYTHONPATH=that tree), then `--compare`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


async def fingerprints(target: str, args: argparse.Namespace) -> dict:
    import bench_digest as bench

    from bot.digest import compose as composing
    from bot.store import open_store

    store = open_store(target)
    await store.open()
    w = bench.window()
    channels = bench.channels_of(args)
    digests = [composing.Digest(team=t, channel=c, window=w, week="W") for t, c in channels]
    out: dict[str, str] = {}
    started = time.perf_counter()
    for i in range(0, len(digests), bench.PAGE):
        page = digests[i : i + bench.PAGE]
        for d, reply in zip(page, await composing.compose_many(store, page), strict=True):
            text = reply.model_dump_json()
            out[f"{d.team}/{d.channel}"] = hashlib.sha256(text.encode()).hexdigest()
    took = time.perf_counter() - started
    rng = random.Random(3)
    alone_checked = 0
    for team, channel in rng.sample(channels, min(args.sample, len(channels))):
        d = composing.Digest(team=team, channel=channel, window=w, week="W")
        (together,) = await composing.compose_many(store, [d])
        alone = await composing.compose(store, team=team, channel=channel, window=w, week="W")
        a = together.model_dump(exclude={"sources"})
        b = alone.model_dump(exclude={"sources"})
        if not same(a, b) or sorted(map(repr, together.sources)) != sorted(
            map(repr, alone.sources)
        ):
            raise SystemExit(f"{team}/{channel}: the batch digest differs from compose()'s")
        alone_checked += 1
    await store.close()
    return {"digests": out, "compose_s": took, "checked_alone": alone_checked}


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)  # type: ignore[attr-defined,index]
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))  # type: ignore[arg-type]
    return a == b


def compare(a_path: str, b_path: str) -> None:
    a = json.loads(Path(a_path).read_text())["digests"]
    b = json.loads(Path(b_path).read_text())["digests"]
    if a.keys() != b.keys():
        raise SystemExit(f"different channels: {len(a)} against {len(b)}")
    differ = sorted(k for k in a if a[k] != b[k])
    print(
        f"{len(a):,} digests compared, {len(differ):,} differ" + (f": {differ[:10]}" * bool(differ))
    )
    if differ:
        raise SystemExit(1)


def main() -> None:
    import bench_digest as bench

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs=2)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--sample", type=int, default=50, help="channels also composed alone")
    known, rest = parser.parse_known_args()
    if known.compare:
        compare(*known.paths)
        return
    args = bench.parse(rest)
    args.sample = known.sample
    target, out = known.paths
    found = asyncio.run(fingerprints(target, args))
    Path(out).write_text(json.dumps(found, indent=0, sort_keys=True))
    print(
        f"{len(found['digests']):,} digests fingerprinted in {found['compose_s']:.1f} s,"
        f" {found['checked_alone']} also composed alone and equal; written to {out}"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
