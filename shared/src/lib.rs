//! hookgate: the webhook front door. Providers POST event callbacks; each is
//! proven authentic over its raw bytes, validated, normalized into one
//! CloudEvents envelope and put on an SQS queue.
//!
//! One thin Lambda binary per provider wires these parts together:
//!
//! ```no_run
//! use hookgate::{Config, Gate, SqsSink, providers::Redner};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_http::Error> {
//!     hookgate::init_tracing();
//!     let config = Config::<Redner>::from_env()?;
//!     let sink = SqsSink::connect(&config.common).await;
//!     hookgate::serve(Gate::new(config, sink)).await
//! }
//! ```

pub mod config;
pub mod envelope;
pub mod error;
pub mod gate;
pub mod json;
pub mod providers;
pub mod sink;
pub mod verify;

pub use config::{Common, ConfigError, Env, Source};
pub use envelope::{Envelope, Outcome};
pub use error::Rejection;
pub use gate::{Clock, Config, Gate, Prepared, serve};
pub use sink::{MemorySink, Message, Sink, SqsSink};

/// Starts structured logging: JSON lines when the Lambda log format is JSON
/// (`AWS_LAMBDA_LOG_FORMAT`), level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
pub fn init_tracing() {
    lambda_http::tracing::init_default_subscriber();
}
