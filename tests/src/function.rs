//! A release binary running under the runtime emulator, as on Lambda.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::runtime::{Reply, Runtime};

/// Where the release binaries are: `HOOKGATE_BIN_DIR`, else `target/release`.
pub fn bin_dir() -> PathBuf {
    std::env::var_os("HOOKGATE_BIN_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release"),
        PathBuf::from,
    )
}

/// The environment every function gets: the runtime's own variables, AWS
/// test credentials and the local SQS endpoint.
pub fn base_env(runtime: &Runtime, name: &str) -> BTreeMap<String, String> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime.api()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ENDPOINT_URL_SQS", crate::sqs::endpoint()),
        // The same local server answers for Secrets Manager.
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", crate::sqs::endpoint()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// What the function answered, as API Gateway would send it to the caller.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// HTTP status.
    pub status: u16,
    /// Response headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (`Null` if it is not JSON).
    pub body: Value,
}

impl HttpReply {
    /// The `error` code of an error body.
    pub fn error(&self) -> Option<&str> {
        self.body["error"].as_str()
    }
}

/// A running function process.
pub struct Function {
    child: Child,
    /// Its runtime emulator.
    pub runtime: Runtime,
    logs: Arc<Mutex<String>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Function {
    /// Starts the release binary `name` with the base environment plus `env`
    /// (an empty value removes a variable).
    pub async fn start(name: &str, env: &[(&str, &str)]) -> Self {
        let runtime = Runtime::start().await;
        let mut vars = base_env(&runtime, name);
        for (k, v) in env {
            if v.is_empty() {
                vars.remove(*k);
            } else {
                vars.insert((*k).to_owned(), (*v).to_owned());
            }
        }
        let path = bin_dir().join(name);
        assert!(
            path.is_file(),
            "{} is missing: build the release binaries first (make test does)",
            path.display()
        );
        let mut child = Command::new(&path)
            .env_clear()
            .envs(&vars)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let logs = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let logs = Arc::clone(&logs);
            readers.push(tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut l = logs.lock().expect("lock");
                    l.push_str(&line);
                    l.push('\n');
                }
            }));
        }
        Self {
            child,
            runtime,
            logs,
            readers,
        }
    }

    /// Sends one API Gateway event and returns the HTTP answer. Fails the
    /// test if the handler returned an error (a bug) or did not answer.
    pub async fn call(&self, event: &Value) -> HttpReply {
        self.call_traced(event, None).await
    }

    /// Sends one event of any front and returns the function's answer as
    /// the runtime received it (the JSON the front reads).
    pub async fn call_raw(&self, event: &Value) -> Value {
        match self.runtime.invoke(event, Duration::from_secs(30)).await {
            Some(Reply::Response(v)) => v,
            Some(Reply::Error(e)) => {
                panic!("the handler returned an error: {e}\nlogs:\n{}", self.logs())
            }
            None => panic!("no answer within 30 s\nlogs:\n{}", self.logs()),
        }
    }

    /// Like [`Function::call`], with an X-Ray trace header on the invocation.
    pub async fn call_traced(&self, event: &Value, trace: Option<&str>) -> HttpReply {
        match self
            .runtime
            .invoke_traced(event, trace, Duration::from_secs(30))
            .await
        {
            Some(Reply::Response(v)) => parse_reply(&v),
            Some(Reply::Error(e)) => {
                panic!("the handler returned an error: {e}\nlogs:\n{}", self.logs())
            }
            None => panic!("no answer within 30 s\nlogs:\n{}", self.logs()),
        }
    }

    /// Waits until the function finished its init and asked for work.
    pub async fn ready(&self) {
        let started = std::time::Instant::now();
        while self.runtime.polls() == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no /next within 20 s\nlogs:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Everything the process wrote so far (stdout and stderr).
    pub fn logs(&self) -> String {
        self.logs.lock().expect("lock").clone()
    }

    /// Waits up to `within` for the process to exit, and for everything it
    /// wrote to be read.
    pub async fn exit_status(&mut self, within: Duration) -> Option<ExitStatus> {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .ok()?
            .ok()?;
        for reader in self.readers.drain(..) {
            let _ = reader.await;
        }
        Some(status)
    }
}

/// The HTTP answer in a function's response, whichever front's shape it
/// has: `multiValueHeaders` (REST API, HTTP API 1.0, ALB) are read as well
/// as `headers`, repeated values joined with commas.
pub fn parse_reply(v: &Value) -> HttpReply {
    let status = v["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(0);
    let headers = v["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| {
                    (
                        k.to_ascii_lowercase(),
                        v.as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut headers: BTreeMap<String, String> = headers;
    if let Some(multi) = v["multiValueHeaders"].as_object() {
        for (k, values) in multi {
            let joined: Vec<&str> = values
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !joined.is_empty() {
                headers.insert(k.to_ascii_lowercase(), joined.join(","));
            }
        }
    }
    let raw = v["body"].as_str().unwrap_or_default();
    let bytes = if v["isBase64Encoded"].as_bool() == Some(true) {
        STANDARD.decode(raw).unwrap_or_default()
    } else {
        raw.as_bytes().to_vec()
    };
    HttpReply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}
