"""Where a warm request's CPU goes: groups the samples of a `perf record
--call-graph dwarf` profile of a function (see BENCHMARKS.md) by area.

    perf script -i perf.data --no-inline -F comm,ip,sym,dso | \
        python3 tools/bench/perf_areas.py [--comm redner]

Each sample is charged to one area:
- the kernel, when the sampled instruction is in it (syscalls: the
  sockets to the Runtime API and to SQS, epoll, scheduling);
- allocation, when it is in malloc, free or realloc (glibc);
- otherwise the owner found nearest the sampled instruction up its stack:
  hookgate (its request adapter, pipeline, envelope and log record); the
  SDK's send (aws_sdk_sqs, aws_smithy_*, aws_sigv4,
  aws_runtime, rustls/aws-lc); the runtime client and event decoding
  (lambda_runtime, lambda_http, aws_lambda_events, and hookgate::run, the
  invocation loop the runtime client is inlined into); code no owner calls
  (tokio's scheduler, hyper's connection tasks, which serve both the
  Runtime API and SQS connections) is grouped by its own crate.

Prints a Markdown table, and with --top the heaviest symbols of each area
and, for hookgate, the share of each of its functions (the hookgate frame
nearest the sampled instruction).
"""

import argparse
import re
import sys
from collections import Counter, defaultdict

KERNEL = "kernel"
ALLOC = "allocation (malloc, free, realloc)"
# Owners, nearest first wins; the order only matters within one frame.
OWNERS = [
    ("SDK send (aws_sdk_sqs, aws_smithy_*, aws_sigv4, aws_runtime, rustls/aws-lc)",
     re.compile(r"aws_sdk_|aws_smithy|aws_sigv4|aws_runtime|aws_types|aws_credential_types"
                r"|aws_config|rustls|aws_lc")),
    # hookgate::run is the invocation loop around lambda_runtime, whose
    # client code is inlined into it.
    ("runtime client and event decoding (lambda_runtime, lambda_http, aws_lambda_events)",
     re.compile(r"lambda_runtime|lambda_http|aws_lambda_events|^hookgate::run::")),
    ("hookgate (request pipeline, envelope, record)", re.compile(r"hookgate")),
]
# Code no owner is found for, by the crate of the sampled symbol.
LEAF_AREAS = [
    ("async runtime (tokio), no owner on the stack", re.compile(r"tokio")),
    ("HTTP (hyper, h2, http), no owner on the stack", re.compile(r"hyper|\bh2::|\bhttp::|http_body")),
    ("JSON (serde, serde_json), no owner on the stack", re.compile(r"serde")),
    ("libc (memcpy, memmove, ...)", re.compile(r"libc|ld-linux|__mem|memcpy|memmove|memset|strlen")),
]
ALLOC_RE = re.compile(r"^(__libc_)?(malloc|free|realloc|calloc|cfree)\b|^_int_(malloc|free|realloc)"
                      r"|^malloc_consolidate|^tcache_|^__rust_(alloc|dealloc|realloc)"
                      r"|^unlink_chunk|^sysmalloc|^__default_morecore|^alloc_perturb")

FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")


def samples(lines, comm):
    """Yields the frames (symbol, dso), leaf first, of each sample of comm."""
    header, frames = None, []
    for line in lines:
        if not line.strip():
            if header is not None and (comm is None or header.split()[0] == comm):
                yield frames
            header, frames = None, []
            continue
        if header is None:
            header = line
            continue
        m = FRAME.match(line)
        if m:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(2))
            frames.append((sym, m.group(3)))
    if header is not None and (comm is None or header.split()[0] == comm):
        yield frames


def area_of(frames):
    if not frames:
        return "unknown", "?"
    leaf, dso = frames[0]
    if "kernel" in dso or dso.startswith("[") and dso != "[unknown]":
        return KERNEL, leaf
    if ALLOC_RE.search(leaf):
        return ALLOC, leaf
    for sym, _ in frames:
        for name, pattern in OWNERS:
            if pattern.search(sym):
                return name, leaf
    for name, pattern in LEAF_AREAS:
        if pattern.search(leaf) or pattern.search(dso):
            return name, leaf
    return "other", leaf


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--comm", default=None, help="only samples of this command")
    ap.add_argument("--top", type=int, default=0, help="list the heaviest symbols of each area")
    args = ap.parse_args()
    areas = Counter()
    symbols = defaultdict(Counter)
    hookgate_fns = Counter()
    for frames in samples(sys.stdin, args.comm):
        area, leaf = area_of(frames)
        areas[area] += 1
        symbols[area][leaf] += 1
        if area.startswith("hookgate"):
            hookgate_fns[next(s for s, _ in frames if "hookgate" in s)] += 1
    total = sum(areas.values())
    if not total:
        sys.exit("no samples")
    print(f"| area | samples | share |\n|---|---|---|")
    for area, n in areas.most_common():
        print(f"| {area} | {n} | {100 * n / total:.1f} % |")
    print(f"| all | {total} | 100 % |")
    if args.top:
        for area, _ in areas.most_common():
            print(f"\n{area}:")
            for sym, n in symbols[area].most_common(args.top):
                print(f"  {100 * n / total:5.1f} %  {sym[:140]}")
        print("\nhookgate, by its function nearest the sample:")
        for sym, n in hookgate_fns.most_common(args.top):
            print(f"  {100 * n / total:5.1f} %  {sym[:140]}")


if __name__ == "__main__":
    main()
