"""The registered providers, as the hookgate CLI describes them
(`hookgate providers --json`), for the scripts that write files per
provider: scripts/make-events.py and fuzz/seed.py. Nothing here names a
provider: a provider added to the library's registry shows up here.

Each provider is a dict, in registry order: slug, name, credential
("secret", "token" or "key"), flag (the CLI's flag for it), variable (the
function's credential variable), secret_variables (each may also be given
as <VAR>_SECRET_ID), private_key_variable (or None), styles (the usual one
first; each with name, about and requires: {VAR: value} or None),
signed_time (None, or the variable of the freshness window), covers_body,
sample (the text of a valid delivery, from the provider's module: the main
sample of a provider without samples/<slug>.json) and unusable_sample (a
JSON body that cannot be normalized)."""

import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent


def cli():
    """The hookgate CLI: $HOOKGATE_CLI, else the debug build, built first."""
    if os.environ.get("HOOKGATE_CLI"):
        return os.environ["HOOKGATE_CLI"]
    subprocess.run(["cargo", "build", "-q", "-p", "hookgate-cli"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(pathlib.Path(target) / "debug" / "hookgate")


def providers(binary=None):
    """The registered providers, in registry order."""
    out = subprocess.run([binary or cli(), "providers", "--json"], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def logical_id(provider):
    """The logical id of the provider's function in template.yaml (and
    env.json): RednerFunction for redner."""
    return provider["slug"].capitalize() + "Function"
