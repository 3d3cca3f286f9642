//! One provider, one place: every provider the library registers
//! (`hookgate::providers::REGISTRY`) is wired into every part of the project
//! that must name it (its function crate, the template's function, route,
//! function URL, secret, output, alarms and dashboard, env.json, the sample
//! events, the schemas and the README), so
//! forgetting one fails `make test` instead of a deployment.

use std::collections::BTreeSet;

use hookgate::providers::REGISTRY;
use serde_json::Value;

use crate::events::{env_json, root};
use crate::template::template;

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Whether `v` refers to resource `id` anywhere: `Ref`, `Fn::GetAtt` or a
/// `${id}` / `${id.Attr}` inside `Fn::Sub`.
fn refers_to(v: &Value, id: &str) -> bool {
    match v {
        Value::Object(m) => {
            m.get("Ref").is_some_and(|r| r == id)
                || m.get("Fn::GetAtt")
                    .and_then(|g| g.get(0))
                    .is_some_and(|r| r == id)
                || m.values().any(|x| refers_to(x, id))
        }
        Value::Array(a) => a.iter().any(|x| refers_to(x, id)),
        Value::String(s) => s.contains(&format!("${{{id}}}")) || s.contains(&format!("${{{id}.")),
        _ => false,
    }
}

/// The ids of the template's resources of `kind` for which `pick` holds.
fn resources<'a>(t: &'a Value, kind: &str, pick: impl Fn(&Value) -> bool) -> Vec<&'a str> {
    t["Resources"]
        .as_object()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == kind && pick(r))
        .map(|(id, _)| id.as_str())
        .collect()
}

/// A schema's `provider` enum, as a set.
fn schema_providers(path: &str, pointer: &str) -> BTreeSet<String> {
    let schema: Value = serde_json::from_str(&read(path)).expect("a schema is JSON");
    schema
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{path}: no {pointer}"))
        .iter()
        .map(|v| v.as_str().expect("a slug").to_owned())
        .collect()
}

#[test]
fn every_registered_provider_is_wired_everywhere() {
    let slugs: Vec<&str> = REGISTRY.iter().map(|r| r.slug).collect();
    let registered: BTreeSet<String> = slugs.iter().map(|s| (*s).to_owned()).collect();
    for (path, pointer) in [
        (
            "schemas/envelope.schema.json",
            "/properties/data/properties/provider/enum",
        ),
        (
            "schemas/quarantine.schema.json",
            "/properties/data/properties/provider/enum",
        ),
    ] {
        assert_eq!(schema_providers(path, pointer), registered, "{path}");
    }
    let envelope = read("schemas/envelope.schema.json");
    let quarantine = read("schemas/quarantine.schema.json");
    let readme = read("README.md");
    let makefile = read("Makefile");
    // The Makefile builds every crate under functions/.
    assert!(
        makefile
            .lines()
            .any(|l| l == "FUNCTIONS := $(sort $(notdir $(wildcard functions/*)))"),
        "the Makefile's FUNCTIONS are the crates under functions/"
    );
    let t = template();
    let alarms: Vec<&Value> = t["Resources"]
        .as_object()
        .expect("Resources")
        .values()
        .filter(|r| r["Type"] == "AWS::CloudWatch::Alarm")
        .collect();
    let dashboard = t["Resources"]["Dashboard"]["Properties"]["DashboardBody"].to_string();

    for r in REGISTRY {
        let slug = r.slug;
        // Its function crate: package and binary named by the slug, one call.
        let cargo = read(&format!("functions/{slug}/Cargo.toml"));
        assert!(
            cargo.contains(&format!("name = \"{slug}\"")),
            "{slug}: package name"
        );
        let main = read(&format!("functions/{slug}/src/main.rs"));
        assert!(
            main.contains("hookgate::run::<"),
            "{slug}: main runs hookgate::run"
        );

        // The template's function, built from that crate.
        let code = format!("functions/{slug}");
        let ids = resources(&t, "AWS::Serverless::Function", |f| {
            f["Properties"]["CodeUri"] == code
        });
        let [id] = ids[..] else {
            panic!("{slug}: one function built from {code}, found {ids:?}");
        };
        let f = &t["Resources"][id];
        assert_eq!(
            f["Metadata"]["BuildProperties"]["Binary"], slug,
            "{slug}: binary"
        );
        let vars = &f["Properties"]["Environment"]["Variables"];
        for var in r.secret_vars {
            let secret_id = format!("{}_SECRET_ID", var.name);
            assert!(
                vars.get(&secret_id).is_some(),
                "{slug}: {id} declares {secret_id}"
            );
        }
        // Its route and its function URL reach it.
        let route_key = format!("ANY /webhooks/{slug}");
        let routes = resources(&t, "AWS::ApiGatewayV2::Route", |x| {
            x["Properties"]["RouteKey"] == route_key.as_str()
        });
        let [route] = routes[..] else {
            panic!("{slug}: one route {route_key}, found {routes:?}");
        };
        let integrations = resources(&t, "AWS::ApiGatewayV2::Integration", |x| {
            refers_to(&x["Properties"]["IntegrationUri"], id)
        });
        assert!(
            integrations
                .iter()
                .any(|i| refers_to(&t["Resources"][route]["Properties"]["Target"], i)),
            "{slug}: {route} targets an integration of {id}"
        );
        let urls = resources(&t, "AWS::Lambda::Url", |x| {
            refers_to(&x["Properties"]["TargetFunctionArn"], id)
        });
        assert_eq!(urls.len(), 1, "{slug}: one function URL for {id}");
        // An output gives its webhook URL on either front.
        assert!(
            t["Outputs"]
                .as_object()
                .expect("Outputs")
                .values()
                .any(|o| {
                    o.to_string().contains(&format!("/webhooks/{slug}"))
                        && refers_to(&o["Value"], urls[0])
                }),
            "{slug}: an output with its webhook URL"
        );
        // Alarms watch its function and its metrics; the dashboard shows both.
        assert!(
            alarms.iter().any(|a| refers_to(a, id)),
            "{slug}: an alarm on {id}"
        );
        assert!(
            alarms.iter().any(|a| a
                .to_string()
                .contains(&format!(r#"{{"Name":"provider","Value":"{slug}"}}"#))),
            "{slug}: an alarm on its hookgate metrics"
        );
        assert!(
            dashboard.contains(&format!("${{{id}}}")),
            "{slug}: the dashboard shows {id}"
        );
        assert!(
            dashboard.contains(&format!(r#"\"provider\", \"{slug}\""#)),
            "{slug}: the dashboard shows its hookgate metrics"
        );

        // env.json configures it for `sam local invoke` and `make run`.
        let env: Vec<String> = env_json(id).into_iter().map(|(k, _)| k).collect();
        for var in r.secret_vars {
            assert!(
                env.iter().any(|k| k == var.name),
                "{slug}: env.json {id} sets {}",
                var.name
            );
        }
        // Its sample events exist (scripts/make-events.py writes them).
        let events: Vec<String> = std::fs::read_dir(root().join("events").join(slug))
            .unwrap_or_else(|e| panic!("events/{slug}: {e}"))
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert!(
            events
                .iter()
                .any(|e| !e.starts_with("invalid-") && !e.starts_with("quarantine-")),
            "{slug}: a valid sample event"
        );
        assert!(
            events.iter().any(|e| e.starts_with("invalid-")),
            "{slug}: invalid sample events"
        );
        assert!(
            events.iter().any(|e| e.starts_with("quarantine-")),
            "{slug}: quarantine sample events"
        );
        // The schemas' patterns and the README's provider table name it.
        for (path, text) in [("envelope", &envelope), ("quarantine", &quarantine)] {
            assert!(
                text.contains(&format!("|{slug}")) || text.contains(&format!("({slug}|")),
                "{slug}: the {path} schema's source pattern"
            );
        }
        assert!(
            readme.contains(&format!("| `{slug}` |")),
            "{slug}: README's provider table"
        );
    }
}
