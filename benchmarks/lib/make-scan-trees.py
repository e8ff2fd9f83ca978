#!/usr/bin/env python3
"""Makes the scan benchmark's trees under WORK, each only if missing: make-scan-trees.py WORK [large] [small] [many]

large: 4 x 512 MiB of random data; small: 50,000 files of 1-64 KiB in 50 x 10 nested folders;
many: 200,000 files of 1 KiB in 200 folders. With no names, all three."""
import os, random, sys

work = sys.argv[1]
wanted = set(sys.argv[2:]) or {"large", "small", "many"}
big = os.path.join(work, "large")
if "large" in wanted and not os.path.isdir(big):
    os.makedirs(big)
    for i in range(4):
        with open(os.path.join(big, f"f{i}.bin"), "wb") as f:
            for _ in range(512):
                f.write(os.urandom(1 << 20))
small = os.path.join(work, "small")
if "small" in wanted and not os.path.isdir(small):
    rnd = random.Random(1)
    for n in range(50_000):
        d = os.path.join(small, f"d{n % 50}", f"s{(n // 50) % 10}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{n}.dat"), "wb") as f:
            f.write(os.urandom(rnd.randint(1024, 64 * 1024)))
many = os.path.join(work, "many")
if "many" in wanted and not os.path.isdir(many):
    for n in range(200_000):
        d = os.path.join(many, f"d{n % 200}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{n}"), "wb") as f:
            f.write(n.to_bytes(8, "little") * 128)
