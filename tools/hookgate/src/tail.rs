//! Reading the queue: long polls, and prints each envelope as one line (or
//! its raw body). Configured like the functions: `AWS_REGION`,
//! `AWS_ENDPOINT_URL_SQS` and the usual credential chain.

use std::io::Write as _;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use hookgate::Envelope;

use crate::CliError;

/// SQS's longest long poll.
const MAX_POLL_SECONDS: u64 = 20;
/// SQS's largest receive batch.
const MAX_BATCH: u64 = 10;

/// What to read and how to show it.
#[derive(Debug, Clone)]
pub struct Options {
    /// The queue.
    pub queue_url: String,
    /// An SQS endpoint overriding `AWS_ENDPOINT_URL_SQS`.
    pub endpoint_url: Option<String>,
    /// Print raw bodies rather than one line per envelope.
    pub json: bool,
    /// Delete each message once printed.
    pub delete: bool,
    /// Stop after this many messages.
    pub max: Option<u64>,
    /// Stop after this many seconds without a message.
    pub wait: Option<u64>,
}

/// An SQS client configured like the functions (`AWS_REGION`,
/// `AWS_ENDPOINT_URL_SQS`, the usual credential chain), with `endpoint_url`
/// overriding the endpoint.
pub async fn client(endpoint_url: Option<&str>) -> Result<Client, CliError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let conf = loader.load().await;
    if conf.region().is_none() {
        return Err(CliError::new(
            "no AWS region: set AWS_REGION (for a local queue any region, e.g. us-east-1)",
        ));
    }
    Ok(Client::new(&conf))
}

/// Polls until `max` messages were printed or `wait` seconds passed
/// without one (forever when neither is given). Returns how many it printed.
pub async fn run(opts: &Options) -> Result<u64, CliError> {
    if opts.max == Some(0) {
        return Ok(0);
    }
    let client = client(opts.endpoint_url.as_deref()).await?;
    let mut printed = 0u64;
    let mut last_seen = Instant::now();
    loop {
        let remaining = opts.max.map(|m| m.saturating_sub(printed));
        if remaining == Some(0) {
            return Ok(printed);
        }
        let poll = match opts.wait {
            Some(wait) => {
                let left = Duration::from_secs(wait).saturating_sub(last_seen.elapsed());
                if left.is_zero() {
                    return Ok(printed);
                }
                // Whole seconds, rounded up, so a short wait still polls.
                left.as_secs_f64().ceil().min(MAX_POLL_SECONDS as f64) as i32
            }
            None => MAX_POLL_SECONDS as i32,
        };
        let batch = remaining.unwrap_or(MAX_BATCH).min(MAX_BATCH) as i32;
        let resp = client
            .receive_message()
            .queue_url(&opts.queue_url)
            .max_number_of_messages(batch)
            .wait_time_seconds(poll)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| {
                CliError::new(format!(
                    "cannot read {}: {}",
                    opts.queue_url,
                    DisplayErrorContext(&e)
                ))
            })?;
        for m in resp.messages() {
            let body = m.body().unwrap_or_default();
            let id = m.message_id().unwrap_or("?");
            print_message(id, body, opts.json);
            if opts.delete {
                if let Some(handle) = m.receipt_handle() {
                    client
                        .delete_message()
                        .queue_url(&opts.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .map_err(|e| {
                            CliError::new(format!(
                                "cannot delete message {id}: {}",
                                DisplayErrorContext(&e)
                            ))
                        })?;
                }
            }
            printed += 1;
            last_seen = Instant::now();
        }
    }
}

fn print_message(id: &str, body: &str, json: bool) {
    let line = match serde_json::from_str::<Envelope>(body) {
        Ok(envelope) if !json => summary(&envelope),
        Ok(_) => body.to_owned(),
        Err(e) => {
            eprintln!(
                "hookgate: warning: message {id} is not a hookgate envelope ({e}); raw body:"
            );
            body.to_owned()
        }
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not worth a panic; the next read ends the run.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// One readable line: time, provider, type, outcome, subject, short id.
pub fn summary(e: &Envelope) -> String {
    format!(
        "{}  {:<8}  {:<32}  {:<15}  {}  {}",
        e.time.format("%Y-%m-%dT%H:%M:%SZ"),
        e.data.provider,
        e.event_type,
        e.data.outcome.as_str(),
        shown(&e.subject),
        e.id.get(..12).unwrap_or(&e.id),
    )
}

/// The subject as one token: quoted and escaped when it holds spaces or
/// control characters, so a line always has its six columns.
fn shown(s: &str) -> String {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        format!("{s:?}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &str = r#"{"specversion":"1.0","id":"544a0780c174deb5b41071a5368b584b52c5704dbbbb2e61404318baa0639d96","source":"hookgate/redner","type":"redner.job.completed","subject":"job_abc123","time":"2025-11-23T12:34:56Z","datacontenttype":"application/json","data":{"provider":"redner","event":"job.completed","outcome":"succeeded","resource":{"kind":"job","id":"job_abc123","parent":null},"status":"merged","outputs":[],"error":null,"received_at":"2025-11-23T12:34:57.120Z","request_id":"r","verification":{"scheme":"hmac-sha256","key_index":0},"payload":{}}}"#;

    #[test]
    fn one_line_per_envelope() {
        let e: Envelope = serde_json::from_str(ENVELOPE).unwrap();
        assert_eq!(
            summary(&e),
            "2025-11-23T12:34:56Z  redner    redner.job.completed              succeeded        job_abc123  544a0780c174"
        );
        let mut odd = e;
        odd.subject = "a b\nc".into();
        assert!(summary(&odd).contains(r#""a b\nc""#));
        assert!(!summary(&odd).contains('\n'));
    }
}
