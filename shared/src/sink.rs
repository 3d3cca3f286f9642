//! Where envelopes go: SQS in production, memory in unit tests.
//!
//! The handler answers 2xx only after [`Sink::send`] returned `Ok`, and
//! sends exactly once per 2xx.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeNameForSends, MessageSystemAttributeValue,
    QueueAttributeName,
};

use crate::config::{Common, DEFAULT_MAX_MESSAGE_BYTES};

/// How long the best-effort queue lookup at cold start may take.
const INIT_LOOKUP_TIMEOUT: Duration = Duration::from_millis(1_000);

/// FIFO queue ids for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoIds {
    /// `MessageGroupId`.
    pub group_id: String,
    /// `MessageDeduplicationId`.
    pub deduplication_id: String,
}

/// One message, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The envelope JSON.
    pub body: String,
    /// String message attributes (`provider`, `type`, `outcome`).
    pub attributes: Vec<(&'static str, String)>,
    /// Set for FIFO queues.
    pub fifo: Option<FifoIds>,
    /// The X-Ray trace header, sent as the `AWSTraceHeader` system attribute.
    pub trace_header: Option<String>,
}

impl Message {
    /// The size SQS counts against its limit: the body plus each attribute's
    /// name, data type and value.
    pub fn size(&self) -> usize {
        self.body.len()
            + self
                .attributes
                .iter()
                .map(|(name, value)| name.len() + "String".len() + value.len())
                .sum::<usize>()
    }
}

/// Why a send failed. Logged; the caller only ever sees 503.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The send, retries included, did not finish within the budget.
    #[error("the queue did not answer within {0:?}")]
    Timeout(Duration),
    /// The queue (or the way to it) refused or failed.
    #[error("the queue refused the message: {0}")]
    Failed(String),
}

/// A destination for messages.
pub trait Sink: Send + Sync {
    /// The largest message the destination takes, in bytes.
    fn max_message_bytes(&self) -> usize;

    /// Whether the destination is a FIFO queue.
    fn is_fifo(&self) -> bool;

    /// Sends one message; `Ok` only once the destination accepted it.
    fn send(&self, message: Message) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// An SQS queue.
#[derive(Debug, Clone)]
pub struct SqsSink {
    client: Client,
    queue_url: String,
    timeout: Duration,
    max_message_bytes: usize,
}

impl SqsSink {
    /// Builds the client once and asks the queue for its maximum message
    /// size. That lookup is best effort: cold start never depends on SQS
    /// being reachable, and it also opens the connection the first request
    /// will reuse.
    pub async fn connect(common: &Common) -> Self {
        // The whole send is bounded by `timeout` in `send`; a stuck attempt
        // gives up early enough for a retry to fit in the same budget.
        let attempt = (common.sqs_timeout * 2 / 5).max(Duration::from_millis(50));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(attempt.min(Duration::from_secs(1)))
            .operation_attempt_timeout(attempt)
            .operation_timeout(common.sqs_timeout)
            .build();
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .load()
            .await;
        Self::with_client(Client::new(&sdk), &common.queue_url, common.sqs_timeout).await
    }

    /// A sink on `queue_url` through `client`, sends bounded by `timeout`;
    /// asks the queue for its maximum message size (best effort).
    pub async fn with_client(client: Client, queue_url: &str, timeout: Duration) -> Self {
        let max_message_bytes =
            lookup_max_message_bytes(&client, queue_url, INIT_LOOKUP_TIMEOUT.min(timeout)).await;
        Self {
            client,
            queue_url: queue_url.to_owned(),
            timeout,
            max_message_bytes,
        }
    }

    /// A sink on another queue, through the same client and connections.
    pub async fn to_queue(&self, queue_url: &str) -> Self {
        Self::with_client(self.client.clone(), queue_url, self.timeout).await
    }
}

async fn lookup_max_message_bytes(client: &Client, queue_url: &str, limit: Duration) -> usize {
    let call = client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::MaximumMessageSize)
        .send();
    let found = match tokio::time::timeout(limit, call).await {
        Ok(Ok(out)) => out
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::MaximumMessageSize))
            .and_then(|v| v.parse::<usize>().ok()),
        Ok(Err(err)) => {
            tracing::warn!(error = %error_chain(&err), "could not read the queue's maximum message size");
            None
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = limit.as_millis() as u64,
                "the queue's maximum message size lookup timed out"
            );
            None
        }
    };
    found.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES)
}

/// An error and its sources on one line, for the log.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl Sink for SqsSink {
    fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    fn is_fifo(&self) -> bool {
        self.queue_url.ends_with(".fifo")
    }

    async fn send(&self, message: Message) -> Result<(), SinkError> {
        let mut req = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(message.body);
        for (name, value) in message.attributes {
            let attr = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| SinkError::Failed(e.to_string()))?;
            req = req.message_attributes(name, attr);
        }
        if let Some(fifo) = message.fifo {
            req = req
                .message_group_id(fifo.group_id)
                .message_deduplication_id(fifo.deduplication_id);
        }
        if let Some(trace) = message.trace_header {
            let attr = MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(trace)
                .build()
                .map_err(|e| SinkError::Failed(e.to_string()))?;
            req = req.message_system_attributes(
                MessageSystemAttributeNameForSends::AwsTraceHeader,
                attr,
            );
        }
        match tokio::time::timeout(self.timeout, req.send()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(SinkError::Failed(error_chain(&err))),
            Err(_) => Err(SinkError::Timeout(self.timeout)),
        }
    }
}

/// Keeps messages in memory. For unit tests, benchmarks and fuzzing, where
/// the pipeline runs without a queue; it can be told to fail like a queue
/// that is down. A clone is the same memory: what one sends, the other
/// takes.
#[derive(Debug, Clone)]
pub struct MemorySink {
    messages: Arc<Mutex<Vec<Message>>>,
    fail: Arc<AtomicBool>,
    fifo: bool,
    max_message_bytes: usize,
}

impl Default for MemorySink {
    fn default() -> Self {
        Self::new(false, DEFAULT_MAX_MESSAGE_BYTES)
    }
}

impl MemorySink {
    /// An empty sink.
    pub fn new(fifo: bool, max_message_bytes: usize) -> Self {
        Self {
            messages: Arc::new(Mutex::new(Vec::new())),
            fail: Arc::new(AtomicBool::new(false)),
            fifo,
            max_message_bytes,
        }
    }

    /// Makes every later send fail (or succeed again).
    pub fn set_failing(&self, fail: bool) {
        self.fail.store(fail, Ordering::SeqCst);
    }

    /// Takes the messages sent so far.
    pub fn take(&self) -> Vec<Message> {
        std::mem::take(&mut *self.messages.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Sink for MemorySink {
    fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    fn is_fifo(&self) -> bool {
        self.fifo
    }

    async fn send(&self, message: Message) -> Result<(), SinkError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(SinkError::Failed(
                "the in-memory queue is set to fail".into(),
            ));
        }
        self.messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message);
        Ok(())
    }
}
