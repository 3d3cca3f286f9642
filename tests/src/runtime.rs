//! A Lambda Runtime API emulator: the HTTP API a Lambda function polls for
//! invocations and answers on. It lets the suite run the real release
//! binaries exactly as Lambda would, without Lambda.
//!
//! Implements `GET /2018-06-01/runtime/invocation/next`,
//! `POST /2018-06-01/runtime/invocation/<id>/response` and `/error`, and
//! `POST /2018-06-01/runtime/init/error`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc, oneshot};

/// What the function answered to one invocation.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `/response`: the handler's return value (JSON).
    Response(serde_json::Value),
    /// `/error`: the handler failed (a bug for hookgate).
    Error(serde_json::Value),
}

struct Invocation {
    id: String,
    event: String,
    trace_id: Option<String>,
}

#[derive(Default)]
struct Shared {
    pending: std::sync::Mutex<HashMap<String, oneshot::Sender<Reply>>>,
    init_error: std::sync::Mutex<Option<serde_json::Value>>,
    polls: AtomicU64,
    first_poll: std::sync::OnceLock<Instant>,
}

/// A running emulator on 127.0.0.1.
pub struct Runtime {
    addr: SocketAddr,
    queue: mpsc::UnboundedSender<Invocation>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Runtime {
    /// Starts an emulator on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind runtime API");
        let addr = listener.local_addr().expect("runtime API address");
        let (tx, rx) = mpsc::unbounded_channel::<Invocation>();
        let rx = Arc::new(Mutex::new(rx));
        let shared = Arc::new(Shared::default());
        let server = {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let rx = Arc::clone(&rx);
                    let shared = Arc::clone(&shared);
                    tokio::spawn(async move {
                        let svc =
                            service_fn(move |req| route(req, Arc::clone(&rx), Arc::clone(&shared)));
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            })
        };
        Self {
            addr,
            queue: tx,
            shared,
            next_id: AtomicU64::new(1),
            server,
        }
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn api(&self) -> String {
        self.addr.to_string()
    }

    /// How many times a function has asked for its next invocation.
    pub fn polls(&self) -> u64 {
        self.shared.polls.load(Ordering::SeqCst)
    }

    /// When the function first asked for an invocation: the end of its
    /// init, as Lambda counts it.
    pub fn first_poll(&self) -> Option<Instant> {
        self.shared.first_poll.get().copied()
    }

    /// The error a function reported at init, if any.
    pub fn init_error(&self) -> Option<serde_json::Value> {
        self.shared.init_error.lock().expect("lock").clone()
    }

    /// Invokes the function with `event` and waits up to `timeout` for its answer.
    pub async fn invoke(&self, event: &serde_json::Value, timeout: Duration) -> Option<Reply> {
        self.invoke_traced(event, None, timeout).await
    }

    /// Like [`Runtime::invoke`], passing an X-Ray trace header as Lambda does.
    pub async fn invoke_traced(
        &self,
        event: &serde_json::Value,
        trace_id: Option<&str>,
        timeout: Duration,
    ) -> Option<Reply> {
        let id = format!("req-{}", self.next_id.fetch_add(1, Ordering::SeqCst));
        let (tx, rx) = oneshot::channel();
        self.shared
            .pending
            .lock()
            .expect("lock")
            .insert(id.clone(), tx);
        self.queue
            .send(Invocation {
                id,
                event: event.to_string(),
                trace_id: trace_id.map(str::to_owned),
            })
            .ok()?;
        tokio::time::timeout(timeout, rx).await.ok()?.ok()
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

async fn route(
    req: Request<Incoming>,
    rx: Arc<Mutex<mpsc::UnboundedReceiver<Invocation>>>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let rest = path.strip_prefix("/2018-06-01/runtime/").unwrap_or("");
    let parts: Vec<&str> = rest.split('/').collect();
    match (method, parts.as_slice()) {
        (Method::GET, ["invocation", "next"]) => {
            shared.first_poll.get_or_init(Instant::now);
            shared.polls.fetch_add(1, Ordering::SeqCst);
            let next = rx.lock().await.recv().await;
            let Some(inv) = next else {
                return Ok(reply(StatusCode::GONE, ""));
            };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                + 30_000;
            let mut r = reply(StatusCode::OK, inv.event);
            let h = r.headers_mut();
            // Lambda sends it; awslambdaric's native client crashes without it.
            h.insert(
                hyper::header::CONTENT_TYPE,
                "application/json".parse().expect("content type"),
            );
            h.insert(
                "lambda-runtime-aws-request-id",
                inv.id.parse().expect("id header"),
            );
            h.insert(
                "lambda-runtime-deadline-ms",
                deadline.to_string().parse().expect("deadline"),
            );
            h.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:hookgate-test"
                    .parse()
                    .expect("arn"),
            );
            if let Some(trace) = inv.trace_id {
                h.insert(
                    "lambda-runtime-trace-id",
                    trace.parse().expect("trace header"),
                );
            }
            Ok(r)
        }
        (Method::POST, ["invocation", id, kind @ ("response" | "error")]) => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let value = serde_json::from_slice(&body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&body).into_owned())
            });
            let answer = if *kind == "response" {
                Reply::Response(value)
            } else {
                Reply::Error(value)
            };
            if let Some(tx) = shared.pending.lock().expect("lock").remove(*id) {
                let _ = tx.send(answer);
            }
            Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
        }
        (Method::POST, ["init", "error"]) => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            *shared.init_error.lock().expect("lock") =
                Some(serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null));
            Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
        }
        _ => Ok(reply(StatusCode::NOT_FOUND, "")),
    }
}
