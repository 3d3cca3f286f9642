//! A hello-world Lambda function: answers every invocation with its own
//! event. `make bench` times its cold start and measures its size as the
//! floor for the webhook functions, which are built the same way.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
