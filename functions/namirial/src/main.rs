//! The Namirial One-Shot webhook function.

// One invocation at a time: a single-threaded runtime spares the thread
// pool and its cross-thread wake-ups.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    hookgate::run::<hookgate::providers::Namirial>().await
}
