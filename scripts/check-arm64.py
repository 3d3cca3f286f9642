"""Exits non-zero unless every file given is a 64-bit little-endian arm64
(aarch64) ELF executable, as Lambda's arm64 architecture runs: the check
`make sam-build` makes of SAM's artifacts. Reads the ELF header itself, so
it needs neither `file` nor `readelf`."""

import struct
import sys

EM_AARCH64 = 183
ET_EXEC, ET_DYN = 2, 3


def problem(path):
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError as e:
        return str(e)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return "not an ELF file"
    if header[4] != 2 or header[5] != 1:
        return "not a 64-bit little-endian ELF file"
    kind, machine = struct.unpack_from("<HH", header, 16)
    if kind not in (ET_EXEC, ET_DYN):
        return f"not an executable (e_type {kind})"
    if machine != EM_AARCH64:
        return f"built for machine {machine}, not arm64 ({EM_AARCH64})"
    return None


def main():
    paths = sys.argv[1:]
    if not paths:
        sys.exit("usage: check-arm64.py <file>...")
    failed = False
    for path in paths:
        why = problem(path)
        print(f"{path}: {why or 'arm64 ELF executable'}")
        failed |= why is not None
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
