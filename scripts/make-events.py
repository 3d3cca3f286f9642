#!/usr/bin/env python3
"""Writes env.json and events/<provider>/*.json: API Gateway HTTP API
(payload 2.0) events for every sample payload, signed with the local test
credentials below, plus invalid-*.json events that each function must refuse
with its 4xx, and quarantine-*.json events: authenticated deliveries that
cannot be normalized, which a function with a quarantine queue keeps and
answers 200.

The signing is the hookgate CLI's (`hookgate event`), which uses the
library's own signing code, so these files cannot drift from what the
functions verify. Run from anywhere:

    python3 scripts/make-events.py

It builds the CLI with cargo (or uses $HOOKGATE_CLI). The output is stable
except Panjaya's signatures: ECDSA signing is randomised, so every run
writes new (equally valid) ones.

The credentials are LOCAL TEST values, for env.json, `make run` and the test
suite only: never configure a deployed function with them. The Panjaya key
pair is the test pair in shared/tests/fixtures/panjaya/.

sync.so signs a timestamp, and the functions refuse one older than
SYNCSO_TOLERANCE_SECONDS (300 by default). A sample event is a fixed file
with a fixed `t`, so env.json widens the window to ten years for the local
syncso function; that is what lets a file signed once keep working. A
deployed function must keep the default (or another few minutes): a wide
window lets anyone who saw one delivery replay it for as long.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent

REDNER_SECRET = "local-redner-secret"
SYNCSO_SECRET = "whsec_local_syncso_secret"
NAMIRIAL_TOKEN = "local-namirial-token-0123456789"
PANJAYA_PRIVATE_KEY = "shared/tests/fixtures/panjaya/TEST-ONLY-private-key.pem"
PANJAYA_PUBLIC_KEY = "shared/tests/fixtures/panjaya/TEST-ONLY-public-key.pem"
# Ten years: see the module notes. Never in production.
SYNCSO_TOLERANCE_SECONDS = 10 * 365 * 24 * 3600
# 2025-11-23T12:34:56Z: the receipt time of every event, and sync.so's `t`.
AT = 1763901296
# The queue `make run` creates; tests and `sam local invoke` override it.
LOCAL_QUEUE = "http://127.0.0.1:9324/123456789012/hookgate-events"
LOCAL_SQS = "http://127.0.0.1:9324"
LOCAL_QUARANTINE = "http://127.0.0.1:9324/123456789012/hookgate-quarantine"

CREDENTIALS = {
    "redner": ["--secret", REDNER_SECRET],
    "syncso": ["--secret", SYNCSO_SECRET, "--timestamp", str(AT)],
    "panjaya": ["--key", PANJAYA_PRIVATE_KEY],
    "namirial": ["--token", NAMIRIAL_TOKEN],
}
WRONG_CREDENTIALS = {
    "redner": ["--secret", "not-the-local-secret"],
    "syncso": ["--secret", "whsec_not_the_local_secret", "--timestamp", str(AT)],
    "namirial": ["--token", "not-the-local-token-0123456789"],
}

# (provider, event file, payload, extra flags)
VALID = [
    ("redner", "job-created", "samples/redner/job-created.json", []),
    ("redner", "job-processing", "samples/redner/job-processing.json", []),
    ("redner", "job-completed", "samples/redner.json", []),
    ("redner", "job-failed", "samples/redner/job-failed.json", []),
    ("syncso", "generation-completed", "samples/syncso.json", []),
    ("syncso", "generation-failed", "samples/syncso/generation-failed.json", []),
    ("syncso", "batch-completed", "samples/syncso/batch-completed.json", []),
    ("panjaya", "version-ready", "samples/panjaya/version-ready.json", []),
    ("panjaya", "version-generated", "samples/panjaya.json", []),
    ("panjaya", "asset-failed", "samples/panjaya/asset-failed.json", []),
    ("namirial", "request-approved", "samples/namirial/request-approved.json", []),
    ("namirial", "request-enrolled", "samples/namirial.json", []),
    ("namirial", "legacy-issued", "samples/namirial/legacy-issued.json", ["--style", "header"]),
]

MAIN_SAMPLE = {p: f"samples/{p}.json" for p in CREDENTIALS}


def invalid_cases(provider, forged):
    """(event file, expected status, payload, flags, credentials?) for one provider."""
    sample = MAIN_SAMPLE[provider]
    cases = [
        ("invalid-wrong-method", 405, sample, ["--method", "GET"], True),
        ("invalid-unsigned", 401, sample, ["--unsigned"], False),
        # Authenticated but unusable: kept in quarantine (200) when the
        # function has a quarantine queue, else 400 and 422.
        ("quarantine-not-json", 200, "samples/invalid/not-json.txt",
         ["--content-type", "text/plain"], True),
        ("quarantine-missing-fields", 200, "samples/invalid/empty-object.json", [], True),
    ]
    if provider in WRONG_CREDENTIALS:
        cases.append(("invalid-wrong-credential", 401, sample, WRONG_CREDENTIALS[provider], False))
    if provider != "namirial":
        # A token does not cover the body, so only signed providers can
        # detect a changed body.
        cases.append(("invalid-forged-body", 401, sample, ["--forge-body", forged], True))
    if provider == "syncso":
        # Signed in 2001: outside even the local ten-year window.
        cases.append(
            ("invalid-stale-signature", 401, sample,
             ["--secret", SYNCSO_SECRET, "--timestamp", "1000000000"], False)
        )
    return cases


def cli():
    if os.environ.get("HOOKGATE_CLI"):
        return os.environ["HOOKGATE_CLI"]
    subprocess.run(["cargo", "build", "-q", "-p", "hookgate-cli"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(pathlib.Path(target) / "debug" / "hookgate")


def event(binary, provider, payload, flags, with_credentials=True):
    args = [binary, "event", provider, payload, "--at", str(AT)]
    if with_credentials:
        args += CREDENTIALS[provider]
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


def env_json():
    # Every key is one the template declares for that function (SAM passes
    # only those; tests/tests/it/template.rs checks it). The secret ids are
    # blanked: SAM resolves the template's `!Ref <Secret>` to the logical id,
    # and a function given both a value and a secret id refuses to start.
    common = {
        "QUEUE_URL": LOCAL_QUEUE,
        "QUARANTINE_QUEUE_URL": LOCAL_QUARANTINE,
        "AWS_ENDPOINT_URL_SQS": LOCAL_SQS,
    }
    public_key = (ROOT / PANJAYA_PUBLIC_KEY).read_text()
    return {
        "RednerFunction": {
            **common,
            "REDNER_WEBHOOK_SECRETS": REDNER_SECRET,
            "REDNER_WEBHOOK_SECRETS_SECRET_ID": "",
        },
        "SyncsoFunction": {
            **common,
            "SYNCSO_WEBHOOK_SECRETS": SYNCSO_SECRET,
            "SYNCSO_TOLERANCE_SECONDS": str(SYNCSO_TOLERANCE_SECONDS),
            "SYNCSO_WEBHOOK_SECRETS_SECRET_ID": "",
            "SYNCSO_ACCEPT_UNTIMED": "false",
        },
        "PanjayaFunction": {
            **common,
            "PANJAYA_PUBLIC_KEYS": public_key,
            "PANJAYA_PUBLIC_KEYS_SECRET_ID": "",
        },
        "NamirialFunction": {
            **common,
            "NAMIRIAL_TOKENS": NAMIRIAL_TOKEN,
            "NAMIRIAL_TOKENS_SECRET_ID": "",
        },
    }


def main():
    binary = cli()
    events = ROOT / "events"
    for old in events.glob("*/*.json"):
        old.unlink()
    write(ROOT / "env.json", env_json())
    for provider, name, payload, flags in VALID:
        write(events / provider / f"{name}.json", event(binary, provider, payload, flags))
    with tempfile.TemporaryDirectory() as tmp:
        for provider in CREDENTIALS:
            # The provider's sample with one value changed after signing.
            forged = pathlib.Path(tmp) / f"{provider}-forged.json"
            text = (ROOT / MAIN_SAMPLE[provider]).read_text()
            changed = (text.replace("a_7f3c", "a_0000").replace("1.20", "0.01")
                       .replace("COMPLETED", "FAILED"))
            if provider != "namirial" and changed == text:
                sys.exit(f"{MAIN_SAMPLE[provider]}: nothing to change for the forged body")
            forged.write_text(changed)
            for name, _status, payload, flags, creds in invalid_cases(provider, str(forged)):
                write(events / provider / f"{name}.json",
                      event(binary, provider, payload, flags, creds))
    count = len(list(events.glob("*/*.json")))
    print(f"wrote env.json and {count} events under events/", file=sys.stderr)


if __name__ == "__main__":
    main()
