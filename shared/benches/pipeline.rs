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
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hookgate::apigw::HttpApiRequest;
use hookgate::envelope::event_id;
use hookgate::json::parse_strict;
use hookgate::providers::{Namirial, Panjaya, Provider, Redner, Syncso};
use hookgate::verify::Inbound;
use hookgate::verify::hmac::sign;
use hookgate::{Config, Gate, MemorySink};

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

fn sample(provider: &str) -> String {
    let path = format!("{}/../samples/{provider}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

/// An API Gateway payload-2.0 event, as lambda_http receives it.
fn request(
    provider: &str,
    query: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> lambda_http::Request {
    let mut h = vec![("content-type".to_owned(), "application/json".to_owned())];
    h.extend(headers.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    HttpApiRequest {
        method: "POST",
        path: &format!("/webhooks/{provider}"),
        headers: &h,
        query,
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

fn gate<P: Provider>(vars: &[(&str, &str)]) -> Gate<P, MemorySink> {
    let mut src: HashMap<&str, &str> = vars.iter().copied().collect();
    src.insert("QUEUE_URL", QUEUE_URL);
    Gate::new(
        Config::<P>::from_source(&src).unwrap(),
        MemorySink::default(),
    )
    .with_clock(Arc::new(now))
}

/// A signing key pair for Panjaya's ES256.
fn es256_pair() -> (EcdsaKeyPair, String) {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let spki = pair.public_key().as_der().unwrap().as_ref().to_vec();
    let pem = pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &spki).unwrap();
    (pair, pem)
}

/// One provider's signed request for `body`.
struct Signed {
    query: String,
    headers: Vec<(&'static str, String)>,
}

fn redner_signed(body: &[u8]) -> Signed {
    Signed {
        query: String::new(),
        headers: vec![(
            "x-redner-signature",
            format!(
                "sha256={}",
                hex::encode(sign(HMAC_SECRET.as_bytes(), &[body]))
            ),
        )],
    }
}

fn syncso_signed(body: &[u8]) -> Signed {
    let value = hookgate::verify::TimestampedScheme::header_value(
        HMAC_SECRET.as_bytes(),
        now().timestamp(),
        body,
    );
    Signed {
        query: String::new(),
        headers: vec![("sync-signature", value)],
    }
}

fn namirial_signed() -> Signed {
    Signed {
        query: format!("token={TOKEN}"),
        headers: Vec::new(),
    }
}

fn panjaya_signed(pair: &EcdsaKeyPair, body: &[u8]) -> Signed {
    let sig = pair.sign(&SystemRandom::new(), body).unwrap();
    Signed {
        query: String::new(),
        headers: vec![
            ("x-signature", hex::encode(sig.as_ref())),
            ("x-signature-algorithm", "ES256".into()),
        ],
    }
}

fn bench_gate<P: Provider>(
    c: &mut Criterion,
    gate: &Gate<P, MemorySink>,
    sign: &dyn Fn(&[u8]) -> Signed,
) {
    let mut g = c.benchmark_group(format!("pipeline/{}", P::SLUG));
    let sample = sample(P::SLUG);
    for (name, len) in SIZES {
        let msg = body(&sample, len);
        let signed = sign(&msg);
        let req = request(P::SLUG, &signed.query, &signed.headers, &msg);
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

fn pipeline(c: &mut Criterion) {
    let redner = gate::<Redner>(&[("REDNER_WEBHOOK_SECRETS", HMAC_SECRET)]);
    bench_gate(c, &redner, &redner_signed);
    let syncso = gate::<Syncso>(&[("SYNCSO_WEBHOOK_SECRETS", HMAC_SECRET)]);
    bench_gate(c, &syncso, &syncso_signed);
    let namirial = gate::<Namirial>(&[("NAMIRIAL_TOKENS", TOKEN)]);
    bench_gate(c, &namirial, &|_| namirial_signed());
    let (pair, pem) = es256_pair();
    let panjaya = gate::<Panjaya>(&[("PANJAYA_PUBLIC_KEYS", &pem)]);
    bench_gate(c, &panjaya, &|b| panjaya_signed(&pair, b));
}

/// Verification alone, through each provider's configured scheme.
fn bench_scheme<P: Provider>(
    c: &mut Criterion,
    name: &str,
    provider: &P,
    sign: &dyn Fn(&[u8]) -> Signed,
) {
    let mut g = c.benchmark_group(format!("scheme/{name}"));
    let sample = sample(P::SLUG);
    for (size, len) in SIZES {
        let msg = body(&sample, len);
        let signed = sign(&msg);
        let req = request(P::SLUG, &signed.query, &signed.headers, &msg);
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

fn schemes(c: &mut Criterion) {
    let vars = |k: &'static str, v: &str| -> HashMap<&'static str, String> {
        HashMap::from([(k, v.to_owned())])
    };
    let src = |m: &HashMap<&'static str, String>| -> HashMap<String, String> {
        m.iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    let redner = Redner::from_source(&src(&vars("REDNER_WEBHOOK_SECRETS", HMAC_SECRET))).unwrap();
    bench_scheme(c, "hmac-sha256", &redner, &redner_signed);
    let syncso = Syncso::from_source(&src(&vars("SYNCSO_WEBHOOK_SECRETS", HMAC_SECRET))).unwrap();
    bench_scheme(c, "hmac-sha256-timestamped", &syncso, &syncso_signed);
    let namirial = Namirial::from_source(&src(&vars("NAMIRIAL_TOKENS", TOKEN))).unwrap();
    bench_scheme(c, "token", &namirial, &|_| namirial_signed());
    let (pair, pem) = es256_pair();
    let panjaya = Panjaya::from_source(&src(&vars("PANJAYA_PUBLIC_KEYS", &pem))).unwrap();
    bench_scheme(c, "es256", &panjaya, &|b| panjaya_signed(&pair, b));
}

/// The Redner 1 KiB pipeline step by step, to see where the time goes.
fn stages(c: &mut Criterion) {
    let msg = body(&sample("redner"), 1024);
    let signed = redner_signed(&msg);
    let req = request("redner", "", &signed.headers, &msg);
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
