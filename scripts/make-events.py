#!/usr/bin/env python3
"""Writes env.json and events/<provider>/*.json: API Gateway HTTP API
(payload 2.0) events for every sample payload, signed with the local test
credentials below, plus invalid-*.json events that each function must refuse
with its 4xx, and quarantine-*.json events: authenticated deliveries that
cannot be normalized, which a function with a quarantine queue keeps and
answers 200. It also writes the provider lists of the JSON Schemas in
schemas/ (envelope.schema.json and quarantine.schema.json): data.provider's
enum, and the slugs in the `source` pattern (and in envelope's `type`
pattern), in registry order.

The providers, and what each needs, come from the library's registry as
the CLI prints it (`hookgate providers --json`, read by scripts/registry.py),
so a provider added to the library needs no edit here. For each provider:

- valid events: samples/<slug>/<name>.json becomes <name>.json. The main
  sample, samples/<slug>.json, becomes sample.json unless a file of
  samples/<slug>/ holds the same bytes (its event then stands for it: that
  is how the main sample's event gets its name, e.g. job-completed). A
  provider needs no sample files: without samples/<slug>.json the main
  sample is the one its module gives the registry (`sample`), used exactly
  as a file would be (sample.json, the styles, the invalid events below);
  nothing is written into samples/.
- each signing style beyond the usual one: the main sample signed in that
  style, <main sample's event name>-<style>.json; a style that needs a
  setting (`requires`) env.json leaves at the template's default gives
  invalid-<style>-style.json instead, which the function refuses.
- invalid-wrong-method (405), invalid-unsigned (401), and
  quarantine-not-json and quarantine-missing-fields (200, quarantined) for
  every provider; invalid-wrong-credential (401) for a shared secret or
  token; invalid-forged-body (401: the main sample with `"forged": true,`
  added after its first `{`, delivered under the original's signature)
  where the credential covers the body; invalid-stale-signature (401:
  signed in 2001) where the signature carries a time.

The signing is the hookgate CLI's (`hookgate event`), which uses the
library's own signing code, so these files cannot drift from what the
functions verify. Run from anywhere:

    python3 scripts/make-events.py

It builds the CLI with cargo (or uses $HOOKGATE_CLI). The output is stable
except ES256 signatures (Panjaya's): ECDSA signing is randomised, so every
run writes new (equally valid) ones.

The credentials are LOCAL TEST values, for env.json, `make run` and the test
suite only: never configure a deployed function with them. A shared secret
is local-<slug>-secret, a token local-<slug>-token-0123456789 (tokens need 16
characters), and a provider that signs with a private key gets the TEST-ONLY
key pair in shared/tests/fixtures/panjaya/ (the private half for the CLI, the
public half in env.json).

A provider whose signature carries a time (sync.so) has its function refuse
one older than its window (SYNCSO_TOLERANCE_SECONDS, 300 by default). A
sample event is a fixed file with a fixed time, so env.json widens that
window to ten years for the local function; that is what lets a file signed
once keep working. A deployed function must keep the default (or another
few minutes): a wide window lets anyone who saw one delivery replay it for
as long.
"""

import json
import pathlib
import re
import subprocess
import sys
import tempfile

import registry

ROOT = registry.ROOT

TEST_PRIVATE_KEY = "shared/tests/fixtures/panjaya/TEST-ONLY-private-key.pem"
TEST_PUBLIC_KEY = "shared/tests/fixtures/panjaya/TEST-ONLY-public-key.pem"
# A different credential of each shared kind, for invalid-wrong-credential
# (a provider that signs with a key has none).
WRONG = {"secret": "not-the-local-secret", "token": "not-the-local-token-0123456789"}
# Ten years: see the module notes. Never in production.
TEN_YEARS = 10 * 365 * 24 * 3600
# 2025-11-23T12:34:56Z: the receipt time of every event, and the signed time.
AT = 1763901296
# 2001-09-09T01:46:40Z: outside even the local ten-year window.
STALE = 1000000000
# The queue `make run` creates; tests and `sam local invoke` override it.
LOCAL_QUEUE = "http://127.0.0.1:9324/123456789012/hookgate-events"
LOCAL_SQS = "http://127.0.0.1:9324"
LOCAL_QUARANTINE = "http://127.0.0.1:9324/123456789012/hookgate-quarantine"


def local_credential(p):
    """The local secret or token of provider p (None for a key)."""
    kind, slug = p["credential"], p["slug"]
    if kind == "secret":
        return f"local-{slug}-secret"
    if kind == "token":
        return f"local-{slug}-token-0123456789"
    if kind == "key":
        return None
    sys.exit(f"{slug}: unknown credential kind {kind!r}")


def timestamp(p, t):
    return ["--timestamp", str(t)] if p["signed_time"] else []


def credential(p):
    """The CLI flag and value of p's local credential."""
    return [p["flag"], TEST_PRIVATE_KEY if p["credential"] == "key" else local_credential(p)]


def signing(p):
    """The CLI flags that sign as p with the local credentials."""
    return credential(p) + timestamp(p, AT)


def main_sample(p, tmp):
    """The path of provider p's main sample: samples/<slug>.json, relative
    to the repository, or else the registry's sample written into the
    directory tmp."""
    path = f"samples/{p['slug']}.json"
    if (ROOT / path).exists():
        return path
    if not p.get("sample"):
        sys.exit(f"{p['slug']}: no {path} and no sample in the registry")
    written = pathlib.Path(tmp) / f"{p['slug']}-sample.json"
    written.write_bytes(p["sample"].encode())
    return str(written)


def valid_cases(p, sample):
    """(event file, payload, flags) for provider p's valid events; sample is
    the main sample's path."""
    main = ROOT / sample
    main_name = None
    cases = []
    for f in sorted((ROOT / "samples" / p["slug"]).glob("*.json")):
        cases.append((f.stem, str(f.relative_to(ROOT)), []))
        if main_name is None and f.read_bytes() == main.read_bytes():
            main_name = f.stem
    if main_name is None:
        main_name = "sample"
        cases.append((main_name, sample, []))
    for style in p["styles"][1:]:
        if not style["requires"]:
            cases.append((f"{main_name}-{style['name']}", sample,
                          ["--style", style["name"]]))
    return cases


def invalid_cases(p, sample, forged):
    """(event file, expected status, payload, flags, credentials?) for
    provider p; sample is the main sample's path."""
    cases = [
        ("invalid-wrong-method", 405, sample, ["--method", "GET"], True),
        ("invalid-unsigned", 401, sample, ["--unsigned"], False),
        # Authenticated but unusable: kept in quarantine (200) when the
        # function has a quarantine queue, else 400 and 422.
        ("quarantine-not-json", 200, "samples/invalid/not-json.txt",
         ["--content-type", "text/plain"], True),
        ("quarantine-missing-fields", 200, "samples/invalid/empty-object.json", [], True),
    ]
    if p["credential"] in WRONG:
        cases.append(("invalid-wrong-credential", 401, sample,
                      [p["flag"], WRONG[p["credential"]]] + timestamp(p, AT), False))
    if p["covers_body"]:
        # A token does not cover the body: only a signature detects a
        # changed body.
        cases.append(("invalid-forged-body", 401, sample, ["--forge-body", forged], True))
    if p["signed_time"]:
        cases.append(("invalid-stale-signature", 401, sample,
                      credential(p) + timestamp(p, STALE), False))
    for style in p["styles"][1:]:
        if style["requires"]:
            # Accepted only with a setting env.json leaves at its default.
            cases.append((f"invalid-{style['name']}-style", 401, sample,
                          ["--style", style["name"]], True))
    return cases


def event(binary, p, payload, flags, with_credentials=True):
    args = [binary, "event", p["slug"], payload, "--at", str(AT)]
    if with_credentials:
        args += signing(p)
    args += flags
    out = subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


# The order API Gateway writes an event in, for people reading the files.
ORDER = ["version", "routeKey", "rawPath", "rawQueryString", "headers", "requestContext",
         "body", "isBase64Encoded"]


def write(path, value):
    if isinstance(value, dict) and "routeKey" in value:
        value = {k: value[k] for k in ORDER if k in value} | value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def declared(template, logical_id):
    """The variable names template.yaml's `logical_id` resource (and its
    Globals) declares, read from the text: UPPER_CASE keys of its block."""
    own = re.search(rf"(?ms)^  {logical_id}:\n.*?(?=^ {0,2}\S|\Z)", template)
    if not own:
        sys.exit(f"template.yaml has no {logical_id}")
    globals_ = re.search(r"(?ms)^Globals:\n.*?(?=^\S|\Z)", template)
    text = own.group(0) + (globals_.group(0) if globals_ else "")
    return set(re.findall(r"(?m)^\s+([A-Z][A-Z0-9_]*):", text))


def env_json(providers):
    # Every key is one the template declares for that function (SAM passes
    # only those; tests/tests/it/template.rs checks it). The secret ids are
    # blanked: SAM resolves the template's `!Ref <Secret>` to the logical id,
    # and a function given both a value and a secret id refuses to start.
    # Settings a signing style requires are left at the template's default.
    template = (ROOT / "template.yaml").read_text()
    config = {}
    for p in providers:
        if p["credential"] == "key":
            value = (ROOT / TEST_PUBLIC_KEY).read_text()
        else:
            value = local_credential(p)
        variables = {
            "QUEUE_URL": LOCAL_QUEUE,
            "QUARANTINE_QUEUE_URL": LOCAL_QUARANTINE,
            "AWS_ENDPOINT_URL_SQS": LOCAL_SQS,
            p["variable"]: value,
        }
        if p["signed_time"]:
            variables[p["signed_time"]] = str(TEN_YEARS)
        for var in p["secret_variables"]:
            variables[f"{var}_SECRET_ID"] = ""
        logical_id = registry.logical_id(p)
        undeclared = set(variables) - declared(template, logical_id)
        if undeclared:
            sys.exit(f"template.yaml's {logical_id} does not declare {sorted(undeclared)}")
        config[logical_id] = variables
    return config


# The schemas' provider lists: (file, [(JSON path, value from the slugs)]).
SCHEMAS = [
    ("schemas/envelope.schema.json", [
        (["properties", "source", "pattern"], lambda alt: f"^hookgate/({alt})$"),
        (["properties", "type", "pattern"], lambda alt: f"^({alt})\\..+$"),
        (["properties", "data", "properties", "provider", "enum"], None),
    ]),
    ("schemas/quarantine.schema.json", [
        (["properties", "source", "pattern"], lambda alt: f"^hookgate/({alt})$"),
        (["properties", "data", "properties", "provider", "enum"], None),
    ]),
]


def write_schemas(providers):
    """Sets the schemas' provider lists to the registry's slugs. Each value
    is replaced where it stands in the text, so the files keep their
    hand-made layout; the result must parse to the schema with just those
    values changed."""
    slugs = [p["slug"] for p in providers]
    for slug in slugs:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", slug):
            sys.exit(f"{slug!r}: a slug the schemas' patterns cannot name as it is")
    alt = "|".join(slugs)
    for name, values in SCHEMAS:
        path = ROOT / name
        text = path.read_text()
        schema = json.loads(text)
        for keys, make in values:
            parent = schema
            for key in keys[:-1]:
                parent = parent[key]
            old, new = parent[keys[-1]], slugs if make is None else make(alt)
            parent[keys[-1]] = new
            if old == new:
                continue
            before = f"{json.dumps(keys[-1])}: {json.dumps(old, ensure_ascii=False)}"
            after = f"{json.dumps(keys[-1])}: {json.dumps(new, ensure_ascii=False)}"
            if text.count(before) != 1:
                sys.exit(f"{name}: cannot find /{'/'.join(keys)} as `{before}` exactly once")
            text = text.replace(before, after)
        if json.loads(text) != schema:
            sys.exit(f"{name}: rewriting the provider lists changed something else")
        if text != path.read_text():
            path.write_text(text)


def main():
    binary = registry.cli()
    providers = registry.providers(binary)
    events = ROOT / "events"
    for old in events.glob("*/*.json"):
        old.unlink()
    write(ROOT / "env.json", env_json(providers))
    write_schemas(providers)
    with tempfile.TemporaryDirectory() as tmp:
        for p in providers:
            out = events / p["slug"]
            sample = main_sample(p, tmp)
            for name, payload, flags in valid_cases(p, sample):
                write(out / f"{name}.json", event(binary, p, payload, flags))
            # The main sample with a field added after signing.
            text = (ROOT / sample).read_text()
            if "{" not in text:
                sys.exit(f"{sample}: not a JSON object")
            forged = pathlib.Path(tmp) / f"{p['slug']}-forged.json"
            forged.write_text(text.replace("{", '{"forged": true,', 1))
            for name, _status, payload, flags, creds in invalid_cases(p, sample, str(forged)):
                write(out / f"{name}.json", event(binary, p, payload, flags, creds))
    count = len(list(events.glob("*/*.json")))
    print(f"wrote env.json, the schemas' provider lists and {count} events under events/",
          file=sys.stderr)


if __name__ == "__main__":
    main()
