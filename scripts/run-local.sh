#!/usr/bin/env bash
# `make run`: the whole stack on this machine. A local SQS server (moto)
# with the events queue, its DLQ and the quarantine queue, the four functions served by `cargo
# lambda watch` on 127.0.0.1 and configured from env.json, one signed sample
# per provider sent with the hookgate CLI, the envelopes read back, then it
# keeps serving until Ctrl-C, which stops everything it started.
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
providers=(redner syncso panjaya namirial)
mkdir -p "$target_dir"
log_dir="$target_dir/run-local"
mkdir -p "$log_dir"

# The functions' settings: env.json's local test values (the same ones the
# sample events are signed with), the local queue, and test AWS credentials.
eval "$("$py" scripts/local.py env)"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL_SQS="$endpoint"
# What the CLI signs Panjaya deliveries with: the private half of the test
# key pair env.json configures.
export PANJAYA_PRIVATE_KEY="$root/shared/tests/fixtures/panjaya/TEST-ONLY-private-key.pem"

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
  "$cli" send "$p" "samples/$p.json" --url "$base/$p/webhooks/$p" --timeout 120 | paste -sd' ' \
    || echo "(refused: see $log_dir/functions.log)"
done
echo
echo "--- what reached the queue (hookgate tail --max 4 --wait 5 --delete):"
"$cli" tail --queue-url "$queue_url" --max 4 --wait 5 --delete

cat <<MSG

hookgate is running locally; Ctrl-C stops everything.

  redner    POST $base/redner/webhooks/redner
  syncso    POST $base/syncso/webhooks/syncso
  panjaya   POST $base/panjaya/webhooks/panjaya
  namirial  POST $base/namirial/webhooks/namirial
  queue     $queue_url
  DLQ       $dlq_url
  quarantine $quarantine_url
  logs      $log_dir/

The functions use env.json's local test credentials. Try it from another
shell, in $root:

  $(printf 'export REDNER_WEBHOOK_SECRETS=%q SYNCSO_WEBHOOK_SECRETS=%q NAMIRIAL_TOKENS=%q' \
      "$REDNER_WEBHOOK_SECRETS" "$SYNCSO_WEBHOOK_SECRETS" "$NAMIRIAL_TOKENS")
  $(printf 'export PANJAYA_PRIVATE_KEY=%q' "$PANJAYA_PRIVATE_KEY")
  export AWS_ENDPOINT_URL_SQS=$endpoint AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  $(printf 'alias hookgate=%q' "$cli")

  hookgate send redner samples/redner/job-failed.json --url $base/redner/webhooks/redner
  hookgate send syncso samples/syncso/batch-completed.json --url $base/syncso/webhooks/syncso
  hookgate send syncso samples/syncso/generation-failed.json --url $base/syncso/webhooks/syncso
  hookgate send panjaya samples/panjaya/asset-failed.json --url $base/panjaya/webhooks/panjaya
  hookgate send namirial samples/namirial/legacy-issued.json --style header --url $base/namirial/webhooks/namirial
  hookgate send redner samples/redner.json --secret wrong --url $base/redner/webhooks/redner   # 401
  hookgate tail --queue-url $queue_url
  hookgate send redner samples/invalid/empty-object.json --url $base/redner/webhooks/redner   # quarantined
  hookgate quarantine list --queue-url $quarantine_url

  cargo lambda invoke redner -A 127.0.0.1 -P $fn_port --data-file events/redner/job-created.json
MSG
wait "${groups[1]}"
