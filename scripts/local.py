"""Helpers for `make run` that need boto3 or JSON: create the local queues,
and turn env.json into the functions' environment."""

import json
import pathlib
import shlex
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Set by run-local.sh for the local server; not taken from env.json.
QUEUE_VARS = {"QUEUE_URL", "QUARANTINE_QUEUE_URL", "AWS_ENDPOINT_URL_SQS"}


def queues(endpoint, name, quarantine):
    """Creates `<name>-dlq`, `<name>` redriving to it, and the quarantine
    queue `quarantine`; prints the three URLs."""
    import boto3

    client = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    dlq = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    url = client.create_queue(
        QueueName=name,
        Attributes={"RedrivePolicy": redrive, "MaximumMessageSize": "1048576"},
    )["QueueUrl"]
    kept = client.create_queue(
        QueueName=quarantine, Attributes={"MaximumMessageSize": "1048576"}
    )["QueueUrl"]
    print(url, dlq, kept)


def env():
    """`export` lines for every function's variables in env.json (the
    functions share one process environment under `cargo lambda watch`)."""
    config = json.loads((ROOT / "env.json").read_text())
    merged = {}
    for variables in config.values():
        for key, value in variables.items():
            if key in QUEUE_VARS:
                continue
            if merged.get(key, value) != value:
                sys.exit(f"env.json sets {key} twice with different values")
            merged[key] = value
    for key, value in sorted(merged.items()):
        print(f"export {key}={shlex.quote(value)}")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"queues": queues, "env": env}[cmd](*args)
