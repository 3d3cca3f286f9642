#!/usr/bin/env bash
# `make run`: the whole stack on this machine. A local SQS server (moto)
# with the events queue, its DLQ and the quarantine queue, every registered
# provider's function (the CLI's `hookgate providers` lists them) served by
# `cargo lambda watch` on 127.0.0.1 and configured from env.json, one signed
# sample per provider sent with the hookgate CLI, the envelopes read back,
# then it keeps serving until Ctrl-C, which stops everything it started.
#
# SQS_PORT (default 9324) and FUNCTIONS_PORT (default 9000) move the ports.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py="$root/.venv/bin/python"
sqs_port=${SQS_PORT:-9324}
fn_port=${FUNCTIONS_PORT:-9000}
endpoint="http://127.0.0.1:$sqs_port"
base="http://127.0.0.1:$fn_port/lambda-url"
target_dir=${CARGO_TARGET_DIR:-$root/target}
cli="$target_dir/debug/hookgate"
mkdir -p "$target_dir"
log_dir="$target_dir/run-local"
mkdir -p "$log_dir"

# The functions' settings: env.json's local test values (the same ones the
# sample events are signed with), the local queue, and test AWS credentials.
eval "$("$py" scripts/local.py env)"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL_SQS="$endpoint"

for port in "$sqs_port" "$fn_port"; do
  "$py" - "$port" <<'PY' || exit 1
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(f"port {sys.argv[1]} is in use: stop what uses it, or set SQS_PORT / FUNCTIONS_PORT")
PY
done

# Each background service gets its own process group, so stopping it
# stops its children too (cargo lambda watch runs one process per function).
groups=()
cleanup() {
  trap - EXIT INT TERM
  for g in "${groups[@]}"; do
    # cargo lambda watch starts each function in a group of its own and
    # stops them itself on TERM; name them too in case it cannot.
    if command -v pkill >/dev/null; then pkill -TERM -P "$g" 2>/dev/null || true; fi
    kill -TERM -- "-$g" 2>/dev/null || true
  done
  for g in "${groups[@]}"; do
    for _ in $(seq 50); do kill -0 -- "-$g" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$g" 2>/dev/null || true
  done
  echo "stopped"
}
trap cleanup EXIT
# Ctrl-C is how this is meant to stop: not a failure.
trap 'exit 0' INT
trap 'exit 143' TERM

echo "building the hookgate CLI..."
cargo build -q -p hookgate-cli

# The registered providers, in registry order, as the CLI lists them:
# providers (slugs), key_vars (the CLI's private key variables),
# shared_vars (the variables of shared secrets and tokens), extra_styles
# ("<slug> <style> [<VAR>=<value> the function needs]" for each style
# beyond the usual one), and example, a provider with a shared credential
# (its flag in example_flag) for the hints below. A provider without
# samples/<slug>.json gets the sample its module gives the registry written
# to $log_dir/samples/<slug>.json (sample_of below names the file to send).
registry=$("$cli" providers --json)
shell=$("$py" - "$registry" "$log_dir" <<'PY'
import json, os, shlex, sys
registry = json.loads(sys.argv[1])
for p in registry:
    if not os.path.exists(f"samples/{p['slug']}.json"):
        os.makedirs(f"{sys.argv[2]}/samples", exist_ok=True)
        with open(f"{sys.argv[2]}/samples/{p['slug']}.json", "w") as f:
            f.write(p["sample"])
def array(name, values):
    print(f"{name}=(" + " ".join(shlex.quote(v) for v in values) + ")")
shared = [p for p in registry if p["credential"] in ("secret", "token")]
array("providers", [p["slug"] for p in registry])
array("key_vars", [p["private_key_variable"] for p in registry if p["private_key_variable"]])
array("shared_vars", [p["variable"] for p in shared])
array("extra_styles", [
    " ".join([p["slug"], s["name"], *(f"{k}={v}" for k, v in (s["requires"] or {}).items())])
    for p in registry for s in p["styles"][1:]
])
example = (shared or registry)[0]
print(f"example={shlex.quote(example['slug'])} example_flag={shlex.quote(example['flag'])}")
PY
)
eval "$shell"
# The main sample of provider $1: samples/<slug>.json, else the registry's.
sample_of() {
  if [ -e "samples/$1.json" ]; then echo "samples/$1.json"; else echo "$log_dir/samples/$1.json"; fi
}
# What the CLI signs with for a provider that signs with a private key: the
# private half of the TEST-ONLY key pair whose public half env.json configures.
for var in "${key_vars[@]}"; do
  export "$var=$root/shared/tests/fixtures/panjaya/TEST-ONLY-private-key.pem"
done

setsid "$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$sqs_port" >"$log_dir/moto.log" 2>&1 &
groups+=($!)
"$py" - "$endpoint" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"{sys.argv[1]}/moto-api/", timeout=1)
        break
    except Exception:
        time.sleep(0.1)
else:
    sys.exit("the local SQS server did not start")
PY
read -r queue_url dlq_url quarantine_url < <(
  "$py" scripts/local.py queues "$endpoint" hookgate-events hookgate-quarantine)
export QUEUE_URL="$queue_url" QUARANTINE_QUEUE_URL="$quarantine_url"

setsid "$root/.venv/bin/cargo-lambda" lambda watch -A 127.0.0.1 -P "$fn_port" \
  >"$log_dir/functions.log" 2>&1 &
groups+=($!)

echo "building and starting the functions (log: $log_dir/functions.log)..."
for p in "${providers[@]}"; do
  # Any HTTP answer means the function is up; the first call builds it.
  "$py" - "$base/$p/" <<'PY' || exit 1
import sys, time, urllib.error, urllib.request
for _ in range(1800):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=300)
        break
    except urllib.error.HTTPError:
        break
    except Exception:
        time.sleep(0.5)
else:
    sys.exit("the functions did not start; see the log")
PY
done

echo
echo "--- one signed sample per provider (hookgate send):"
for p in "${providers[@]}"; do
  printf '%-9s ' "$p"
  "$cli" send "$p" "$(sample_of "$p")" --url "$base/$p/webhooks/$p" --timeout 120 | paste -sd' ' \
    || echo "(refused: see $log_dir/functions.log)"
done
echo
echo "--- what reached the queue (hookgate tail --max ${#providers[@]} --wait 5 --delete):"
"$cli" tail --queue-url "$queue_url" --max "${#providers[@]}" --wait 5 --delete

# The hints below: each provider's URL; exports of the CLI's credentials;
# per provider, a sample other than the one sent above, then each style
# beyond the usual one; and the example provider's refusals, quarantine and
# a sample event.
urls=$(for p in "${providers[@]}"; do printf '  %-9s POST %s\n' "$p" "$base/$p/webhooks/$p"; done)
exports="export"
for var in "${shared_vars[@]}"; do exports+=" $var=$(printf '%q' "${!var}")"; done
key_exports="export"
for var in "${key_vars[@]}"; do key_exports+=" $var=$(printf '%q' "${!var}")"; done
sends=$(
  for p in "${providers[@]}"; do
    for f in samples/"$p"/*.json; do
      if [ -e "$f" ] && ! cmp -s "$f" "$(sample_of "$p")"; then
        echo "  hookgate send $p $f --url $base/$p/webhooks/$p"
        break
      fi
    done
  done
  for entry in "${extra_styles[@]}"; do
    read -r p style requires <<<"$entry"
    line="  hookgate send $p $(sample_of "$p") --style $style --url $base/$p/webhooks/$p"
    if [ -n "$requires" ]; then line+="   # 401 unless the function has $requires"; fi
    echo "$line"
  done
)
example_event=
for f in events/"$example"/*.json; do
  case ${f##*/} in invalid-* | quarantine-*) ;; *) example_event=$f; break ;; esac
done

cat <<MSG

hookgate is running locally; Ctrl-C stops everything.

$urls
  queue     $queue_url
  DLQ       $dlq_url
  quarantine $quarantine_url
  logs      $log_dir/

The functions use env.json's local test credentials. Try it from another
shell, in $root:

  $exports
  $key_exports
  export AWS_ENDPOINT_URL_SQS=$endpoint AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  $(printf 'alias hookgate=%q' "$cli")

$sends
  hookgate send $example $(sample_of "$example") $example_flag wrong --url $base/$example/webhooks/$example   # 401
  hookgate tail --queue-url $queue_url
  hookgate send $example samples/invalid/empty-object.json --url $base/$example/webhooks/$example   # quarantined
  hookgate quarantine list --queue-url $quarantine_url

  cargo lambda invoke $example -A 127.0.0.1 -P $fn_port --data-file $example_event
MSG
wait "${groups[1]}"
