//! The Panjaya webhook function.

use hookgate::{Config, Gate, SqsSink, providers::Panjaya};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hookgate::init_tracing();
    let config = Config::<Panjaya>::load().await?;
    let sink = SqsSink::connect(&config.common).await;
    hookgate::serve(Gate::new(config, sink)).await
}
