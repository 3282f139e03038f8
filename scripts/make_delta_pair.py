#!/usr/bin/env python3
"""A rootfs-like old/new image pair for the delta encoder's scaling bench.

usage: scripts/make_delta_pair.py SIZE_MIB OLD NEW [--seed N]

old: real files of this machine's /usr/bin and /usr/lib/x86_64-linux-gnu
     (regular files of 1 B..2 MiB, each tree walked in sorted order, the two
     lists taken alternately), concatenated and cut at SIZE_MIB MiB.
new: old with, from a fixed seed, 2 % of the files replaced by the next
     unused files of the lists (an upgraded package), about 1 % of the bytes
     overwritten in patches of 1..16 random bytes, and 8 insertions and 8
     deletions of 1..8 KiB at random places.

The same machine, size and seed give the same bytes; the SHA-256 of both
files is printed so a run can be compared with bench/RESULTS.md.
"""
import argparse
import hashlib
import os
import random

ROOTS = ["/usr/bin", "/usr/lib/x86_64-linux-gnu"]
MAX_FILE = 2 << 20


def files_under(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            if 0 < os.path.getsize(path) <= MAX_FILE:
                out.append(path)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("size_mib", type=int)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--seed", type=int, default=21)
    args = ap.parse_args()
    size = args.size_mib << 20

    lists = [files_under(r) for r in ROOTS]
    paths = [p for pair in zip(*lists) for p in pair]
    contents, total, i = [], 0, 0
    while total < size:
        with open(paths[i], "rb") as f:
            data = f.read()[: size - total]
        contents.append(data)
        total += len(data)
        i += 1
    spare = iter(paths[i:])
    old = b"".join(contents)

    rng = random.Random(args.seed)
    new_files = []
    for data in contents:
        if rng.random() < 0.02:
            with open(next(spare), "rb") as f:
                data = f.read()
        new_files.append(data)
    new = bytearray(b"".join(new_files))
    changed = 0
    while changed < len(new) // 100:
        n = rng.randint(1, 16)
        at = rng.randrange(len(new) - n)
        new[at : at + n] = rng.randbytes(n)
        changed += n
    for _ in range(8):
        at = rng.randrange(len(new))
        new[at:at] = rng.randbytes(rng.randint(1024, 8192))
        at = rng.randrange(len(new) - 8192)
        del new[at : at + rng.randint(1024, 8192)]

    for path, data in ((args.old, old), (args.new, new)):
        with open(path, "wb") as f:
            f.write(data)
        print(f"{path}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
