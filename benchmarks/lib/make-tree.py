#!/usr/bin/env python3
"""Makes a benchmark tree of many small files, fast and reproducibly: make-tree.py DIR FILES FOLDERS MAXBYTES

Sizes 0..MAXBYTES; about a quarter of the files share their content with one or more others (duplicate
groups of a few copies each, as on a seedbox), the rest are unique. Writes DIR/.complete when done, so
a tree interrupted half-way is rebuilt, not benchmarked."""
import hashlib, os, random, sys

root, files, folders, maxbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if os.path.exists(os.path.join(root, ".complete")):
    sys.exit(0)
rnd = random.Random(12)
pool = max(1, files // 10)  # shared contents: 25% of files drawn from files/10 seeds, ~2.5 copies each
block = hashlib.sha512
for n in range(files):
    d = os.path.join(root, f"d{n % folders:05d}")
    if n < folders:
        os.makedirs(d, exist_ok=True)
    seed = n if rnd.random() >= 0.25 else files + rnd.randrange(pool)
    size = random.Random(seed).randint(0, maxbytes)
    data = b""
    h = block(seed.to_bytes(8, "little")).digest()
    while len(data) < size:
        data += h
        h = block(h).digest()
    fd = os.open(os.path.join(d, f"f{n:07d}.bin"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, data[:size])
    os.close(fd)
open(os.path.join(root, ".complete"), "w").close()
