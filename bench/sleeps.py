#!/usr/bin/env python3
"""Why each thread slept: the voluntary context switches of a `perf record -e sched:sched_switch -g`
recording, by thread group and by what the thread was in when it slept (its system call and, for a
wait on the disk, the kernel function that waited).

    sleeps.py PERF_DATA REQUESTS [SECONDS]

Per request when REQUESTS > 0 (the requests served while it recorded). A switch counts as a sleep
when the thread left the CPU in state S or D (a preemption leaves it runnable, R). Thread names are
the kernel's (15 characters), grouped with digits removed.
"""
import collections
import re
import subprocess
import sys

# Kernel functions that name what a sleep waited for, most specific first.
WAITS = ["blkdev_issue_flush", "__sync_dirty_buffer", "submit_bio_wait", "jbd2_log_wait_commit", "file_write_and_wait_range",
         "folio_wait_writeback", "wait_on_page_writeback", "filemap_write_and_wait_range", "__filemap_fdatawait_range",
         "futex_wait", "do_epoll_wait", "ep_poll", "do_nanosleep", "pipe_read", "unix_stream_read",
         "inet_csk_accept", "tcp_recvmsg", "do_select", "do_sys_poll", "io_schedule", "schedule_timeout"]


def main():
    data, requests = sys.argv[1], int(sys.argv[2])
    out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,tid,trace,ip,sym"], capture_output=True,
                         text=True).stdout
    counts = collections.Counter()
    threads = collections.defaultdict(set)
    for block in out.split("\n\n"):
        lines = [l for l in block.splitlines() if l.strip()]
        if not lines:
            continue
        head = lines[0]
        state = re.search(r"prev_state=(\S+)", head)
        if not state or state.group(1).startswith("R"):
            continue
        m = re.match(r"\s*(.+?)\s+(\d+)\s", head)
        if not m:
            continue
        group = re.sub(r"\d+", "#", m.group(1))
        threads[group].add(m.group(2))
        syms = [l.strip().split()[-1] for l in lines[1:]]
        syscall = next((s[len("__x64_sys_"):] for s in syms if s.startswith("__x64_sys_")), "-")
        wait = next((w for w in WAITS if w in syms), syms[0] if syms else "?")
        counts[(group, syscall, wait)] += 1
    per = requests if requests > 0 else 1
    print("| thread | threads | system call | waited in | sleeps/req |")
    print("|---|---|---|---|---|")
    for (group, syscall, wait), n in sorted(counts.items(), key=lambda kv: (-sum(
            v for k, v in counts.items() if k[0] == kv[0][0]), kv[0][0], -kv[1])):
        if n / per >= 0.005:
            print(f"| {group} | {len(threads[group])} | {syscall} | {wait} | {n / per:.3f} |")


if __name__ == "__main__":
    main()
