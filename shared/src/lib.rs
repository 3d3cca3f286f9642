//! hookgate: the webhook front door. Providers POST event callbacks; each is
//! proven authentic over its raw bytes, validated, normalized into one
//! CloudEvents envelope and put on an SQS queue.
//!
//! One thin Lambda binary per provider runs the shared pipeline:
//!
//! ```no_run
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), lambda_http::Error> {
//!     hookgate::run::<hookgate::providers::Redner>().await
//! }
//! ```

pub mod apigw;
pub mod config;
pub mod envelope;
pub mod error;
pub mod gate;
pub mod json;
pub mod lambda;
pub mod metrics;
pub mod providers;
pub mod quarantine;
pub mod secrets;
pub mod sink;
pub mod verify;

#[cfg(test)]
mod testing;

pub use config::{Common, Config, ConfigError, Env, Source};
pub use envelope::{Envelope, Outcome};
pub use error::Rejection;
pub use gate::{AnyGate, Clock, Gate, Handle, Kind, Prepared};
pub use lambda::serve;
pub use sink::{MemorySink, Message, Sink, SqsSink};

/// Runs provider `P`'s function: starts logging, reads the configuration
/// (failing the cold start on anything missing or malformed), connects to
/// the events queue and, when `QUARANTINE_QUEUE_URL` is set, the quarantine
/// queue, and serves requests until the runtime stops.
pub async fn run<P: providers::Provider>() -> Result<(), lambda_http::Error> {
    init_tracing();
    let config = Config::<P>::load().await?;
    let sink = SqsSink::connect(&config.common).await;
    let quarantine = match &config.common.quarantine_queue_url {
        Some(url) => Some(sink.to_queue(url).await),
        None => None,
    };
    serve(Gate::new(config, sink).with_quarantine(quarantine)).await
}

/// Starts structured logging on stdout: JSON lines when the function's log
/// format is JSON (`AWS_LAMBDA_LOG_FORMAT`), level from
/// `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO.
///
/// The runtime's own TRACE line that prints each raw invocation event is
/// always held back: the event carries signatures and, for Namirial, the
/// token in its query string, and nothing may log those.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::filter::LevelFilter;

    // Lambda's advanced logging controls set a level; RUST_LOG may hold
    // full directives (`hookgate=debug`) for local runs.
    let lambda_level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|l| l.parse::<LevelFilter>().ok());
    let directives = match lambda_level {
        Some(_) => String::new(),
        None => std::env::var("RUST_LOG").unwrap_or_default(),
    };
    let mut filter = EnvFilter::builder()
        .with_default_directive(lambda_level.unwrap_or(LevelFilter::INFO).into())
        .parse_lossy(directives);
    if let Ok(cap) = "lambda_runtime::layers::api_response=debug".parse() {
        filter = filter.add_directive(cap);
    }
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // A second call (several gates in one process, tests) keeps the first.
    // JSON records name the runtime's invocation span once (`span`), not a
    // second time in a list of spans: CloudWatch Logs bills every byte.
    let _ = if json {
        builder.json().with_span_list(false).try_init()
    } else {
        builder.try_init()
    };
}
