//! The in-process pipeline of each provider, and each verification scheme
//! alone.
//!
//! `pipeline/<provider>/<size>` times `Gate::prepare`: from a built
//! `lambda_http::Request` to the envelope bytes ready to send (method, size
//! and content-type checks, verification, strict parse, schema check,
//! event id, envelope; no network), on the provider's sample payload padded
//! to 1 KiB and 64 KiB with a long text field. `scheme/<scheme>/<size>`
//! times the verification alone on the same bodies, and `stages/...` splits
//! the Redner 1 KiB pipeline into its steps.
//!
//! Run with `cargo bench -p hookgate --bench pipeline` (`make bench` runs it
//! and puts the numbers in its table).

// A benchmark is test code: a failed setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hookgate::MemorySink;
use hookgate::apigw::HttpApiRequest;
use hookgate::envelope::event_id;
use hookgate::json::parse_strict;
use hookgate::providers::{
    Credential, CredentialKind, Namirial, Panjaya, Provider, REGISTRY, Redner, Registered, Syncso,
};
use hookgate::verify::es256::SigningKey;
use hookgate::verify::{Inbound, Secret, Signed};

const SIZES: [(&str, usize); 2] = [("1KiB", 1024), ("64KiB", 64 * 1024)];
const HMAC_SECRET: &str = "whsec_bench_secret_0123456789abcdef";
const TOKEN: &str = "bench-token-0123456789abcdef";
const QUEUE_URL: &str = "http://127.0.0.1:1/123456789012/events";

/// The provider's sample payload with a `note` text field added so the body
/// is exactly `len` bytes.
fn body(sample: &str, len: usize) -> Vec<u8> {
    let sample = sample.trim();
    let head = sample.strip_suffix('}').unwrap();
    let prefix = format!(r#"{head},"note":""#);
    let pad = len.saturating_sub(prefix.len() + 2);
    let words = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ";
    let note: String = words.chars().cycle().take(pad).collect();
    let out = format!("{prefix}{note}\"}}").into_bytes();
    assert_eq!(out.len(), len);
    out
}

/// An API Gateway payload-2.0 event, as lambda_http receives it.
fn request(provider: &str, signed: &Signed, body: &[u8]) -> lambda_http::Request {
    let mut h = vec![("content-type".to_owned(), "application/json".to_owned())];
    h.extend(
        signed
            .headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone())),
    );
    let query = signed.query_string().unwrap_or_default();
    HttpApiRequest {
        method: "POST",
        path: &format!("/webhooks/{provider}"),
        headers: &h,
        query: &query,
        body,
        base64: false,
        source_ip: Some("203.0.113.9"),
        request_id: "Kq3mRiW1JBNFcOx=",
        time: now(),
    }
    .request()
    .unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_763_901_297, 0).unwrap()
}

/// The bench's credential for a sender holding `kind`.
fn credential(kind: CredentialKind) -> Credential {
    match kind {
        CredentialKind::Secret => Credential::Shared(Secret::new(HMAC_SECRET.as_bytes())),
        CredentialKind::Token => Credential::Shared(Secret::new(TOKEN.as_bytes())),
        CredentialKind::PrivateKey => {
            Credential::PrivateKey(Arc::new(SigningKey::generate().unwrap()))
        }
    }
}

/// `body` signed as `r`'s sender signs it with `credential`, in its usual
/// style.
fn signed(r: &Registered, credential: &Credential, body: &[u8]) -> Signed {
    r.sign_as(credential, None, body, now().timestamp())
        .unwrap()
}

/// Every registered provider's whole pipeline.
fn pipeline(c: &mut Criterion) {
    for r in REGISTRY.iter() {
        let credential = credential(r.sender.credential);
        let src: HashMap<String, String> = HashMap::from([
            ("QUEUE_URL".to_owned(), QUEUE_URL.to_owned()),
            (
                r.credential_var().to_owned(),
                credential.configured_as().unwrap(),
            ),
        ]);
        let gate = (r.gate)(&src, MemorySink::default(), Arc::new(now)).unwrap();
        let mut g = c.benchmark_group(format!("pipeline/{}", r.slug));
        let sample = r.sender.sample.valid(1);
        for (name, len) in SIZES {
            let msg = body(&sample, len);
            let req = request(r.slug, &signed(r, &credential, &msg), &msg);
            // Only worth timing if the request passes.
            let prepared = gate.prepare(&req).unwrap();
            assert!(prepared.message.body.len() > len);
            g.throughput(Throughput::Bytes(len as u64));
            g.bench_with_input(BenchmarkId::from_parameter(name), &req, |b, req| {
                b.iter(|| gate.prepare(black_box(req)).unwrap().message.body.len())
            });
        }
        g.finish();
    }
}

/// Verification alone, through each provider's configured scheme.
fn bench_scheme<P: Provider>(c: &mut Criterion, name: &str) {
    let cred = credential(P::SENDER.credential);
    let src = HashMap::from([(
        P::SECRET_VARS[0].name.to_owned(),
        cred.configured_as().unwrap(),
    )]);
    let provider = P::from_source(&src).unwrap();
    let mut g = c.benchmark_group(format!("scheme/{name}"));
    let sample = P::SENDER.sample.valid(1);
    for (size, len) in SIZES {
        let msg = body(&sample, len);
        let signed = P::sign(&cred, &P::SENDER.styles[0], &msg, now().timestamp()).unwrap();
        let req = request(P::SLUG, &signed, &msg);
        let inbound = Inbound {
            headers: req.headers(),
            query: req.uri().query(),
            source_ip: None,
            body: &msg,
            now: now(),
        };
        provider.verify(&inbound).unwrap();
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &inbound, |b, inbound| {
            b.iter(|| {
                provider
                    .verify(black_box(inbound))
                    .unwrap()
                    .verification()
                    .key_index
            })
        });
    }
    g.finish();
}

/// One provider per scheme.
fn schemes(c: &mut Criterion) {
    bench_scheme::<Redner>(c, "hmac-sha256");
    bench_scheme::<Syncso>(c, "hmac-sha256-timestamped");
    bench_scheme::<Namirial>(c, "token");
    bench_scheme::<Panjaya>(c, "es256");
}

/// The Redner 1 KiB pipeline step by step, to see where the time goes.
fn stages(c: &mut Criterion) {
    let redner = hookgate::providers::registered("redner").unwrap();
    let msg = body(&redner.sender.sample.valid(1), 1024);
    let cred = credential(redner.sender.credential);
    let req = request("redner", &signed(redner, &cred, &msg), &msg);
    let provider = Redner::from_source(&HashMap::from([(
        "REDNER_WEBHOOK_SECRETS".to_owned(),
        HMAC_SECRET.to_owned(),
    )]))
    .unwrap();
    let inbound = Inbound {
        headers: req.headers(),
        query: None,
        source_ip: None,
        body: &msg,
        now: now(),
    };
    let verified = provider.verify(&inbound).unwrap();
    let text = parse_strict(&msg).unwrap();
    let mut g = c.benchmark_group("stages/redner-1KiB");
    g.bench_function("verify", |b| {
        b.iter(|| provider.verify(black_box(&inbound)).unwrap().body().len())
    });
    g.bench_function("parse_strict", |b| {
        b.iter(|| parse_strict(black_box(&msg)).unwrap().len())
    });
    g.bench_function("normalize", |b| {
        b.iter(|| {
            Redner::normalize(black_box(text), &verified)
                .unwrap()
                .subject
                .len()
        })
    });
    g.bench_function("event_id", |b| {
        b.iter(|| event_id("redner", black_box(&msg)).len())
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = pipeline, schemes, stages
}
criterion_main!(benches);
