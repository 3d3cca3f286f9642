//! The shipped sample events (`events/<provider>/*.json`) against the
//! release binaries configured with the shipped `env.json`: every sample is
//! accepted and lands on the queue, every `quarantine-*.json` is answered
//! 200 `quarantined` and lands on the quarantine queue only, every
//! `invalid-*.json` gets its 4xx and lands nowhere. Only the queue settings
//! of `env.json` are replaced (its URLs name the queues `make run` creates).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hookgate::envelope::event_id;
use hookgate::providers::CredentialKind;
use hookgate::verify::es256::test_key;
use hookgate_tests::function::Function;
use hookgate_tests::providers::{Provider, each};
use hookgate_tests::sqs;
use serde_json::Value;

/// The repository root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The variables `env.json` gives the function `logical_id`.
pub(crate) fn env_json(logical_id: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("env.json")).expect("env.json at the root");
    let all: Value = serde_json::from_str(&text).expect("env.json is JSON");
    let vars = all[logical_id]
        .as_object()
        .unwrap_or_else(|| panic!("env.json has no {logical_id}"));
    vars.iter()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .unwrap_or_else(|| panic!("env.json {logical_id}.{k} is not a string"));
            (k.clone(), v.to_owned())
        })
        .collect()
}

/// env.json's variables for `logical_id` less its queue settings, which
/// name `make run`'s queues: the harness gives each test its own queues on
/// its own SQS server.
pub(crate) fn env_json_without_queues(logical_id: &str) -> Vec<(String, String)> {
    env_json(logical_id)
        .into_iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "QUEUE_URL" | "QUARANTINE_QUEUE_URL" | "AWS_ENDPOINT_URL_SQS"
            )
        })
        .collect()
}

/// `(file name, event)` for every event of `provider`, sorted by name.
fn events(provider: &str) -> Vec<(String, Value)> {
    let dir = root().join("events").join(provider);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("readable event");
            let event = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
            (name(p), event)
        })
        .collect()
}

fn name(p: &Path) -> String {
    p.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned()
}

/// The status an invalid sample is named for; any other name must still
/// get a 4xx.
fn expected_status(name: &str) -> Option<u16> {
    Some(match name {
        "invalid-wrong-method" => 405,
        "invalid-unsigned"
        | "invalid-wrong-credential"
        | "invalid-forged-body"
        | "invalid-stale-signature" => 401,
        _ => return None,
    })
}

/// The raw body an event carries.
fn body(event: &Value) -> Vec<u8> {
    use base64::Engine as _;
    let text = event["body"].as_str().unwrap_or_default();
    if event["isBase64Encoded"].as_bool() == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64 body")
    } else {
        text.as_bytes().to_vec()
    }
}

async fn check(provider: &str, logical_id: &str, min_valid: usize) {
    let client = sqs::client().await;
    let queue = sqs::create_queue(&client, false).await;
    let quarantine = sqs::create_queue(&client, false).await;
    assert!(
        env_json(logical_id)
            .iter()
            .any(|(k, _)| k == "QUARANTINE_QUEUE_URL"),
        "env.json gives {logical_id} a quarantine queue"
    );
    let config = env_json_without_queues(logical_id);
    let mut env: Vec<(&str, &str)> = config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.push(("QUEUE_URL", &queue));
    env.push(("QUARANTINE_QUEUE_URL", &quarantine));
    let f = Function::start(provider, &env).await;

    let all = events(provider);
    let (invalid, rest): (Vec<_>, Vec<_>) =
        all.iter().partition(|(n, _)| n.starts_with("invalid-"));
    let (kept, valid): (Vec<_>, Vec<_>) = rest
        .into_iter()
        .partition(|(n, _)| n.starts_with("quarantine-"));
    assert!(
        valid.len() >= min_valid && !invalid.is_empty() && kept.len() >= 2,
        "events/{provider} holds {} samples, {} invalid and {} quarantined ones",
        valid.len(),
        invalid.len(),
        kept.len()
    );

    for (name, event) in &kept {
        let reply = f.call(event).await;
        assert_eq!(reply.status, 200, "{provider}/{name}: {:?}", reply.body);
        assert_eq!(reply.body["quarantined"], true, "{provider}/{name}");
        let id = event_id(provider, &body(event));
        assert_eq!(reply.body["id"], id.as_str(), "{provider}/{name}");
    }
    let records = sqs::drain_quarantine(&client, &quarantine).await;
    assert_eq!(
        records.len(),
        kept.len(),
        "{provider}: one record per quarantined sample"
    );

    for (name, event) in &invalid {
        let reply = f.call(event).await;
        match expected_status(name) {
            Some(status) => assert_eq!(reply.status, status, "{provider}/{name}: {:?}", reply.body),
            None => assert!(
                (400..500).contains(&reply.status),
                "{provider}/{name}: {} {:?}",
                reply.status,
                reply.body
            ),
        }
    }
    assert!(
        sqs::drain(&client, &queue).await.is_empty(),
        "an invalid sample of {provider} reached the queue"
    );
    assert!(
        sqs::drain_quarantine(&client, &quarantine).await.is_empty(),
        "an invalid sample of {provider} was quarantined"
    );

    let mut ids = BTreeSet::new();
    for (name, event) in &valid {
        let reply = f.call(event).await;
        assert_eq!(reply.status, 200, "{provider}/{name}: {:?}", reply.body);
        let id = event_id(provider, &body(event));
        assert_eq!(reply.body["id"], id.as_str(), "{provider}/{name}");
        ids.insert(id);
    }
    let got = sqs::drain(&client, &queue).await;
    let landed: BTreeSet<String> = got.iter().map(|m| m.envelope.id.clone()).collect();
    assert_eq!(got.len(), valid.len(), "{provider}: one message per sample");
    assert_eq!(landed, ids, "{provider}");
    for m in &got {
        assert_eq!(m.envelope.data.provider, provider);
        assert_eq!(m.envelope.source, format!("hookgate/{provider}"));
    }
}

/// `RednerFunction` for `redner`: the function's logical id in the
/// template and env.json.
pub fn logical_id(slug: &str) -> String {
    let mut chars = slug.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
        + "Function"
}

#[tokio::test]
async fn every_providers_sample_events() {
    each(|p| async move { check(p.slug(), &logical_id(p.slug()), 1).await }).await;
}

#[test]
fn env_json_configures_every_function_with_local_values() {
    for p in Provider::all() {
        let id = logical_id(p.slug());
        let vars = env_json(&id);
        let queue = vars.iter().find(|(k, _)| k == "QUEUE_URL");
        assert!(
            queue.is_some_and(|(_, v)| v.starts_with("http://127.0.0.1:")),
            "{id}: QUEUE_URL should name the local queue"
        );
        // A private-key provider is configured with the test pair's public
        // half, not the provider's own key.
        if p.credential_kind() == CredentialKind::PrivateKey {
            let var = p.registered().credential_var();
            let key = vars.iter().find(|(k, _)| k == var).map(|(_, v)| v.trim());
            assert_eq!(key, Some(test_key::PUBLIC_PEM.trim()), "{id}");
        }
    }
}
