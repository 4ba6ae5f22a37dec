#!/usr/bin/env python3
"""Where one process's CPU goes, from `perf script` output (BENCHMARKS.md,
"Issue 21, round 3"): each sample is put in the first category one of its
stack frames matches, in the order below, so a SQLite write's fsync counts
as SQLite and an HTTP request the plugin makes counts as plugin.

    perf script -i perf.data -F pid,ip,sym,dso | python3 perf_split.py PID
"""

import collections
import re
import sys

CATEGORIES = [
    ("plugin (wasm code and the host calls it makes)", r"\.cwasm"),
    ("SQLite", r"sqlite3|rusqlite|btree|wal[A-Z]|pager|Vdbe"),
    ("fsync", r"fsync|ext4_sync"),
    ("file read/write", r"vfs_write|vfs_read|ext4_|pwrite|pread|fcntl|posix_lock"),
    ("network", r"tcp_|inet_|sock_|ureq|recv|send|connect"),
    ("malloc", r"malloc|free|realloc"),
    ("wasmtime", r"wasmtime"),
    ("scheduling", r"futex|schedule|finish_task_switch|nanosleep"),
    ("page faults, mmap", r"page_fault|mmap|munmap|madvise"),
]


def samples(lines):
    """(pid, frames) per sample: a header line with the pid, then frames."""
    pid, frames = None, []
    for line in lines:
        text = line.strip()
        if not text:
            if pid is not None:
                yield pid, frames
            pid, frames = None, []
        elif pid is None:
            pid = text.split()[0]
        else:
            frames.append(text)
    if pid is not None:
        yield pid, frames


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: perf script -F pid,ip,sym,dso | perf_split.py PID")
    want = sys.argv[1]
    counts = collections.Counter()
    total = 0
    for pid, frames in samples(sys.stdin):
        if pid != want:
            continue
        total += 1
        stack = " ".join(frames)
        for name, pattern in CATEGORIES:
            if re.search(pattern, stack):
                counts[name] += 1
                break
        else:
            counts["other"] += 1
    if total == 0:
        sys.exit(f"no samples of process {want}")
    print(f"{total} samples of process {want}")
    for name, n in counts.most_common():
        print(f"  {name:<48} {n:>6}  {100 * n / total:5.1f}%")


if __name__ == "__main__":
    main()
