#!/usr/bin/env bash
# Runs a command with a local SQS server (moto, from the project's .venv)
# on a free loopback port, exported as HOOKGATE_TEST_SQS_ENDPOINT. The
# server is stopped when the command ends, whether it passed or not.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.venv/bin/python"
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$root/target"
log="$root/target/moto-$port.log"
"$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null || true; wait "$moto" 2>/dev/null || true' EXIT
"$py" - "$port" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/moto-api/"
for _ in range(300):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit("the local SQS server did not start within 30 s")
PY
export HOOKGATE_TEST_SQS_ENDPOINT="http://127.0.0.1:$port"
echo "local SQS server on $HOOKGATE_TEST_SQS_ENDPOINT (log: $log)"
"$@"
