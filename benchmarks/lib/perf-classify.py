#!/usr/bin/env python3
"""Reads `perf script` output of a profiled scan on stdin and prints the share of CPU samples per category
(SQLite, stat, open/read/close, SHA-1, managed code, GC, thread hand-off ...) overall and per thread. A sample
falls in the first category any frame of its stack matches, so SQLite wins over the syscalls it makes."""
import sys, re, collections
# perf script output -> share of samples per category (the first matching rule, walking a stack leaf to root)
cat = collections.Counter(); bythread = collections.Counter(); total = 0
frame_re = re.compile(r'^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$')
def classify(comm, frames):
    syms = [s for s, d in frames]; dsos = [d for s, d in frames]
    text = ' '.join(syms)
    if any('e_sqlite3' in d for d in dsos): return 'SQLite: user-space (B-tree, pager, WAL)'
    if re.search(r'__libc_pwrite|__libc_pread|__x64_sys_pwrite64|__x64_sys_pread64', text): return 'SQLite: pwrite64/pread64 (WAL and page I/O)'
    if re.search(r'page_cache_ra|read_pages|ext4_mpage_readpages', text): return 'read: page-cache misses (disk reads)'
    if re.search(r'fdatasync|__x64_sys_fsync|writepages|virtio|blk_mq|filemap_fdatawrite', text): return 'SQLite: fsync / writeback to disk'
    if any('libcrypto' in d for d in dsos) or re.search(r'SHA1|sha1_block', text): return 'SHA-1 (libcrypto)'
    for pat, name in ((r'__x64_sys_getdents64|getdents', 'directory listing (getdents64)'),
                      (r'__x64_sys_statx|\bstatx\b|newfstatat|__x64_sys_newfstat', 'stat (statx/fstat)'),
                      (r'__x64_sys_openat|__libc_open|\bopen64\b|do_sys_open', 'open'),
                      (r'__x64_sys_read\b|ksys_read|\bread\b|__libc_read', 'read'),
                      (r'__x64_sys_close|__close|\bclose\b', 'close'),
                      (r'sched_yield|__x64_sys_futex|futex|pthread_cond|SpinWait|Thread.*Yield|Monitor|Semaphore|Channel', 'thread hand-off (futex, sched_yield, waits)'),
                      (r'__schedule|finish_task_switch|schedule\b', 'context switches (scheduler)'),
                      (r'page_fault|exc_page_fault|do_anonymous_page', 'page faults'),
                      (r'WKS::|SVR::|gc_heap|GCHeap|Alloc|JIT_New|memset', 'GC and allocation (coreclr)')):
        if re.search(pat, text): return name
    if any('perf-' in d or 'doublemapper' in d or '.dll' in d for d in dsos[:1]) or (syms and syms[0] == '[unknown]'):
        for sym in syms:  # the innermost frame that says whose work it is
            if re.search(r'Microsoft\.Data\.Sqlite|SQLitePCL', sym): return 'SQLite: managed binding (Microsoft.Data.Sqlite)'
            if re.search(r'BlockingCollection|SemaphoreSlim|SpinWait|Monitor::|::Yield|Channel', sym): return 'thread hand-off (futex, sched_yield, waits)'
            if re.search(r'IncrementalHash|SHA1|HashProvider', sym): return 'SHA-1 (managed wrapper)'
            m = re.search(r'\] (Hashall\.[A-Za-z.]+)::', sym)
            if m: return 'managed: ' + m.group(1).rsplit('.', 1)[-1] if False else 'managed: ' + m.group(1)
            if 'System.Management.Automation' in sym: return 'managed: PowerShell engine'
        return 'managed code (JIT-compiled, other)'
    if syms and re.match(r'__mem(set|cmp|move|cpy)', syms[0]): return 'libc memset/memcmp/memmove (caller not unwound)'
    if any('libclrjit' in d for d in dsos): return 'JIT compiler'
    if any('coreclr' in d for d in dsos[:1]): return 'runtime (coreclr, other)'
    if frames and 'kernel' in frames[0][1]: return 'kernel, other (interrupts, scheduler)'
    return 'other'
comm = None; frames = []
def flush():
    global total
    if comm is None: return
    c = classify(comm, frames); cat[c] += 1; bythread[(comm, c)] += 1; total += 1
for line in sys.stdin:
    if not line.strip():
        flush(); comm = None; frames = []; continue
    if not line.startswith((' ', '\t')):
        flush(); frames = []
        comm = line.split()[0] if not line.startswith('Pipeline') else 'Pipeline'
        if line.startswith('.NET'): comm = ' '.join(line.split()[:3])
        continue
    m = frame_re.match(line)
    if m: frames.append((m.group(1), m.group(2)))
flush()
print(f'{total} samples')
for c, n in cat.most_common(): print(f'{100*n/total:5.1f}%  {c}')
print()
threads = collections.Counter()
for (t, c), n in bythread.items(): threads[t] += n
for t, n in threads.most_common(4):
    print(f'{t}: {100*n/total:.1f}%  ->  ' + ', '.join(f'{c} {100*m/total:.1f}%' for (tt, c), m in sorted(bythread.items(), key=lambda x: -x[1]) if tt == t and m / total > float(__import__("os").environ.get("MINSHARE", "0.01"))))
