"""The cost model of BENCHMARKS.md: AWS cost per million deliveries and per
month for hookgate's stack (template.yaml), from the measured inputs of one
bench run and the list prices below, for the HTTP API front and the function
URL front, before and after issue 16's logging and metrics changes.

    python3 tools/bench/cost.py [--measured target/bench/compare.json]
        [--before before] [--after after] [--sqs-rtt-ms 10]

--measured is what `hookgate-bench --compare before=DIR after=DIR` writes
(labels to log bytes, log records, CPU and wall time per warm request);
without it the script uses the numbers committed beside it
(tools/bench/cost-inputs.json, the run BENCHMARKS.md reports). It prints
Markdown: the prices, the inputs, the cost table. Every number in the cost
table is computed here from those; nothing is typed in twice.
"""

import argparse
import json
import math
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# us-east-1 list prices, looked up on 2026-12-01 (see BENCHMARKS.md for the
# pages). (price, unit, source)
PRICES = {
    "http_api_request": (1.00 / 1e6, "HTTP API request (first 300 M a month; metered per 512 KB)",
                         "aws.amazon.com/api-gateway/pricing; AWS whitepaper 'API Gateway private APIs', cost optimization"),
    "function_url_request": (0.0, "function URL request (no charge beyond Lambda's own)",
                             "aws.amazon.com/lambda/pricing"),
    "lambda_request": (0.20 / 1e6, "Lambda request",
                       "aws.amazon.com/lambda/pricing"),
    "lambda_gb_s_arm64": (0.0000133334, "Lambda duration, arm64, per GB-second (first 7.5 billion GB-s a month)",
                          "aws.amazon.com/lambda/pricing"),
    "sqs_request": (0.40 / 1e6, "SQS standard request, per 64 KiB chunk (first 100 billion a month)",
                    "aws.amazon.com/sqs/pricing"),
    "logs_ingest_gb": (0.50, "CloudWatch Logs ingestion (standard class), per GB",
                       "aws.amazon.com/cloudwatch/pricing"),
    "custom_metric_month": (0.30, "CloudWatch custom metric, per metric-month (first 10,000)",
                            "aws.amazon.com/cloudwatch/pricing"),
    "alarm_metric_month": (0.10, "CloudWatch standard-resolution alarm, per alarm metric-month",
                           "aws.amazon.com/cloudwatch/pricing"),
    "dashboard_month": (3.00, "CloudWatch dashboard, per month (beyond 3 free)",
                        "aws.amazon.com/cloudwatch/pricing"),
    "secret_month": (0.40, "Secrets Manager secret, per month",
                     "aws.amazon.com/secrets-manager/pricing"),
    "secrets_api_call": (0.05 / 10_000, "Secrets Manager API call",
                         "aws.amazon.com/secrets-manager/pricing"),
}

MEMORY_MB = 128          # template.yaml Globals: MemorySize
FULL_VCPU_MB = 1769      # Lambda gives one full vCPU at 1,769 MB, proportionally less below
GB = 1024 ** 3           # AWS bills GB as 2^30 bytes
PLATFORM_BYTES = 450     # START, END and REPORT records in JSON format (SystemLogLevel INFO)
SQS_CHUNK = 64 * 1024
SECRETS = 4              # one per provider (template.yaml)
PROVIDERS = 4

# Custom metrics (distinct metric name + dimension values), per provider;
# the arithmetic is in BENCHMARKS.md and in custom_metrics() below.
EVENT_OUTCOMES = ["created", "processing", "action_required", "succeeded", "failed",
                  "canceled", "unknown"]


def custom_metrics():
    """(before, after) custom metric counts for the four providers."""
    # Before (cd8cf38): dimension sets [provider, outcome] and [provider];
    # 9 counters + 2 latencies. Which outcome each metric can carry:
    refusals = ["RejectedMethod", "RejectedSize", "RejectedAuth", "RejectedJson",
                "RejectedSchema"]
    outcomes_of = {"Accepted": EVENT_OUTCOMES, "Quarantined": ["quarantined"],
                   "EnqueueFailures": ["enqueue_failed"], "InternalErrors": ["error"]}
    outcomes_of.update({r: ["rejected"] for r in refusals})
    every_outcome = EVENT_OUTCOMES + ["quarantined", "rejected", "enqueue_failed", "error"]
    outcomes_of["RequestLatency"] = every_outcome
    # A send was attempted: accepted, quarantined, or the send failed.
    outcomes_of["SqsLatency"] = EVENT_OUTCOMES + ["quarantined", "enqueue_failed"]
    with_outcome = sum(len(v) for v in outcomes_of.values())
    provider_only = len(outcomes_of)
    before = PROVIDERS * (with_outcome + provider_only)
    # After (259981e): one dimension set [provider]; 6 counters + 2 latencies.
    after = PROVIDERS * 8
    return before, after, with_outcome, provider_only


def alarm_metrics(front):
    """Alarm metrics in template.yaml: a metric-math alarm is billed per
    metric it reads. Api5xxAlarm exists only with the HTTP API front."""
    text = (ROOT / "template.yaml").read_text()
    total = 0
    alarms = 0
    for block in re.split(r"\n  (?=\w+:\n    Type: )", text):
        if "Type: AWS::CloudWatch::Alarm" not in block.split("\n", 2)[1]:
            continue
        if "Condition: UseHttpApi" in block and front != "HttpApi":
            continue
        alarms += 1
        total += len(re.findall(r"MetricName:", block))
    return alarms, total


def access_log_bytes():
    """One HTTP API access log record: template.yaml's format with typical
    values (a 1 KiB webhook, a short user agent)."""
    text = (ROOT / "template.yaml").read_text()
    m = re.search(r"Format: >-\n((?:\s{12}.*\n)+)", text)
    fmt = " ".join(line.strip() for line in m.group(1).splitlines())
    example = {
        "requestId": "Xk2fJi7aIAMEb1A=", "identity.sourceIp": "203.0.113.45",
        "requestTime": "01/Dec/2026:12:00:00 +0000", "routeKey": "ANY /webhooks/redner",
        "path": "/webhooks/redner", "status": "200", "responseLength": "80",
        "responseLatency": "25", "integrationStatus": "200", "integrationLatency": "24",
        "integrationErrorMessage": "-", "identity.userAgent": "Redner-Webhooks/1.0",
    }
    record = re.sub(r"\$context\.([\w.]+)", lambda v: example[v.group(1)], fmt)
    json.loads(record)  # the format stays valid JSON
    return len(record.encode()) + 1


def per_delivery(inputs, front, sqs_rtt_ms, platform=True, access_log=True,
                 message_bytes=2048):
    """Dollars per delivery by component, and the derived quantities."""
    p = {k: v[0] for k, v in PRICES.items()}
    cpu_ms = inputs["cpu_us"] / 1000
    # At 128 MB a function gets 128/1769 of a vCPU: CPU time stretches.
    stretched_ms = cpu_ms * FULL_VCPU_MB / MEMORY_MB
    billed_ms = math.ceil(stretched_ms + sqs_rtt_ms)
    log_bytes = inputs["log_bytes"]
    if platform:
        log_bytes += PLATFORM_BYTES
    if front == "HttpApi" and access_log:
        log_bytes += access_log_bytes()
    chunks = math.ceil(message_bytes / SQS_CHUNK)
    cost = {
        "front": p["http_api_request"] if front == "HttpApi" else p["function_url_request"],
        "lambda requests": p["lambda_request"],
        "lambda duration": billed_ms / 1000 * MEMORY_MB / 1024 * p["lambda_gb_s_arm64"],
        "SQS SendMessage": chunks * p["sqs_request"],
        "CloudWatch Logs ingestion": log_bytes / GB * p["logs_ingest_gb"],
        "Secrets Manager calls": 0.0,
    }
    derived = {"stretched_ms": stretched_ms, "billed_ms": billed_ms,
               "ingested_bytes": log_bytes, "chunks": chunks}
    return cost, derived


def fixed_monthly(front, metrics):
    p = {k: v[0] for k, v in PRICES.items()}
    _, alarm_count = alarm_metrics(front)
    return {
        "custom metrics": metrics * p["custom_metric_month"],
        "alarms": alarm_count * p["alarm_metric_month"],
        "secrets": SECRETS * p["secret_month"],
        "dashboard": p["dashboard_month"],
    }


def money(v, digits=3):
    return f"${v:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--measured", type=Path, default=Path(__file__).with_name("cost-inputs.json"))
    ap.add_argument("--before", default="before")
    ap.add_argument("--after", default="after")
    ap.add_argument("--sqs-rtt-ms", type=float, default=10.0,
                    help="assumed SendMessage round trip from Lambda, in-region")
    ap.add_argument("--deliveries", type=float, default=1e6, help="deliveries a month")
    args = ap.parse_args()
    measured = json.loads(args.measured.read_text())
    before, after = measured[args.before], measured[args.after]
    m_before, m_after, with_outcome, provider_only = custom_metrics()

    print("#### Prices (us-east-1, looked up 2026-12-01)\n")
    print("| item | price | source |\n|---|---|---|")
    for key, (price, unit, source) in PRICES.items():
        shown = f"${price * 1e6:.2f} per million" if 0 < price < 0.01 else f"${price:.2f}"
        if key == "lambda_gb_s_arm64":
            shown = f"${price:.10f}"
        print(f"| {unit} | {shown} | {source} |")

    print("\n#### Inputs\n")
    print("| input | before (cd8cf38) | after (main) | from |\n|---|---|---|---|")
    for key, label in [("log_bytes", "log bytes per accepted request"),
                       ("log_records", "log records per request"),
                       ("cpu_us", "CPU per warm request (µs, x86_64 here)"),
                       ("wall_us", "wall per warm request (µs, local SQS)")]:
        print(f"| {label} | {before[key]:.1f} | {after[key]:.1f} | measured, {args.measured.name} |")
    print(f"| platform records (START/END/REPORT, JSON) | {PLATFORM_BYTES} B | {PLATFORM_BYTES} B "
          "| template.yaml; SystemLogLevel=WARN drops them |")
    print(f"| HTTP API access log record | {access_log_bytes()} B | {access_log_bytes()} B "
          "| template.yaml's format, typical values; AccessLogs=false drops it |")
    print(f"| SQS round trip billed while waiting | {args.sqs_rtt_ms:g} ms | {args.sqs_rtt_ms:g} ms | assumed |")
    print(f"| custom metrics | {m_before} | {m_after} | 4 × ({with_outcome} + {provider_only}) before, 4 × 8 after |")
    for front in ("HttpApi", "FunctionUrl"):
        n, total = alarm_metrics(front)
        print(f"| alarms, alarm metrics ({front}) | {n}, {total} | {n}, {total} | template.yaml |")

    scenarios = [
        ("HTTP API, before", "HttpApi", before, m_before, {}),
        ("HTTP API, after", "HttpApi", after, m_after, {}),
        ("HTTP API, after, WARN, no access log", "HttpApi", after, m_after,
         {"platform": False, "access_log": False}),
        ("function URL, before", "FunctionUrl", before, m_before, {}),
        ("function URL, after", "FunctionUrl", after, m_after, {}),
        ("function URL, after, WARN", "FunctionUrl", after, m_after, {"platform": False}),
    ]
    rows = {}
    derived_rows = {}
    fixed_rows = {}
    for name, front, inputs, metrics, opts in scenarios:
        rows[name], derived_rows[name] = per_delivery(inputs, front, args.sqs_rtt_ms, **opts)
        fixed_rows[name] = fixed_monthly(front, metrics)

    names = [s[0] for s in scenarios]
    print("\n#### Cost per million deliveries, and per month\n")
    print("| component | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    print("| billed duration (ms) | " + " | ".join(
        f"{derived_rows[n]['billed_ms']} ({derived_rows[n]['stretched_ms']:.1f} CPU + {args.sqs_rtt_ms:g} SQS)"
        for n in names) + " |")
    print("| log bytes ingested per delivery | " + " | ".join(
        f"{derived_rows[n]['ingested_bytes']:.0f}" for n in names) + " |")
    for component in rows[names[0]]:
        print(f"| {component} | " + " | ".join(money(rows[n][component] * 1e6) for n in names) + " |")
    print("| **per million deliveries** | " + " | ".join(
        f"**{money(sum(rows[n].values()) * 1e6)}**" for n in names) + " |")
    for component in fixed_rows[names[0]]:
        print(f"| {component}, per month | " + " | ".join(
            money(fixed_rows[n][component], 2) for n in names) + " |")
    print("| **fixed, per month** | " + " | ".join(
        f"**{money(sum(fixed_rows[n].values()), 2)}**" for n in names) + " |")
    millions = args.deliveries / 1e6
    print(f"| **a month of {args.deliveries:,.0f} deliveries** | " + " | ".join(
        f"**{money(sum(fixed_rows[n].values()) + sum(rows[n].values()) * 1e6 * millions, 2)}**"
        for n in names) + " |")


if __name__ == "__main__":
    main()
