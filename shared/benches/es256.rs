//! ES256 verification speed: the candidate libraries on one signature, then
//! hookgate's scheme and the whole Panjaya pipeline (`Gate::prepare`, all
//! steps but the send) on 1 KiB and 64 KiB bodies.
//!
//! Run with `cargo bench -p hookgate --bench es256`. The scheme uses the
//! fastest well-kept candidate; the others are here so the choice can be
//! checked again when versions move.

// A benchmark is test code: a failed setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED, EcdsaKeyPair,
    KeyPair, ParsedPublicKey, UnparsedPublicKey,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hookgate::apigw::HttpApiRequest;
use hookgate::providers::Panjaya;
use hookgate::verify::es256::{ALGORITHM_HEADER, SIGNATURE_HEADER};
use hookgate::verify::{Es256Scheme, Inbound, Verifier};
use hookgate::{Config, Gate, MemorySink};
use p256::ecdsa::signature::Verifier as _;

/// A Panjaya callback padded to `len` bytes with an extra field.
fn body(len: usize) -> Vec<u8> {
    let head = r#"{"event":"version_generated","asset_id":"a_7f3c","version_id":"v_19ab","version_locale":"fr-FR","note":""#;
    let pad = len.saturating_sub(head.len() + 2);
    format!("{head}{}\"}}", "x".repeat(pad)).into_bytes()
}

struct Signer {
    pair: EcdsaKeyPair,
}

impl Signer {
    fn new() -> Self {
        Self {
            pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap(),
        }
    }

    fn spki(&self) -> Vec<u8> {
        self.pair.public_key().as_der().unwrap().as_ref().to_vec()
    }

    fn pem(&self) -> String {
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &self.spki()).unwrap()
    }

    fn sign(&self, body: &[u8]) -> Vec<u8> {
        self.pair
            .sign(&SystemRandom::new(), body)
            .unwrap()
            .as_ref()
            .to_vec()
    }
}

fn candidates(c: &mut Criterion) {
    let signer = Signer::new();
    let msg = body(1024);
    let der = signer.sign(&msg);
    let spki = signer.spki();
    let point = signer.pair.public_key().as_ref().to_vec();
    let p256_sig = p256::ecdsa::Signature::from_der(&der).unwrap();
    let raw = p256_sig.to_bytes().to_vec();

    let mut g = c.benchmark_group("es256_verify_1KiB");

    let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &spki).unwrap();
    g.bench_function("aws-lc-rs/parsed-key/der", |b| {
        b.iter(|| parsed.verify_sig(black_box(&msg), black_box(&der)).unwrap())
    });
    let parsed_fixed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &spki).unwrap();
    g.bench_function("aws-lc-rs/parsed-key/raw", |b| {
        b.iter(|| {
            parsed_fixed
                .verify_sig(black_box(&msg), black_box(&raw))
                .unwrap()
        })
    });
    let unparsed = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &point);
    g.bench_function("aws-lc-rs/unparsed-key/der", |b| {
        b.iter(|| unparsed.verify(black_box(&msg), black_box(&der)).unwrap())
    });

    let ring_key =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, &point);
    g.bench_function("ring/der", |b| {
        b.iter(|| ring_key.verify(black_box(&msg), black_box(&der)).unwrap())
    });

    let p256_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
    g.bench_function("p256/der", |b| {
        b.iter(|| {
            let sig = p256::ecdsa::Signature::from_der(black_box(&der)).unwrap();
            p256_key.verify(black_box(&msg), &sig).unwrap()
        })
    });

    // hookgate's scheme: header lookup, algorithm label, hex, verify.
    let scheme = Es256Scheme::from_pem(&signer.pem()).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert(SIGNATURE_HEADER, hex::encode(&der).parse().unwrap());
    headers.insert(ALGORITHM_HEADER, "ES256".parse().unwrap());
    let now = chrono::Utc::now();
    g.bench_function("hookgate/Es256Scheme", |b| {
        b.iter(|| {
            let req = Inbound {
                headers: &headers,
                query: None,
                source_ip: None,
                body: black_box(&msg),
                now,
            };
            scheme.verify(&req).unwrap().verification().key_index
        })
    });
    g.finish();
}

/// An API Gateway payload-2.0 event carrying `body`.
fn request(body: &[u8], signature: &[u8]) -> lambda_http::Request {
    let headers = [
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-signature".to_owned(), hex::encode(signature)),
        ("x-signature-algorithm".to_owned(), "ES256".to_owned()),
    ];
    HttpApiRequest {
        method: "POST",
        path: "/webhooks/panjaya",
        headers: &headers,
        query: "",
        body,
        base64: false,
        source_ip: Some("203.0.113.9"),
        request_id: "Kq3mRiW1JBNFcOx=",
        time: chrono::DateTime::from_timestamp_millis(1_763_901_297_120).unwrap(),
    }
    .request()
    .unwrap()
}

fn pipeline(c: &mut Criterion) {
    let signer = Signer::new();
    let pem = signer.pem();
    let src = HashMap::from([
        ("QUEUE_URL", "http://127.0.0.1:1/123456789012/events"),
        ("PANJAYA_PUBLIC_KEYS", pem.as_str()),
    ]);
    let gate = Gate::new(
        Config::<Panjaya>::from_source(&src).unwrap(),
        MemorySink::default(),
    );
    let mut g = c.benchmark_group("panjaya_prepare");
    for (name, len) in [("1KiB", 1024), ("64KiB", 64 * 1024)] {
        let msg = body(len);
        let req = request(&msg, &signer.sign(&msg));
        // The setup is only worth timing if the request passes.
        gate.prepare(&req).unwrap();
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &req, |b, req| {
            b.iter(|| gate.prepare(black_box(req)).unwrap().id.len())
        });
    }
    g.finish();
}

criterion_group!(benches, candidates, pipeline);
criterion_main!(benches);
