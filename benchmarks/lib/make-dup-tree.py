#!/usr/bin/env python3
"""The link and clone benchmarks' tree: 20,000 files of 1-64 KiB in 400 nested folders under TOP,
30% of them copies of earlier files. The same bytes every run (seeded), so figures compare."""
import os, random, sys

top = sys.argv[1]
rnd = random.Random(7)
originals = []
for n in range(20_000):
    d = os.path.join(top, f"d{n % 40}", f"s{(n // 40) % 10}")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"f{n}.dat")
    if n >= 1000 and rnd.random() < 0.30:
        with open(rnd.choice(originals), "rb") as src:
            data = src.read()
    else:
        data = rnd.randbytes(rnd.randint(1024, 64 * 1024))
        originals.append(path)
    with open(path, "wb") as f:
        f.write(data)
