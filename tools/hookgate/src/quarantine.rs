//! `hookgate quarantine list|replay`: what the functions kept because they
//! could not normalize it, and moving it to the events queue once this
//! version of hookgate can.
//!
//! Both read every message on the quarantine queue, keeping each invisible
//! while they work (so one run sees each message once), and make what they
//! leave behind visible again at the end.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry;
use hookgate::quarantine::{describe, read_record, replay};
use hookgate::{Sink as _, SqsSink};

use crate::CliError;

/// How long a read message stays hidden while this run works on it.
const HIDDEN_SECONDS: i32 = 120;
/// SQS's largest receive and visibility batch.
const MAX_BATCH: usize = 10;
/// How long one send to the events queue may take, retries included.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// One message read from the quarantine queue.
struct Kept {
    message_id: String,
    receipt_handle: String,
    body: String,
}

/// Reads every message on `queue_url`, hiding each for [`HIDDEN_SECONDS`].
async fn read_all(client: &Client, queue_url: &str) -> Result<Vec<Kept>, CliError> {
    let mut all = Vec::new();
    loop {
        let resp = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(MAX_BATCH as i32)
            .visibility_timeout(HIDDEN_SECONDS)
            // A short long-poll asks every SQS server, so an empty answer
            // means an empty queue rather than an unlucky sample.
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| {
                CliError::new(format!(
                    "cannot read {queue_url}: {}",
                    DisplayErrorContext(&e)
                ))
            })?;
        let messages = resp.messages();
        if messages.is_empty() {
            return Ok(all);
        }
        for m in messages {
            all.push(Kept {
                message_id: m.message_id().unwrap_or("?").to_owned(),
                receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
                body: m.body().unwrap_or_default().to_owned(),
            });
        }
    }
}

/// Makes `kept` visible again on `queue_url`.
async fn release(client: &Client, queue_url: &str, kept: &[&Kept]) -> Result<(), CliError> {
    for chunk in kept.chunks(MAX_BATCH) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, k)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&k.receipt_handle)
                    .visibility_timeout(0)
                    .build()
                    .map_err(|e| CliError::new(format!("cannot release a message: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        client
            .change_message_visibility_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| {
                CliError::new(format!(
                    "cannot make messages visible again on {queue_url}: {}",
                    DisplayErrorContext(&e)
                ))
            })?;
    }
    Ok(())
}

/// Prints one line per quarantined delivery; returns how many.
pub async fn list(client: &Client, queue_url: &str) -> Result<usize, CliError> {
    let kept = read_all(client, queue_url).await?;
    for k in &kept {
        match read_record(&k.body) {
            Ok(r) => println!(
                "{} {} received {} reasons: {}",
                r.data.provider,
                r.id,
                r.data
                    .received_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                describe(&r.data.reasons)
            ),
            Err(e) => println!("? message {}: {e}", k.message_id),
        }
    }
    release(client, queue_url, &kept.iter().collect::<Vec<_>>()).await?;
    println!("{} quarantined", kept.len());
    Ok(kept.len())
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Replayed {
    /// Sent to the events queue and deleted from the quarantine.
    pub moved: usize,
    /// Left in the quarantine.
    pub kept: usize,
}

/// Moves each record that now normalizes to `to_queue_url` (same event id)
/// and deletes it from `queue_url`; leaves the rest, saying why.
pub async fn replay_all(
    client: &Client,
    queue_url: &str,
    to_queue_url: &str,
) -> Result<Replayed, CliError> {
    let events = SqsSink::with_client(client.clone(), to_queue_url, SEND_TIMEOUT).await;
    let all = read_all(client, queue_url).await?;
    let mut left = Vec::new();
    let mut done = Replayed::default();
    let mut failure = None;
    for k in &all {
        let prepared = read_record(&k.body).and_then(|record| {
            replay(&record, events.is_fifo(), events.max_message_bytes())
                .map(|p| (record.data.provider, p))
        });
        let (provider, prepared) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let who = read_record(&k.body)
                    .map(|r| format!("{} {}", r.data.provider, r.id))
                    .unwrap_or_else(|_| format!("message {}", k.message_id));
                println!("kept {who}: {e}");
                left.push(k);
                continue;
            }
        };
        let id = prepared.id.clone();
        if let Err(e) = events.send(prepared.message).await {
            failure = Some(CliError::new(format!(
                "cannot send {provider} {id} to {to_queue_url}: {e}"
            )));
            left.push(k);
            break;
        }
        // Sent: a failed delete now only leaves a duplicate behind, which
        // the same id lets consumers drop.
        client
            .delete_message()
            .queue_url(queue_url)
            .receipt_handle(&k.receipt_handle)
            .send()
            .await
            .map_err(|e| {
                CliError::new(format!(
                    "sent {provider} {id}, but cannot delete it from {queue_url}: {}",
                    DisplayErrorContext(&e)
                ))
            })?;
        println!("replayed {provider} {id}");
        done.moved += 1;
    }
    // After a failed send, what was not tried yet stays too.
    let untried = all.len() - done.moved - left.len();
    left.extend(all.iter().rev().take(untried));
    done.kept = left.len();
    release(client, queue_url, &left).await?;
    if let Some(e) = failure {
        return Err(e);
    }
    println!("replayed {}, kept {}", done.moved, done.kept);
    Ok(done)
}
