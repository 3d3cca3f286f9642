"""The same job as hookgate's functions, written the way a Python Lambda
usually is: the providers' own sample verification code (`cryptography`
for Panjaya's ES256, `hmac` for the others), `json` and boto3. `make bench`
runs it under `awslambdaric` against the same Runtime API emulator and local
SQS server as the Rust functions, and compares cold start and CPU per
request. It is a yardstick, not a product: it checks only the required
fields and is not kept in step with hookgate's schemas.

Environment: PEER_PROVIDER (panjaya, syncso, namirial or redner), QUEUE_URL,
the provider's credential variable as for hookgate, AWS_ENDPOINT_URL_SQS.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
import urllib.parse
from datetime import datetime, timezone

import boto3
from botocore.config import Config
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

# Lambda sets AWS_DEFAULT_REGION beside AWS_REGION; botocore reads only it.
os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
PROVIDER = os.environ["PEER_PROVIDER"]
QUEUE_URL = os.environ["QUEUE_URL"]
REQUIRED = {
    "panjaya": ("event", "asset_id"),
    "syncso": ("status", "id"),
    "namirial": ("event_type", "request"),
    "redner": ("event", "timestamp", "data"),
}[PROVIDER]

sqs = boto3.client(
    "sqs",
    config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 3, "mode": "standard"}),
)
# As hookgate does at init: the queue's maximum message size, best effort.
try:
    MAX_MESSAGE = int(
        sqs.get_queue_attributes(QueueUrl=QUEUE_URL, AttributeNames=["MaximumMessageSize"])[
            "Attributes"
        ]["MaximumMessageSize"]
    )
except Exception:  # noqa: BLE001 - best effort, like hookgate
    MAX_MESSAGE = 262144

if PROVIDER == "panjaya":
    PUBLIC_KEY = serialization.load_pem_public_key(os.environ["PANJAYA_PUBLIC_KEYS"].encode())
elif PROVIDER == "namirial":
    TOKEN = os.environ["NAMIRIAL_TOKENS"].split(",")[0].encode()
else:
    SECRET = os.environ[f"{PROVIDER.upper()}_WEBHOOK_SECRETS"].split(",")[0].encode()


def answer(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def authentic(event, headers, raw):
    if PROVIDER == "panjaya":
        try:
            signature = binascii.unhexlify(headers.get("x-signature", ""))
            PUBLIC_KEY.verify(signature, raw, ec.ECDSA(hashes.SHA256()))
            return True
        except (InvalidSignature, binascii.Error, ValueError):
            return False
    if PROVIDER == "namirial":
        query = urllib.parse.parse_qs(event.get("rawQueryString") or "")
        token = (query.get("token") or [headers.get("x-webhook-token", "")])[0]
        return hmac.compare_digest(token.encode(), TOKEN)
    if PROVIDER == "redner":
        expected = "sha256=" + hmac.new(SECRET, raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(headers.get("x-redner-signature", ""), expected)
    # sync.so: t=<unix>,v1=<hex> over "<t>." + body, within 300 s.
    parts = dict(p.split("=", 1) for p in headers.get("sync-signature", "").split(",") if "=" in p)
    if abs(time.time() - int(parts.get("t", "0"))) > 300:
        return False
    expected = hmac.new(SECRET, parts["t"].encode() + b"." + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts.get("v1", ""), expected)


def handler(event, context):
    if event["requestContext"]["http"]["method"] != "POST":
        return answer(405, {"error": "method_not_allowed"})
    raw = event.get("body") or ""
    raw = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if not authentic(event, headers, raw):
        return answer(401, {"error": "unauthorized"})
    try:
        payload = json.loads(raw)
    except ValueError:
        return answer(400, {"error": "invalid_json"})
    if not isinstance(payload, dict) or any(k not in payload for k in REQUIRED):
        return answer(422, {"error": "invalid_payload"})
    event_id = hashlib.sha256(PROVIDER.encode() + b"\n" + raw).hexdigest()
    name = str(payload.get(REQUIRED[0]))
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    envelope = {
        "specversion": "1.0",
        "id": event_id,
        "source": f"hookgate/{PROVIDER}",
        "type": f"{PROVIDER}.{name}",
        "subject": str(payload.get(REQUIRED[1])),
        "time": now,
        "datacontenttype": "application/json",
        "data": {
            "provider": PROVIDER,
            "event": name,
            "outcome": "unknown",
            "received_at": now,
            "request_id": event["requestContext"].get("requestId"),
            "payload": payload,
        },
    }
    body = json.dumps(envelope, separators=(",", ":"))
    if len(body) > MAX_MESSAGE:
        return answer(413, {"error": "payload_too_large"})
    attributes = {
        "provider": {"DataType": "String", "StringValue": PROVIDER},
        "type": {"DataType": "String", "StringValue": envelope["type"]},
        "outcome": {"DataType": "String", "StringValue": "unknown"},
    }
    try:
        sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=body, MessageAttributes=attributes)
    except Exception:  # noqa: BLE001
        return answer(503, {"error": "queue_unavailable"})
    print(json.dumps({"provider": PROVIDER, "event_id": event_id, "status": 200}))
    return answer(200, {"id": event_id})
