//! The local SQS server: queues per test, reading messages back, and the
//! checks every message read must pass (the envelope's JSON Schema, and
//! SQS's character set, which the local server does not enforce).

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::BehaviorVersion;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};
use hookgate::envelope::{Envelope, sqs_allows};
use hookgate::quarantine::QuarantineRecord;
use serde_json::Value;

/// The local SQS endpoint, from `HOOKGATE_TEST_SQS_ENDPOINT`.
pub fn endpoint() -> String {
    std::env::var("HOOKGATE_TEST_SQS_ENDPOINT").unwrap_or_else(|_| {
        panic!("HOOKGATE_TEST_SQS_ENDPOINT is not set: run the suite with `make test`, which starts a local SQS server")
    })
}

/// A client for the local server.
pub async fn client() -> Client {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .region("us-east-1")
        .endpoint_url(endpoint())
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "hookgate-tests",
        ))
        .load()
        .await;
    Client::new(&conf)
}

/// Creates a queue with a unique name; FIFO when asked.
pub async fn create_queue(client: &Client, fifo: bool) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let mut name = format!(
        "it-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut req = client.create_queue();
    if fifo {
        name.push_str(".fifo");
        req = req
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "false");
    }
    req.queue_name(name)
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .expect("queue url")
        .to_owned()
}

/// A message read back from the queue.
#[derive(Debug, Clone)]
pub struct Received {
    /// The raw body.
    pub body: String,
    /// The body as the envelope type.
    pub envelope: Envelope,
    /// String message attributes.
    pub attributes: BTreeMap<String, String>,
    /// System attributes (`MessageGroupId`, `MessageDeduplicationId`, `AWSTraceHeader`...).
    pub system: BTreeMap<String, String>,
}

/// A validator for one of `schemas/`, with formats checked.
fn validator(schema: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(schema).expect("schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

static SCHEMA: LazyLock<jsonschema::Validator> =
    LazyLock::new(|| validator(include_str!("../../schemas/envelope.schema.json")));

/// Checks a message body against `schema` and SQS's character set.
fn check_against(schema: &jsonschema::Validator, body: &str) {
    if let Some(bad) = body.chars().find(|c| !sqs_allows(*c)) {
        panic!("message holds {bad:?}, which SQS cannot carry: {body}");
    }
    let value: Value = serde_json::from_str(body).expect("message is JSON");
    let errors: Vec<String> = schema
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "message does not match the schema: {errors:?}\n{body}"
    );
}

/// Checks a message body against the envelope's JSON Schema and SQS's
/// character set, and reads it as the envelope type.
pub fn check_body(body: &str) -> Envelope {
    check_against(&SCHEMA, body);
    serde_json::from_str(body).expect("message reads as the Envelope type")
}

/// Reads every visible message (without deleting), checking each.
pub async fn drain(client: &Client, queue_url: &str) -> Vec<Received> {
    read(client, queue_url, false).await
}

/// Reads and deletes every message, checking each: for queues with more
/// messages than can be read within one visibility timeout.
pub async fn take(client: &Client, queue_url: &str) -> Vec<Received> {
    read(client, queue_url, true).await
}

/// Reads and deletes up to ten messages (one receive), checking each.
pub async fn take_some(client: &Client, queue_url: &str) -> Vec<Received> {
    let mut out = Vec::new();
    receive(client, queue_url, true, &mut out).await;
    out
}

async fn read(client: &Client, queue_url: &str, delete: bool) -> Vec<Received> {
    let mut out = Vec::new();
    while receive(client, queue_url, delete, &mut out).await > 0 {}
    out
}

/// One receive (and delete); how many messages it got.
async fn receive(client: &Client, queue_url: &str, delete: bool, out: &mut Vec<Received>) -> usize {
    let raw = receive_raw(client, queue_url, delete).await;
    let n = raw.len();
    out.extend(raw.into_iter().map(|(body, attributes, system)| Received {
        envelope: check_body(&body),
        body,
        attributes,
        system,
    }));
    n
}

/// A message's body, string attributes and system attributes.
type Raw = (String, BTreeMap<String, String>, BTreeMap<String, String>);

/// One receive (and delete), checking the attributes' characters.
async fn receive_raw(client: &Client, queue_url: &str, delete: bool) -> Vec<Raw> {
    let resp = client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(0)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    let messages = resp.messages();
    if messages.is_empty() {
        return Vec::new();
    }
    if delete {
        let mut batch = client.delete_message_batch().queue_url(queue_url);
        for (i, m) in messages.iter().enumerate() {
            batch = batch.entries(
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .expect("delete entry"),
            );
        }
        let deleted = batch.send().await.expect("delete");
        assert!(
            deleted.failed().is_empty(),
            "delete failed: {:?}",
            deleted.failed()
        );
    }
    let mut out = Vec::new();
    for m in messages {
        let body = m.body().unwrap_or_default().to_owned();
        let attributes: BTreeMap<String, String> = m
            .message_attributes()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        for (k, v) in &attributes {
            assert!(
                v.chars().all(sqs_allows),
                "attribute {k} holds characters SQS cannot carry"
            );
        }
        let system = m
            .attributes()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        out.push((body, attributes, system));
    }
    out
}

/// A message read back from the quarantine queue.
#[derive(Debug, Clone)]
pub struct Kept {
    /// The raw body.
    pub body: String,
    /// The body as the record type.
    pub record: QuarantineRecord,
    /// String message attributes.
    pub attributes: BTreeMap<String, String>,
}

static QUARANTINE_SCHEMA: LazyLock<jsonschema::Validator> =
    LazyLock::new(|| validator(include_str!("../../schemas/quarantine.schema.json")));

/// Checks a quarantine message body against its JSON Schema and SQS's
/// character set, and reads it as the record type.
pub fn check_quarantine_body(body: &str) -> QuarantineRecord {
    check_against(&QUARANTINE_SCHEMA, body);
    hookgate::quarantine::read_record(body).expect("message reads as a quarantine record")
}

/// Reads every visible quarantine record (without deleting), checking each.
pub async fn drain_quarantine(client: &Client, queue_url: &str) -> Vec<Kept> {
    read_quarantine(client, queue_url, false).await
}

/// Reads and deletes every quarantine record, checking each.
pub async fn take_quarantine(client: &Client, queue_url: &str) -> Vec<Kept> {
    read_quarantine(client, queue_url, true).await
}

async fn read_quarantine(client: &Client, queue_url: &str, delete: bool) -> Vec<Kept> {
    let mut out = Vec::new();
    loop {
        let raw = receive_raw(client, queue_url, delete).await;
        if raw.is_empty() {
            return out;
        }
        out.extend(raw.into_iter().map(|(body, attributes, _)| Kept {
            record: check_quarantine_body(&body),
            body,
            attributes,
        }));
    }
}
