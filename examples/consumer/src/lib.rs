//! An example consumer of hookgate's queue: an SQS-triggered Lambda function
//! that reads each message as a [`hookgate::Envelope`] and hands it to a
//! processing function (here: one log line per event).
//!
//! The event source mapping uses `ReportBatchItemFailures`, so a message
//! that cannot be read or processed is reported on its own and only it is
//! delivered again; after the queue's `maxReceiveCount` receives SQS moves it
//! to the dead-letter queue, where an alarm fires. The rest of the batch is
//! deleted as done.
//!
//! The same event can arrive more than once (SQS standard queues deliver at
//! least once, providers retry): the envelope's `id` is derived from the
//! delivery's content, so keep it to drop duplicates.

use std::fmt::Display;
use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use hookgate::Envelope;

/// Why a whole batch is handed back to SQS.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A record without a message id cannot be reported on its own; failing
    /// the invocation makes SQS deliver the whole batch again instead.
    #[error("an SQS record has no message id")]
    MissingMessageId,
}

/// Why one message is delivered again.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The record carries no body.
    #[error("the message has no body")]
    NoBody,
    /// The body is not a hookgate envelope.
    #[error("the body is not a hookgate envelope: {0}")]
    NotAnEnvelope(#[from] serde_json::Error),
    /// The processing function refused it.
    #[error("processing failed: {0}")]
    Processing(String),
    /// An earlier message of this FIFO batch failed.
    #[error("an earlier message of the FIFO batch failed")]
    AfterFifoFailure,
}

/// Reads one message body as an envelope.
pub fn read(message: &SqsMessage) -> Result<Envelope, MessageError> {
    let body = message.body.as_deref().ok_or(MessageError::NoBody)?;
    Ok(serde_json::from_str(body)?)
}

/// Reads and processes every message of a batch, in order, and lists the
/// ones that failed so that only those are delivered again.
///
/// On a FIFO queue, order within a message group must survive a failure:
/// after the first failed message every later one is reported as failed too,
/// unprocessed, as Lambda's partial batch response for FIFO requires.
pub async fn handle_batch<F, Fut, E>(
    event: SqsEvent,
    mut process: F,
) -> Result<SqsBatchResponse, BatchError>
where
    F: FnMut(Envelope) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    // Checked before any processing, so a batch that must fail as a whole
    // has no side effects.
    if event
        .records
        .iter()
        .any(|m| m.message_id.as_deref().is_none_or(str::is_empty))
    {
        return Err(BatchError::MissingMessageId);
    }
    let mut response = SqsBatchResponse::default();
    let mut fifo_failed = false;
    for message in &event.records {
        let id = message.message_id.as_deref().unwrap_or_default();
        let fifo = message
            .event_source_arn
            .as_deref()
            .is_some_and(|arn| arn.ends_with(".fifo"));
        let result = if fifo && fifo_failed {
            Err(MessageError::AfterFifoFailure)
        } else {
            match read(message) {
                Ok(envelope) => process(envelope)
                    .await
                    .map_err(|e| MessageError::Processing(e.to_string())),
                Err(e) => Err(e),
            }
        };
        if let Err(error) = result {
            tracing::warn!(message_id = id, %error, "message not processed; SQS will deliver it again");
            fifo_failed |= fifo;
            response.add_failure(id);
        }
    }
    Ok(response)
}

/// The example's processing: one log line per event.
pub async fn log_event(envelope: Envelope) -> Result<(), std::convert::Infallible> {
    tracing::info!(
        id = %envelope.id,
        provider = %envelope.data.provider,
        r#type = %envelope.event_type,
        outcome = envelope.data.outcome.as_str(),
        subject = %envelope.subject,
        "event received"
    );
    Ok(())
}

#[cfg(test)]
mod tests;
