//! Delivering a request over HTTP: hyper 1 with rustls on aws-lc-rs, the
//! stack the AWS SDK already links, so `http://` (a local function) and
//! `https://` (a deployed API) both work without a second TLS library.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnectorBuilder;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::CliError;

/// Parses `url` (http or https, with a host) and appends `extra`
/// (`name=value`, already encoded) to its query string.
pub fn target(url: &str, extra: Option<&str>) -> Result<Uri, CliError> {
    let bad = |why: &str| CliError::new(format!("bad URL {url:?}: {why}"));
    let uri: Uri = url.parse().map_err(|e| bad(&format!("{e}")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(bad("expected an http:// or https:// URL"));
    }
    let Some(authority) = uri.authority().cloned() else {
        return Err(bad("no host"));
    };
    let Some(extra) = extra else {
        return Ok(uri);
    };
    let path_and_query = match uri.query() {
        Some(q) if !q.is_empty() => format!("{}?{q}&{extra}", uri.path()),
        _ => format!("{}?{extra}", uri.path()),
    };
    Uri::builder()
        .scheme(uri.scheme_str().unwrap_or("https"))
        .authority(authority)
        .path_and_query(path_and_query)
        .build()
        .map_err(|e| bad(&format!("{e}")))
}

/// The answer to a delivery.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response body.
    pub body: Bytes,
}

/// Sends one request and reads the whole answer within `timeout`. `shown`
/// is how errors name the target: the URL as the user gave it, without a
/// token the CLI may have added.
pub async fn deliver(
    uri: Uri,
    method: Method,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
    timeout: Duration,
    shown: &str,
) -> Result<Answer, CliError> {
    let https = uri.scheme_str() == Some("https");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = HttpsConnectorBuilder::new();
    let builder = if https {
        builder
            .with_provider_and_native_roots(provider)
            .map_err(|e| CliError::new(format!("cannot load the system's CA certificates: {e}")))?
    } else {
        // A plain http:// request never reaches TLS, so it needs no trust
        // store (and works where none is installed).
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| CliError::new(format!("TLS setup failed: {e}")))?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        builder.with_tls_config(config)
    };
    let connector = builder.https_or_http().enable_http1().build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);

    let mut req = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| CliError::new(format!("cannot build the request: {e}")))?;
    let exchange = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| CliError::new(format!("cannot reach {shown}: {}", chain(&e))))?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| CliError::new(format!("reading the answer from {shown}: {}", chain(&e))))?
            .to_bytes();
        Ok(Answer { status, body })
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| {
        CliError::new(format!(
            "no answer from {shown} within {} s",
            timeout.as_secs()
        ))
    })?
}

/// An error and its causes on one line (hyper's own message is only the
/// outer layer, "client error (Connect)").
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = |url, extra| target(url, extra).map(|u| u.to_string());
        assert_eq!(
            t(
                "http://127.0.0.1:9000/lambda-url/namirial/",
                Some("token=a%2Bb")
            )
            .unwrap(),
            "http://127.0.0.1:9000/lambda-url/namirial/?token=a%2Bb"
        );
        assert_eq!(
            t(
                "https://api.example.com/webhooks/namirial?x=1",
                Some("token=t")
            )
            .unwrap(),
            "https://api.example.com/webhooks/namirial?x=1&token=t"
        );
        assert_eq!(
            t("https://api.example.com/webhooks/redner", None).unwrap(),
            "https://api.example.com/webhooks/redner"
        );
        for bad in [
            "",
            "not a url",
            "ftp://example.com/x",
            "/webhooks/redner",
            "127.0.0.1:9000",
        ] {
            let e = t(bad, None).unwrap_err().to_string();
            assert!(e.starts_with(&format!("bad URL {bad:?}: ")), "{e}");
        }
    }

    #[test]
    fn query_encoding_round_trips() {
        let token = "a b+c/d&e=f%g";
        let pair = hookgate::verify::Signed::query("token", token.to_owned())
            .query_string()
            .unwrap();
        assert_eq!(pair, "token=a+b%2Bc%2Fd%26e%3Df%25g");
        let parsed: Vec<(String, String)> = form_urlencoded::parse(pair.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(parsed, [("token".to_owned(), token.to_owned())]);
    }

    #[tokio::test]
    async fn unreachable_endpoint_is_one_line() {
        // Port 9 on loopback: nothing listens there on a test machine.
        let uri = target("http://127.0.0.1:9/webhooks/redner", None).unwrap();
        let e = deliver(
            uri,
            Method::POST,
            Vec::new(),
            b"{}".to_vec(),
            Duration::from_secs(10),
            "http://127.0.0.1:9/webhooks/redner",
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("cannot reach http://127.0.0.1:9/webhooks/redner: "),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
}
