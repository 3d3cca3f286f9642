//! The Redner webhook function.

use hookgate::{Config, Gate, SqsSink, providers::Redner};

// One invocation at a time: a single-threaded runtime spares the thread
// pool and its cross-thread wake-ups.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    hookgate::init_tracing();
    let config = Config::<Redner>::load().await?;
    let sink = SqsSink::connect(&config.common).await;
    hookgate::serve(Gate::new(config, sink)).await
}
