#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into fuzz/corpus/<target>/ from the
repository's sample bodies (samples/; for a provider without
samples/<slug>.json, the sample its module gives the registry) and signed
API Gateway events (events/). Run once before the first fuzzing run;
`make fuzz` keeps the corpus it grows. Input formats:
fuzz/logic/src/input.rs and each target's doc comment. A `*` in a
credential line stands for the valid credential.

The providers, in registry order, come from `hookgate providers --json`
(scripts/registry.py: it builds the CLI with cargo, or uses $HOOKGATE_CLI);
the header-parser seeds name the providers whose header format each parser
reads."""

import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
sys.path.insert(0, str(ROOT / "scripts"))
import registry  # noqa: E402


def write(target, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    # libFuzzer names corpus files by SHA-1 of their content.
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def samples(provider):
    """The provider's sample bodies: samples/<slug>/*, then its main sample,
    samples/<slug>.json or else the registry's sample."""
    main = ROOT / "samples" / f"{provider}.json"
    if main.exists():
        main_body = main.read_bytes()
    else:
        main_body = next(p for p in REGISTRY if p["slug"] == provider)["sample"].encode()
    return [p.read_bytes() for p in sorted((ROOT / "samples" / provider).glob("*"))] + [main_body]


def events(provider):
    out = []
    for p in sorted((ROOT / "events" / provider).glob("*.json")):
        ev = json.loads(p.read_text())
        body = (ev.get("body") or "").encode()
        if ev.get("isBase64Encoded"):
            import base64

            body = base64.b64decode(body)
        out.append((ev, body))
    return out


def line(*parts):
    return b"\n".join(p if isinstance(p, bytes) else p.encode() for p in parts)


REGISTRY = registry.providers()
PROVIDERS = [p["slug"] for p in REGISTRY]
NOW = 1763901296


def local_credential(slug):
    """The first of env.json's values of the provider's credential variable."""
    p = next(p for p in REGISTRY if p["slug"] == slug)
    env = json.loads((ROOT / "env.json").read_text())
    return env[registry.logical_id(p)][p["variable"]].split(",")[0]


def pick(index, second_style=False):
    """The payload target's flags byte for the provider at `index`: bits
    0-1, then 4-7, the index; bit 2 the provider's second style."""
    return bytes([(index & 3) | ((index >> 2) << 4) | (4 if second_style else 0)])


TOKEN = local_credential("namirial")

# Header parsers.
for body in samples("panjaya"):
    write("es256_header", bytes([0x05]) + line("*", "ES256", body))
    write("es256_header", bytes([0x02]) + line("*", "", body))
    write("es256_header", bytes([0x04]) + line(" * ", "HS256", body))
for ev, body in events("panjaya"):
    h = ev["headers"]
    write("es256_header", bytes([0x04]) + line(h.get("x-signature", ""), h.get("x-signature-algorithm", ""), body))

for body in samples("redner"):
    write("hmac_header", bytes([0x01]) + line("sha256=*", body))
    write("hmac_header", bytes([0x03]) + line("SHA256=*", body))
for body in samples("syncso"):
    for enc in range(4):
        write("hmac_header", bytes([enc << 1]) + line("*", body))
    write("hmac_header", bytes([0x04]) + line("sha256=*", body))
for ev, body in events("redner"):
    write("hmac_header", bytes([0x01]) + line(ev["headers"].get("x-redner-signature", ""), body))

for body in samples("syncso"):
    write("timestamped_header", bytes([0]) + line(f"t={NOW},v1=*", body))
    write("timestamped_header", bytes([0]) + line(f"t={NOW - 10},v1=00,v1=*,v2=x", body))
    write("timestamped_header", bytes([0]) + line(f"v1=*, t={NOW}", body))
for ev, body in events("syncso"):
    if "sync-signature" in ev["headers"]:
        write("timestamped_header", bytes([0]) + line(ev["headers"]["sync-signature"], body))

for body in samples("namirial"):
    cfg = (f"{TOKEN},another-token-0123456789", "203.0.113.0/24,2001:db8::/32,198.51.100.7")
    write("namirial_token", bytes([0]) + line("token=*", "", "203.0.113.9", *cfg, body))
    write("namirial_token", bytes([0x03]) + line("a=b", "*", "::ffff:203.0.113.9", *cfg, body))
    write("namirial_token", bytes([0x02]) + line("x=1&token=*&y=2", "", "2001:db8::1", "short", "10.0.0.1/8", body))
for ev, body in events("namirial"):
    write("namirial_token", bytes([0]) + line(ev.get("rawQueryString", ""), "", "203.0.113.9", "", "", body))

# Payloads.
for i, p in enumerate(REGISTRY):
    for body in samples(p["slug"]):
        write("json_strict", body)
        write("payload", pick(i) + body)
        if len(p["styles"]) > 1:
            write("payload", pick(i, second_style=True) + body)
    for _, body in events(p["slug"]):
        write("json_strict", body)
        write("payload", pick(i) + body)
for f in sorted((ROOT / "samples" / "invalid").glob("*")):
    write("json_strict", f.read_bytes())
    for i in range(len(REGISTRY)):
        write("payload", pick(i) + f.read_bytes())
write("json_strict", b'{"a":1,"a":2}')
write("json_strict", b"\xef\xbb\xbf{}")
write("json_strict", b"[" * 65 + b"]" * 65)


# Whole requests.
def request(ev, body, extra=()):
    target = ev.get("rawPath", "/")
    if ev.get("rawQueryString"):
        target += "?" + ev["rawQueryString"]
    method = ev["requestContext"]["http"]["method"]
    headers = [f"{k}: {v}" for k, v in ev["headers"].items()] + list(extra)
    return line(f"{method} {target}", *headers, "", body)


for p in PROVIDERS:
    for ev, body in events(p):
        write("pipeline", bytes([0x17]) + request(ev, body))
        write("lambda_event", bytes([0x16]) + request(ev, body))
    ev, body = events(p)[0]
    write("lambda_event", bytes([0x17]) + request(ev, body))
    # Caller-controlled Host and X-Forwarded-Proto that are no URI authority
    # or scheme: lambda_http's conversion panicked on these.
    bad = dict(ev, headers={k: v for k, v in ev["headers"].items() if k not in ("host", "x-forwarded-proto")})
    write("lambda_event", bytes([0x16]) + request(bad, body, ["host: exa mple.com"]))
    write("lambda_event", bytes([0x16]) + request(bad, body, ["host: example.999"]))
    write("lambda_event", bytes([0x16]) + request(bad, body, ["x-forwarded-proto: ht tp", "host: example.com"]))
