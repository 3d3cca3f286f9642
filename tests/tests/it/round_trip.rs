//! The provider's bytes come out of the queue exactly as they went in: in
//! `payload` when SQS can carry every character, else in `payload_base64`.
//! Every message read is checked against SQS's character set (real SQS
//! refuses a message outside it; the local server does not).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hookgate::envelope::{body_is_sqs_safe, event_id};
use hookgate_tests::providers::{Provider, each};
use hookgate_tests::sqs;

use crate::common;

/// Text for a JSON string, as the provider would write it.
const TEXTS: [(&str, &str); 7] = [
    ("escaped controls", r"a\u0000b\u001fc\n\t\r\b\f\u007f"),
    ("escaped quotes and slashes", r#"\"q\" \\ \/ end"#),
    ("non-ASCII", "Grüße, 日本語, עברית, émoji 🎬"),
    ("escaped surrogate pair", r"\ud83c\udfac and \u00e9"),
    ("raw U+FFFE", "before\u{fffe}after"),
    ("raw U+FFFF and U+0085", "a\u{ffff}b\u{85}c"),
    ("raw DEL and NEL", "x\u{7f}y\u{85}z"),
];

async fn bytes_survive(p: Provider) {
    let s = common::stack(p.slug(), false, &p.env()).await;
    for (name, text) in TEXTS {
        let body = p.with_text(text);
        let reply = s.f.call(&p.signed(body.clone()).to_json()).await;
        assert_eq!(reply.status, 200, "{}: {name}: {:?}", p.slug(), reply.body);
        let got = sqs::take(&s.sqs, &s.queue).await;
        assert_eq!(got.len(), 1, "{name}");
        let e = &got[0].envelope;
        assert_eq!(e.id, event_id(p.slug(), body.as_bytes()), "{name}");
        if body_is_sqs_safe(&body) {
            let payload = e.data.payload.as_ref().map(|v| v.get());
            assert_eq!(payload, Some(body.as_str()), "{name}: payload verbatim");
            assert!(e.data.payload_base64.is_none(), "{name}");
        } else {
            assert!(
                e.data.payload.is_none(),
                "{name}: no raw payload SQS cannot carry"
            );
            let encoded = e.data.payload_base64.as_deref().expect("payload_base64");
            let decoded = STANDARD.decode(encoded).expect("base64");
            assert_eq!(decoded, body.as_bytes(), "{name}: the provider's bytes");
        }
    }
}

#[tokio::test]
async fn every_provider_bytes_survive_the_queue() {
    each(bytes_survive).await;
}
