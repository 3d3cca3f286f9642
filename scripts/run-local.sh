#!/usr/bin/env bash
# `make run`: a local SQS server with the events queue and its DLQ, the
# functions served by `cargo lambda watch` on 127.0.0.1, one signed sample
# delivery, the envelope read back, then keeps serving until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py="$root/.venv/bin/python"
sqs_port=${SQS_PORT:-9324}
fn_port=${FUNCTIONS_PORT:-9000}
endpoint="http://127.0.0.1:$sqs_port"
export REDNER_WEBHOOK_SECRETS=${REDNER_WEBHOOK_SECRETS:-local-redner-secret}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p target
"$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$sqs_port" >target/run-moto.log 2>&1 &
pids+=($!)
"$py" -c "
import time, urllib.request
for _ in range(300):
    try: urllib.request.urlopen('$endpoint/moto-api/', timeout=1); break
    except Exception: time.sleep(0.1)
else: raise SystemExit('the local SQS server did not start')"
queue_url=$("$py" scripts/local.py queues "$endpoint" hookgate-events)
echo "SQS:   $endpoint  queue $queue_url"

"$root/.venv/bin/cargo-lambda" lambda watch -A 127.0.0.1 -P "$fn_port" \
  --env-var "QUEUE_URL=$queue_url,AWS_ENDPOINT_URL_SQS=$endpoint,AWS_REGION=us-east-1" \
  --env-var "AWS_ACCESS_KEY_ID=local,AWS_SECRET_ACCESS_KEY=local,AWS_EC2_METADATA_DISABLED=true" \
  --env-var "REDNER_WEBHOOK_SECRETS=$REDNER_WEBHOOK_SECRETS" \
  >target/run-functions.log 2>&1 &
pids+=($!)

base="http://127.0.0.1:$fn_port/lambda-url"
echo "building and starting the functions (log: target/run-functions.log)..."
"$py" -c "
import time, urllib.request, urllib.error
for _ in range(1800):
    try: urllib.request.urlopen('$base/redner/', timeout=120); break
    except urllib.error.HTTPError: break
    except Exception: time.sleep(0.5)
else: raise SystemExit('the functions did not start; see target/run-functions.log')"

"$py" scripts/local.py send redner "$base/redner/webhooks/redner" samples/redner.json "${REDNER_WEBHOOK_SECRETS%%,*}"
echo "--- envelope read back from the queue:"
"$py" scripts/local.py read "$endpoint" "$queue_url"

cat <<MSG

hookgate is running locally. Ctrl-C stops everything.
  redner:  POST $base/redner/webhooks/redner   (secret: ${REDNER_WEBHOOK_SECRETS%%,*})
  queue:   $queue_url

Try it:
  body='{"event":"job.created","timestamp":"2025-11-23T12:00:00Z","data":{"jobId":"job_1","status":"created"}}'
  sig=\$(printf '%s' "\$body" | openssl dgst -sha256 -hmac '${REDNER_WEBHOOK_SECRETS%%,*}' -r | cut -d' ' -f1)
  curl -s -H 'Content-Type: application/json' -H "X-Redner-Signature: sha256=\$sig" -d "\$body" $base/redner/webhooks/redner
  .venv/bin/python scripts/local.py read $endpoint $queue_url
MSG
wait "${pids[1]}"
