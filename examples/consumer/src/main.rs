//! The example consumer function: one batch of SQS messages per invocation,
//! answered with the ids of the messages to deliver again.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        consumer::handle_batch(event.payload, consumer::log_event)
            .await
            .map_err(Error::from)
    }))
    .await
}
