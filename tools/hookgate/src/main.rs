//! `hookgate`: try a hookgate deployment or local stack by hand.
//!
//! - `send` signs a payload file exactly as its provider does and POSTs it;
//! - `tail` prints the envelopes arriving on the queue;
//! - `event` prints the API Gateway event Lambda would receive for such a
//!   delivery (the `events/` samples are made with it);
//! - `quarantine list` and `quarantine replay` show the deliveries a
//!   function kept because it could not normalize them, and move those that
//!   this version can normalize to the events queue;
//! - `providers` lists the providers, what their senders hold and how they
//!   sign, from the library's registry (`--json` for scripts).
//!
//! Every failure is one line on stderr and a non-zero exit, never a panic.

mod event;
mod net;
mod quarantine;
mod sign;
mod tail;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use http::header::{HeaderName, HeaderValue};
use http::{Method, Uri};
use sha2::{Digest, Sha256};

use hookgate::verify::Signed;

use crate::sign::Signer;

/// A failure, as one sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(String);

impl CliError {
    /// An error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Exit status when the endpoint answered, but not with 2xx.
const REFUSED: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "hookgate",
    version,
    about = "Send signed sample webhooks to hookgate, read its queue, make API Gateway test events."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign a payload file as the provider does and POST it to a hookgate URL.
    ///
    /// Prints the HTTP status and the answer's body. Exits 0 on 2xx, 3 on
    /// any other status, 1 when nothing was answered (2 is a usage error).
    Send(SendArgs),
    /// Print the envelopes arriving on the queue, one line each.
    Tail(TailArgs),
    /// Print the API Gateway HTTP API (payload 2.0) event that a signed
    /// delivery of the payload becomes, for `sam local invoke -e` or
    /// `cargo lambda invoke --data-file`.
    Event(EventArgs),
    /// Show or replay the deliveries kept on the quarantine queue.
    #[command(subcommand)]
    Quarantine(QuarantineCommand),
    /// List the providers: the credential each sender holds, the flag and
    /// variable it is read from, and the ways each signs (`--style`).
    Providers {
        /// Print JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum QuarantineCommand {
    /// Print each quarantined delivery: provider, event id, when it was
    /// received, and why it could not be normalized. Leaves them all.
    List(QuarantineArgs),
    /// Normalize each quarantined delivery again with this version; send
    /// those that now pass to the events queue (same event id) and delete
    /// them from the quarantine; leave the rest, saying why.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
struct QuarantineArgs {
    /// The quarantine queue (the stack's QuarantineQueueUrl output).
    #[arg(long, env = "QUARANTINE_QUEUE_URL")]
    queue_url: String,
    /// SQS endpoint for a local server [default: AWS_ENDPOINT_URL_SQS].
    #[arg(long)]
    endpoint_url: Option<String>,
}

#[derive(Debug, Args)]
struct ReplayArgs {
    #[command(flatten)]
    quarantine: QuarantineArgs,
    /// The events queue (the stack's EventsQueueUrl output).
    #[arg(long, env = "QUEUE_URL")]
    to_queue_url: String,
}

/// What is delivered and how it is signed.
#[derive(Debug, Args)]
struct Delivery {
    /// The provider whose signature to make (`hookgate providers` lists
    /// them with their flags and styles).
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(sign::slugs()))]
    provider: String,
    /// The payload file; its bytes are sent exactly as they are.
    payload: PathBuf,
    /// The shared secret, for a provider that signs with one [default: the
    /// first of the function's variable, e.g. REDNER_WEBHOOK_SECRETS].
    #[arg(long)]
    secret: Option<String>,
    /// The private key PEM file, PKCS#8 or SEC1, for a provider that signs
    /// with one [default: the path in <SLUG>_PRIVATE_KEY].
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,
    /// The shared token, for a provider that sends one [default: the first
    /// of the function's variable, e.g. NAMIRIAL_TOKENS].
    #[arg(long)]
    token: Option<String>,
    /// How to sign, for a provider with more than one way [default: its
    /// usual one]; `hookgate providers` lists them.
    #[arg(long)]
    style: Option<String>,
    /// The signed time, Unix seconds, for a provider whose signature
    /// carries one [default: now].
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    timestamp: Option<i64>,
    /// Send no credential at all.
    #[arg(long, conflicts_with_all = ["secret", "key", "token", "timestamp"])]
    unsigned: bool,
    /// Sign the payload but deliver this file's bytes instead: a forged
    /// delivery, which hookgate must refuse with 401.
    #[arg(long, value_name = "FILE")]
    forge_body: Option<PathBuf>,
    /// The HTTP method.
    #[arg(long, default_value = "POST")]
    method: String,
    /// The Content-Type header; an empty value sends none.
    #[arg(long, default_value = "application/json")]
    content_type: String,
}

#[derive(Debug, Args)]
struct SendArgs {
    #[command(flatten)]
    delivery: Delivery,
    /// The function's URL, e.g. http://127.0.0.1:9000/lambda-url/redner/ or
    /// https://<api>/webhooks/redner.
    #[arg(long)]
    url: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

#[derive(Debug, Args)]
struct EventArgs {
    #[command(flatten)]
    delivery: Delivery,
    /// The request path [default: /webhooks/<provider>].
    #[arg(long)]
    path: Option<String>,
    /// The caller's address.
    #[arg(long, default_value = "203.0.113.9")]
    source_ip: String,
    /// API Gateway's request id [default: derived from the body].
    #[arg(long)]
    request_id: Option<String>,
    /// When API Gateway received the request, Unix seconds [default: the
    /// signed time when there is one, else now].
    #[arg(long, value_name = "UNIX_SECONDS")]
    at: Option<i64>,
}

#[derive(Debug, Args)]
struct TailArgs {
    /// The queue to read.
    #[arg(long, env = "QUEUE_URL")]
    queue_url: String,
    /// SQS endpoint for a local server [default: AWS_ENDPOINT_URL_SQS].
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Print each message's raw body instead of a summary line.
    #[arg(long)]
    json: bool,
    /// Delete each message once printed (consume the queue).
    #[arg(long)]
    delete: bool,
    /// Stop after this many messages.
    #[arg(long, value_name = "N")]
    max: Option<u64>,
    /// Stop after this many seconds without a message.
    #[arg(long, value_name = "SECONDS")]
    wait: Option<u64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&CliError::new(format!("cannot start the runtime: {e}"))),
    };
    let result = match cli.command {
        Command::Send(args) => runtime.block_on(send(args)),
        Command::Tail(args) => runtime.block_on(tail(args)),
        Command::Event(args) => event(&args),
        Command::Quarantine(command) => runtime.block_on(quarantine(command)),
        Command::Providers { json } => sign::describe(json).map(|text| {
            print!("{text}");
            if json {
                println!();
            }
            ExitCode::SUCCESS
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn fail(e: &CliError) -> ExitCode {
    eprintln!("hookgate: error: {e}");
    ExitCode::FAILURE
}

/// A delivery ready to go out: its bytes, headers and query parameter.
struct Prepared {
    body: Vec<u8>,
    method: Method,
    headers: Vec<(String, String)>,
    /// `name=value`, encoded.
    query: Option<String>,
    signer: Signer,
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, CliError> {
    std::fs::read(path)
        .map_err(|e| CliError::new(format!("cannot read the {what} {}: {e}", path.display())))
}

fn prepare(d: &Delivery) -> Result<Prepared, CliError> {
    let method = Method::from_bytes(d.method.as_bytes())
        .map_err(|_| CliError::new(format!("{:?} is not an HTTP method", d.method)))?;
    let payload = read_file(&d.payload, "payload")?;
    let opts = sign::Options {
        secret: d.secret.clone(),
        key: d.key.clone(),
        token: d.token.clone(),
        style: d.style.clone(),
        timestamp: d.timestamp,
        unsigned: d.unsigned,
    };
    let provider = sign::provider(&d.provider)?;
    let signer = Signer::new(provider, &opts, Utc::now().timestamp(), &|var| {
        std::env::var(var).ok()
    })?;
    let signed = signer.sign(&payload)?;
    let query = signed.query_string();
    let Signed { headers, .. } = signed;
    let body = match &d.forge_body {
        Some(path) => read_file(path, "forged body")?,
        None => payload,
    };
    let mut all = Vec::new();
    if !d.content_type.is_empty() {
        all.push(("content-type".to_owned(), d.content_type.clone()));
    }
    all.extend(headers.into_iter().map(|(n, v)| (n.to_owned(), v)));
    Ok(Prepared {
        body,
        method,
        headers: all,
        query,
        signer,
    })
}

async fn send(args: SendArgs) -> Result<ExitCode, CliError> {
    // The URL first: a typo should not wait for a key to load.
    net::target(&args.url, None)?;
    let p = prepare(&args.delivery)?;
    let uri: Uri = net::target(&args.url, p.query.as_deref())?;
    let mut headers = Vec::new();
    for (name, value) in &p.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| CliError::new(format!("{name:?} is not a header name")))?;
        let v = HeaderValue::from_str(value)
            .map_err(|_| CliError::new(format!("the {name} value is not a valid header value")))?;
        headers.push((n, v));
    }
    let answer = net::deliver(
        uri,
        p.method,
        headers,
        p.body,
        Duration::from_secs(args.timeout),
        &args.url,
    )
    .await?;
    let reason = answer.status.canonical_reason().unwrap_or("");
    println!("HTTP {} {reason}", answer.status.as_u16());
    let text = String::from_utf8_lossy(&answer.body);
    if !text.is_empty() {
        println!("{text}");
    }
    Ok(if answer.status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(REFUSED)
    })
}

async fn tail(args: TailArgs) -> Result<ExitCode, CliError> {
    let opts = tail::Options {
        queue_url: args.queue_url,
        endpoint_url: args.endpoint_url,
        json: args.json,
        delete: args.delete,
        max: args.max,
        wait: args.wait,
    };
    let n = tail::run(&opts).await?;
    if let Some(max) = opts.max.filter(|m| n < *m) {
        eprintln!(
            "hookgate: {n} of {max} messages: none arrived for {} s",
            opts.wait.unwrap_or(0)
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn quarantine(command: QuarantineCommand) -> Result<ExitCode, CliError> {
    match command {
        QuarantineCommand::List(args) => {
            let client = tail::client(args.endpoint_url.as_deref()).await?;
            quarantine::list(&client, &args.queue_url).await?;
        }
        QuarantineCommand::Replay(args) => {
            let q = args.quarantine;
            let client = tail::client(q.endpoint_url.as_deref()).await?;
            quarantine::replay_all(&client, &q.queue_url, &args.to_queue_url).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn event(args: &EventArgs) -> Result<ExitCode, CliError> {
    let p = prepare(&args.delivery)?;
    let slug = &args.delivery.provider;
    let path = args
        .path
        .clone()
        .unwrap_or_else(|| format!("/webhooks/{slug}"));
    // A fixed time makes a regenerated event the same file.
    let at = args
        .at
        .or(p.signer.signed_at())
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .unwrap_or_else(Utc::now);
    let request_id = args.request_id.clone().unwrap_or_else(|| {
        let digest = Sha256::digest(&p.body);
        format!(
            "{slug}-{}",
            hex::encode(digest.get(..6).unwrap_or_default())
        )
    });
    let json = event::api_gateway_v2(&hookgate::apigw::HttpApiRequest {
        method: p.method.as_str(),
        path: &path,
        headers: &p.headers,
        query: p.query.as_deref().unwrap_or(""),
        body: &p.body,
        base64: false,
        source_ip: Some(&args.source_ip),
        request_id: &request_id,
        time: at,
    });
    let text = serde_json::to_string_pretty(&json)
        .map_err(|e| CliError::new(format!("cannot write the event: {e}")))?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
