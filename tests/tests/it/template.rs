//! template.yaml against the code and env.json: every variable env.json
//! sets is one the template declares for that function (SAM's `--env-vars`
//! overrides only declared variables); every hookgate metric the alarms and
//! the dashboard name is one the functions emit, under the dimensions they
//! emit it with, and the dashboard shows each of them for every provider;
//! the queue policy lets the four functions' roles send.
//!
//! The template is read as JSON through cfn-lint's YAML reader from the
//! project's .venv (`make setup`), which turns CloudFormation's short tags
//! (`!Ref`, `!GetAtt`, ...) into their long forms.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use hookgate::metrics::{COUNTERS, DIMENSIONS, LATENCIES, NAMESPACE};
use hookgate_tests::providers::Provider;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// template.yaml as JSON.
pub(crate) fn template() -> Value {
    let python = root().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run `make setup` (make test does)",
        python.display()
    );
    let out = Command::new(&python)
        .args([
            "-c",
            "import json, sys\n\
             from cfnlint.decode.cfn_yaml import loads\n\
             json.dump(loads(open(sys.argv[1]).read()), sys.stdout)",
        ])
        .arg(root().join("template.yaml"))
        .output()
        .expect("run the .venv's python");
    assert!(
        out.status.success(),
        "cannot read template.yaml: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the template as JSON")
}

/// The logical id of each provider's function: the one built from
/// `functions/<slug>`.
fn function_ids(t: &Value) -> BTreeMap<&'static str, String> {
    let resources = t["Resources"].as_object().expect("Resources");
    Provider::all()
        .map(|p| {
            let code = format!("functions/{}", p.slug());
            let id = resources
                .iter()
                .find(|(_, r)| {
                    r["Type"] == "AWS::Serverless::Function" && r["Properties"]["CodeUri"] == code
                })
                .map(|(id, _)| id.clone())
                .unwrap_or_else(|| panic!("no function is built from {code}"));
            (p.slug(), id)
        })
        .collect()
}

/// The variables `id` declares, its own and the Globals'.
fn declared(t: &Value, id: &str) -> BTreeSet<String> {
    let keys = |v: &Value| -> Vec<String> {
        v["Environment"]["Variables"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut all: BTreeSet<String> = keys(&t["Globals"]["Function"]).into_iter().collect();
    all.extend(keys(&t["Resources"][id]["Properties"]));
    all
}

/// The variables a provider's function reads beyond the common ones.
fn secret_vars(slug: &str) -> Vec<&'static str> {
    let provider =
        hookgate::providers::registered(slug).unwrap_or_else(|| panic!("unknown provider {slug}"));
    provider.secret_vars.iter().map(|v| v.name).collect()
}

#[test]
fn env_json_sets_only_variables_the_template_declares() {
    let t = template();
    let text = std::fs::read_to_string(root().join("env.json")).expect("env.json");
    let env: BTreeMap<String, BTreeMap<String, String>> =
        serde_json::from_str(&text).expect("env.json maps logical ids to string variables");
    let ids = function_ids(&t);
    // Every webhook function is configured, and nothing else.
    assert_eq!(
        env.keys().cloned().collect::<BTreeSet<_>>(),
        ids.values().cloned().collect::<BTreeSet<_>>(),
        "env.json's logical ids"
    );
    for (slug, id) in &ids {
        let declared = declared(&t, id);
        for key in env[id].keys() {
            assert!(
                declared.contains(key),
                "env.json sets {key} for {id}, which the template does not declare: \
                 SAM would ignore it"
            );
        }
        // And what the function reads is declared too: the common
        // variables, its secrets and their Secrets Manager ids.
        let mut reads = vec![
            "QUEUE_URL".to_owned(),
            "QUARANTINE_QUEUE_URL".to_owned(),
            "SQS_TIMEOUT_MS".to_owned(),
            "MAX_BODY_BYTES".to_owned(),
            "AWS_ENDPOINT_URL_SQS".to_owned(),
        ];
        for var in secret_vars(slug) {
            reads.push(var.to_owned());
            reads.push(format!("{var}_SECRET_ID"));
        }
        for var in reads {
            assert!(declared.contains(&var), "{id} does not declare {var}");
        }
    }
}

/// A hookgate metric a template names: its name and dimensions.
#[derive(Debug)]
struct Use {
    place: String,
    name: String,
    dims: BTreeMap<String, String>,
}

/// The metrics in namespace `hookgate` that the alarms name.
fn alarm_uses(t: &Value) -> Vec<Use> {
    let mut uses = Vec::new();
    let dims = |v: &Value| -> BTreeMap<String, String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|d| {
                        (
                            d["Name"].as_str().unwrap_or_default().to_owned(),
                            d["Value"].as_str().unwrap_or("<intrinsic>").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    for (id, r) in t["Resources"].as_object().expect("Resources") {
        if r["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let p = &r["Properties"];
        if p["Namespace"] == NAMESPACE {
            uses.push(Use {
                place: id.clone(),
                name: p["MetricName"].as_str().unwrap_or_default().to_owned(),
                dims: dims(&p["Dimensions"]),
            });
        }
        for m in p["Metrics"].as_array().into_iter().flatten() {
            let metric = &m["MetricStat"]["Metric"];
            if metric["Namespace"] == NAMESPACE {
                uses.push(Use {
                    place: format!("{id}.{}", m["Id"].as_str().unwrap_or_default()),
                    name: metric["MetricName"].as_str().unwrap_or_default().to_owned(),
                    dims: dims(&metric["Dimensions"]),
                });
            }
        }
    }
    uses
}

/// The dashboard's body: its `!Sub` string with every `${...}` replaced by
/// 0 (a number where the body writes a parameter unquoted, a string
/// inside quotes), read as JSON.
fn dashboard(t: &Value) -> Value {
    let (_, d) = t["Resources"]
        .as_object()
        .expect("Resources")
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::CloudWatch::Dashboard")
        .expect("a dashboard");
    let body = d["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_str()
        .expect("DashboardBody is a !Sub string");
    let mut text = String::new();
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed ${...}") + start;
        text.push('0');
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("the dashboard body is not JSON: {e}"))
}

/// The metrics in namespace `hookgate` that the dashboard's widgets name.
fn dashboard_uses(t: &Value) -> Vec<Use> {
    let body = dashboard(t);
    let mut uses = Vec::new();
    for (w, widget) in body["widgets"]
        .as_array()
        .expect("widgets")
        .iter()
        .enumerate()
    {
        let mut previous: Vec<Value> = Vec::new();
        for row in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let row = row.as_array().expect("a metric row is an array");
            // `"."` repeats the previous row's value at that position.
            let fields: Vec<Value> = row
                .iter()
                .filter(|v| !v.is_object())
                .enumerate()
                .map(|(i, v)| {
                    if v == "." {
                        previous.get(i).cloned().unwrap_or(Value::Null)
                    } else {
                        v.clone()
                    }
                })
                .collect();
            previous = fields.clone();
            let text: Vec<String> = fields
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            if text.first().map(String::as_str) != Some(NAMESPACE) {
                continue;
            }
            let name = text.get(1).cloned().unwrap_or_default();
            let dims = text
                .get(2..)
                .unwrap_or_default()
                .chunks(2)
                .map(|kv| (kv[0].clone(), kv.get(1).cloned().unwrap_or_default()))
                .collect();
            uses.push(Use {
                place: format!("dashboard widget {w}"),
                name,
                dims,
            });
        }
    }
    uses
}

#[test]
fn alarms_and_dashboard_name_only_metrics_the_code_emits() {
    let t = template();
    let slugs: BTreeSet<&str> = Provider::all().map(|p| p.slug()).collect();
    let dimension_sets: Vec<BTreeSet<&str>> = DIMENSIONS
        .iter()
        .map(|d| d.iter().copied().collect())
        .collect();
    let alarms = alarm_uses(&t);
    let shown = dashboard_uses(&t);
    assert!(
        !alarms.is_empty(),
        "no alarm on a hookgate metric was found"
    );
    assert!(
        !shown.is_empty(),
        "no hookgate metric on the dashboard was found"
    );
    for u in alarms.iter().chain(&shown) {
        assert!(
            COUNTERS.contains(&u.name.as_str()) || LATENCIES.contains(&u.name.as_str()),
            "{}: hookgate emits no metric {}",
            u.place,
            u.name
        );
        let names: BTreeSet<&str> = u.dims.keys().map(String::as_str).collect();
        assert!(
            dimension_sets.contains(&names),
            "{}: {} is not emitted with dimensions {names:?}",
            u.place,
            u.name
        );
        let provider = u
            .dims
            .get("provider")
            .map(String::as_str)
            .unwrap_or_default();
        assert!(
            slugs.contains(provider),
            "{}: no provider {provider:?}",
            u.place
        );
    }
    // The dashboard shows every metric of every provider.
    for name in COUNTERS.iter().chain(LATENCIES.iter()) {
        for slug in &slugs {
            assert!(
                shown
                    .iter()
                    .any(|u| u.name == *name
                        && u.dims.get("provider").map(String::as_str) == Some(slug)),
                "the dashboard does not show {name} for {slug}"
            );
        }
    }
}

/// The ARNs an `ArnNotLike` on `aws:PrincipalArn` exempts, per branch of an
/// `Fn::If` (a plain list is one branch): each as the logical id of a
/// `!GetAtt <id>.Arn`, or `Ref <parameter>`.
fn exempt_branches(v: &Value) -> Vec<BTreeSet<String>> {
    fn collect(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(att) = m.get("Fn::GetAtt").and_then(Value::as_array) {
                    if att.get(1).is_some_and(|a| a == "Arn") {
                        out.insert(att[0].as_str().unwrap_or_default().to_owned());
                    }
                } else if let Some(r) = m.get("Ref").and_then(Value::as_str) {
                    out.insert(format!("Ref {r}"));
                } else {
                    m.values().for_each(|x| collect(x, out));
                }
            }
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    match v.get("Fn::If").and_then(Value::as_array) {
        Some(branches) => branches
            .iter()
            .skip(1)
            .map(|b| {
                let mut out = BTreeSet::new();
                collect(b, &mut out);
                out
            })
            .collect(),
        None => {
            let mut out = BTreeSet::new();
            collect(v, &mut out);
            vec![out]
        }
    }
}

#[test]
fn only_the_functions_and_trusted_senders_may_send_to_the_queues() {
    let t = template();
    let ids = function_ids(&t);
    let roles: BTreeSet<String> = ids.values().map(|id| format!("{id}Role")).collect();
    let policies: Vec<&Value> = t["Resources"]
        .as_object()
        .expect("Resources")
        .values()
        .filter(|r| r["Type"] == "AWS::SQS::QueuePolicy")
        .collect();
    let statements: Vec<&Value> = policies
        .iter()
        .flat_map(|p| {
            p["Properties"]["PolicyDocument"]["Statement"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .collect();
    let targets = |s: &Value| -> BTreeSet<String> {
        s["Resource"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["Fn::GetAtt"][0].as_str().map(str::to_owned))
            .collect()
    };
    // TLS only, on every queue.
    let tls = statements
        .iter()
        .find(|s| s["Effect"] == "Deny" && s["Condition"]["Bool"]["aws:SecureTransport"] == "false")
        .expect("a TLS-only statement");
    for q in ["EventsQueue", "DeadLetterQueue", "QuarantineQueue"] {
        assert!(targets(tls).contains(q), "{q} accepts plain HTTP");
    }
    // SendMessage denied to all but the functions' roles and the trusted
    // senders, on the events and quarantine queues.
    let deny = statements
        .iter()
        .find(|s| {
            s["Effect"] == "Deny"
                && s["Principal"] == "*"
                && s["Action"] == "sqs:SendMessage"
                && !s["Condition"]["ArnNotLike"]["aws:PrincipalArn"].is_null()
        })
        .expect("a statement denying sqs:SendMessage to other principals");
    for q in ["EventsQueue", "QuarantineQueue"] {
        assert!(targets(deny).contains(q), "anyone may send to {q}");
    }
    let branches = exempt_branches(&deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]);
    assert_eq!(
        branches.len(),
        2,
        "one list with trusted senders, one without"
    );
    for exempt in &branches {
        let role_ids: BTreeSet<String> = exempt
            .iter()
            .filter(|e| !e.starts_with("Ref "))
            .cloned()
            .collect();
        assert_eq!(
            role_ids, roles,
            "the exempt roles must be the four functions'"
        );
    }
    assert!(
        branches.iter().any(|b| b.contains("Ref TrustedSenderArns")),
        "TrustedSenderArns is not exempt"
    );
    assert!(
        branches
            .iter()
            .any(|b| !b.contains("Ref TrustedSenderArns")),
        "an empty TrustedSenderArns needs a list of its own"
    );
    // Each function may send to both queues.
    for id in ids.values() {
        let statements = t["Resources"][id]["Properties"]["Policies"][0]["Statement"]
            .as_array()
            .expect("the function's policy statements");
        let send = statements
            .iter()
            .find(|s| {
                s["Action"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "sqs:SendMessage"))
            })
            .unwrap_or_else(|| panic!("{id} may not send"));
        for q in ["EventsQueue", "QuarantineQueue"] {
            assert!(targets(send).contains(q), "{id} may not send to {q}");
        }
    }
}
