//! A fault-injecting HTTP proxy between a function and the SQS server.
//!
//! A function's `AWS_ENDPOINT_URL_SQS` points at the proxy, which forwards
//! each request to the real (local) SQS server, or, while a fault is set,
//! does to it what a failing network or a failing SQS would: refuses
//! connections, resets them, accepts and never answers, answers 5xx or a
//! throttling error, or answers late. Faults apply per request, so the SDK's
//! pooled keep-alive connections see them too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward it.
    None,
    /// Stop listening: new connections are refused by the OS, and requests
    /// on open connections are cut off.
    Refuse,
    /// Close the connection without an answer.
    Reset,
    /// Accept it and never answer.
    Hang,
    /// Answer with this 5xx status and an SQS `InternalError` body.
    Status(u16),
    /// Answer with SQS's throttling error (400 `RequestThrottled`).
    Throttle,
    /// Forward it after this delay.
    Delay(Duration),
}

struct State {
    fault: watch::Sender<Fault>,
    /// Requests that get `next_fault` before the standing fault applies again.
    next: AtomicU64,
    next_fault: std::sync::Mutex<Fault>,
    seen: AtomicU64,
    forwarded: AtomicU64,
}

/// A running proxy on 127.0.0.1.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("addr", &self.addr)
            .field("fault", &*self.state.fault.borrow())
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// Starts a proxy to `upstream` (`http://host:port`) on a free port.
    pub async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("upstream is http://<ip>:<port>");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (fault, _) = watch::channel(Fault::None);
        let state = Arc::new(State {
            fault,
            next: AtomicU64::new(0),
            next_fault: std::sync::Mutex::new(Fault::None),
            seen: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, addr, upstream, Arc::clone(&state)));
        Self { addr, state, task }
    }

    /// The value for `AWS_ENDPOINT_URL_SQS`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets the standing fault (`Fault::None` clears it).
    pub fn set(&self, fault: Fault) {
        self.state.fault.send_replace(fault);
    }

    /// The next `n` requests get `fault`; then the standing fault applies
    /// again. (`Fault::Refuse` is a listener state: use [`Proxy::set`].)
    pub fn fail_next(&self, n: u64, fault: Fault) {
        assert_ne!(fault, Fault::Refuse, "refusing is set, not counted");
        *self.state.next_fault.lock().expect("lock") = fault;
        self.state.next.store(n, Ordering::SeqCst);
    }

    /// Requests that reached the proxy.
    pub fn seen(&self) -> u64 {
        self.state.seen.load(Ordering::SeqCst)
    }

    /// Requests passed on to SQS (including late ones).
    pub fn forwarded(&self) -> u64 {
        self.state.forwarded.load(Ordering::SeqCst)
    }
}

async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    upstream: SocketAddr,
    state: Arc<State>,
) {
    let mut changes = state.fault.subscribe();
    let mut listener = Some(listener);
    loop {
        let refusing = *changes.borrow_and_update() == Fault::Refuse;
        match (&listener, refusing) {
            (Some(_), true) => listener = None,
            (None, false) => {
                // The same port again, so the function's endpoint stays valid.
                let mut bound = None;
                for _ in 0..100 {
                    if let Ok(l) = TcpListener::bind(addr).await {
                        bound = Some(l);
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                listener = Some(bound.expect("rebind the proxy's port"));
            }
            _ => {}
        }
        let Some(l) = &listener else {
            if changes.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            accepted = l.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    // One connection to SQS per client connection, reused
                    // as the client reuses its own.
                    let link: Link = Arc::default();
                    let svc = service_fn(move |req| {
                        handle(req, upstream, Arc::clone(&state), Arc::clone(&link))
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// An error that makes hyper drop the connection without answering.
#[derive(Debug)]
struct Cut;

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection cut by the fault proxy")
    }
}

impl std::error::Error for Cut {}

fn sqs_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body =
        serde_json::json!({ "__type": format!("com.amazonaws.sqs#{code}"), "message": message });
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().expect("header"),
    );
    h.insert("x-amzn-requestid", "fault-proxy".parse().expect("header"));
    r
}

/// A client connection's own connection to SQS, opened on first use.
type Link = Arc<tokio::sync::Mutex<Option<SendRequest<Full<Bytes>>>>>;

async fn handle(
    req: Request<Incoming>,
    upstream: SocketAddr,
    state: Arc<State>,
    link: Link,
) -> Result<Response<Full<Bytes>>, Cut> {
    state.seen.fetch_add(1, Ordering::SeqCst);
    let counted = state
        .next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let fault = if counted {
        *state.next_fault.lock().expect("lock")
    } else {
        *state.fault.borrow()
    };
    match fault {
        Fault::None => {}
        Fault::Refuse | Fault::Reset => return Err(Cut),
        Fault::Hang => {
            // Longer than any budget under test; the task ends with the test.
            tokio::time::sleep(Duration::from_secs(600)).await;
            return Err(Cut);
        }
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Ok(sqs_error(
                status,
                "InternalError",
                "We encountered an internal error. Please try again.",
            ));
        }
        Fault::Throttle => {
            let mut r = sqs_error(StatusCode::BAD_REQUEST, "RequestThrottled", "Rate exceeded");
            r.headers_mut().insert(
                "x-amzn-query-error",
                "RequestThrottled;Sender".parse().expect("header"),
            );
            return Ok(r);
        }
        Fault::Delay(d) => tokio::time::sleep(d).await,
    }
    forward(req, upstream, &state, &link).await.ok_or(Cut)
}

/// Sends the request on to SQS; `None` if SQS could not be reached (the
/// client's connection is then cut, as a gateway would).
async fn forward(
    req: Request<Incoming>,
    upstream: SocketAddr,
    state: &State,
    link: &Link,
) -> Option<Response<Full<Bytes>>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.ok()?.to_bytes();
    let mut link = link.lock().await;
    if link.as_ref().is_none_or(|sender| sender.is_closed()) {
        let stream = TcpStream::connect(upstream).await.ok()?;
        let (sender, conn) = handshake::<_, Full<Bytes>>(TokioIo::new(stream))
            .await
            .ok()?;
        tokio::spawn(conn);
        *link = Some(sender);
    }
    let sender = link.as_mut()?;
    sender.ready().await.ok()?;
    state.forwarded.fetch_add(1, Ordering::SeqCst);
    let resp = sender
        .send_request(Request::from_parts(parts, Full::new(body)))
        .await
        .ok()?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.ok()?.to_bytes();
    Some(Response::from_parts(parts, Full::new(body)))
}
