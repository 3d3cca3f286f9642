"""Helpers for `make run`: create the local queues, sign and send a sample
delivery the way the provider does, and print what reached the queue."""

import hashlib
import hmac
import json
import sys
import urllib.error
import urllib.request

import boto3

CREDS = dict(region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")


def sqs(endpoint):
    return boto3.client("sqs", endpoint_url=endpoint, **CREDS)


def queues(endpoint, name):
    client = sqs(endpoint)
    dlq = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    url = client.create_queue(
        QueueName=name,
        Attributes={"RedrivePolicy": redrive, "MaximumMessageSize": "1048576"},
    )["QueueUrl"]
    print(url)


def send(provider, url, path, secret):
    body = open(path, "rb").read()
    if provider != "redner":
        sys.exit(f"no signer for {provider}")
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Redner-Signature": sig},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read().decode()
    print(f"{provider}: HTTP {status} {text}")


def read(endpoint, queue_url):
    client = sqs(endpoint)
    resp = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2,
                                  MessageAttributeNames=["All"])
    for m in resp.get("Messages", []):
        print(json.dumps(json.loads(m["Body"]), indent=2, ensure_ascii=False))
        client.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"queues": queues, "send": send, "read": read}[cmd](*args)
