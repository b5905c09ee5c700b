#!/usr/bin/env python3
"""Builds the static site bench/run_static.sh serves: a 13-byte file, a 1 MiB and a 1 GiB
file, and the site mix — 200 files of 1 KiB to 1 MiB (sizes log-uniform; HTML, CSS, JS and
PNG) — with the request list wrk_site_mix.lua replays: 10,000 requests drawn with Zipf-like
popularity (the k-th most popular file weighs 1/k), 10% of them conditional (If-Modified-Since
with the file's own date, answered 304 by both servers). Seeded: every run is the same site."""
import email.utils
import os
import pathlib
import random
import sys

root = pathlib.Path(sys.argv[1])
requests_path = pathlib.Path(sys.argv[2])
rng = random.Random(20261204)
root.mkdir(parents=True, exist_ok=True)
(root / "hello.txt").write_bytes(b"Hello, World!")
(root / "1m.bin").write_bytes(rng.randbytes(1 << 20))
big = root / "1g.bin"
if not big.exists() or big.stat().st_size != 1 << 30:
    chunk = rng.randbytes(1 << 20)
    with open(big, "wb") as out:
        for _ in range(1024):
            out.write(chunk)

mix = root / "mix"
mix.mkdir(exist_ok=True)
names = []
for i in range(200):
    ext = ["html", "css", "js", "png"][i % 4]
    size = int(1024 * (1024 ** rng.random()))  # 1 KiB .. 1 MiB, log-uniform
    name = f"mix/f{i:03d}.{ext}"
    (root / name).write_bytes(rng.randbytes(size))
    names.append(name)
rng.shuffle(names)  # popularity rank unrelated to size or type
weights = [1 / (k + 1) for k in range(len(names))]
lines = []
for name in rng.choices(names, weights, k=10_000):
    conditional = ""
    if rng.random() < 0.10:
        date = email.utils.formatdate(os.stat(root / name).st_mtime, usegmt=True)
        conditional = f"If-Modified-Since: {date}"
    lines.append(f"/{name}\t{conditional}")
requests_path.write_text("\n".join(lines) + "\n")
