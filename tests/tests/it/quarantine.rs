//! Nothing authenticated is lost: deliveries shaped the way real senders
//! shape them (nulls, missing optional fields, integral floats, extra
//! fields, other shapes, other content types) land normalized, and what
//! cannot be normalized lands in quarantine with its reasons, never a 4xx.

use hookgate::envelope::event_id;
use hookgate_tests::providers::{Provider, each};
use hookgate_tests::proxy::{Fault, Proxy};
use hookgate_tests::sqs;

use crate::common;

/// Where a variant must land.
enum Lands {
    /// On the events queue, with this `type` and `subject`.
    Normalized(&'static str, &'static str),
    /// On the quarantine queue, with a reason at this location.
    Quarantined(&'static str),
}

use Lands::{Normalized, Quarantined};

/// `(name, body, content type, where it lands)` for each provider.
fn variants(p: Provider) -> Vec<(&'static str, &'static str, &'static str, Lands)> {
    const JSON: &str = "application/json";
    match p.slug() {
        "redner" => vec![
            (
                "timestamp null",
                r#"{"event":"job.completed","timestamp":null,"data":{"jobId":"job_v1","status":"merged"}}"#,
                JSON,
                Normalized("redner.job.completed", "job_v1"),
            ),
            (
                "sizeBytes written as a float",
                r#"{"event":"job.completed","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":"job_v2","status":"merged","outputs":[{"url":"https://x/y.mp4","expiresAt":"2025-11-23T13:34:56Z","sizeBytes":45678901.0}]}}"#,
                JSON,
                Normalized("redner.job.completed", "job_v2"),
            ),
            (
                "extra fields and unread fields of other types",
                r#"{"event":"job.created","timestamp":"2025-11-23T12:34:56Z","attempt":2,"data":{"jobId":"job_v3","status":"created","apiProduct":7,"cost":"free","duration":null,"labels":{"team":"a"}}}"#,
                JSON,
                Normalized("redner.job.created", "job_v3"),
            ),
            (
                "no status, no timestamp",
                r#"{"event":"job.processing","data":{"jobId":"job_v4"}}"#,
                JSON,
                Normalized("redner.job.processing", "job_v4"),
            ),
            (
                "an output that is not an object",
                r#"{"event":"job.completed","data":{"jobId":"job_v5","status":"merged","outputs":["https://x/y.mp4",{"url":"https://x/z.mp4"}]}}"#,
                JSON,
                Normalized("redner.job.completed", "job_v5"),
            ),
            (
                "JSON sent as text/plain",
                r#"{"event":"job.created","data":{"jobId":"job_v6","status":"created"}}"#,
                "text/plain",
                Normalized("redner.job.created", "job_v6"),
            ),
            (
                "no jobId",
                r#"{"event":"job.created","data":{"status":"created"}}"#,
                JSON,
                Quarantined("body.data.jobId"),
            ),
            (
                "data is a string",
                r#"{"event":"job.created","data":"job_v7"}"#,
                JSON,
                Quarantined("body.data"),
            ),
            (
                "form encoded",
                "event=job.created&jobId=job_v8",
                "application/x-www-form-urlencoded",
                Quarantined("body"),
            ),
        ],
        "syncso" => vec![
            (
                "batch with outputUrl null",
                r#"{"id":"batch_v1","status":"PENDING","created_at":"2025-11-23T12:00:00Z","metrics":{"total_generations":2,"success_count":0,"failed_count":0,"pending_count":2},"outputUrl":null}"#,
                JSON,
                Normalized("syncso.batch.pending", "batch_v1"),
            ),
            (
                "batch with a metrics count missing",
                r#"{"id":"batch_v2","status":"PROCESSING","created_at":"2025-11-23T12:00:00Z","metrics":{"total_generations":2,"success_count":1,"failed_count":0},"outputUrl":""}"#,
                JSON,
                Normalized("syncso.batch.processing", "batch_v2"),
            ),
            (
                "generation that gains created_at",
                r#"{"id":"gen_v1","status":"COMPLETED","createdAt":"2025-11-23T12:30:00Z","created_at":"2025-11-23T12:30:00Z","model":"lipsync-2","input":[],"outputUrl":"https://example.com/out.mp4"}"#,
                JSON,
                Normalized("syncso.generation.completed", "gen_v1"),
            ),
            (
                "generation with nulls and an integral float",
                r#"{"id":"gen_v2","status":"FAILED","createdAt":null,"model":null,"input":null,"error":null,"error_code":"face_not_found","options":null,"outputDuration":10.0,"outputUrl":null}"#,
                JSON,
                Normalized("syncso.generation.failed", "gen_v2"),
            ),
            (
                "unread fields of other types",
                r#"{"id":"gen_v3","status":"PROCESSING","createdAt":20251123,"model":{"name":"lipsync-2"},"input":"video.mp4","webhookUrl":1}"#,
                JSON,
                Normalized("syncso.generation.processing", "gen_v3"),
            ),
            (
                "JSON sent as text/plain",
                r#"{"id":"gen_v4","status":"PENDING"}"#,
                "text/plain",
                Normalized("syncso.generation.pending", "gen_v4"),
            ),
            (
                "no status",
                r#"{"id":"gen_v5","createdAt":"2025-11-23T12:30:00Z","model":"lipsync-2","input":[]}"#,
                JSON,
                Quarantined("body.status"),
            ),
            (
                "no id",
                r#"{"status":"COMPLETED","created_at":"2025-11-23T12:00:00Z","metrics":{}}"#,
                JSON,
                Quarantined("body.id"),
            ),
        ],
        "namirial" => vec![
            (
                "hybrid shape",
                r#"{"status":"ISSUED","date":"2025-07-16T10:14:59","previous_status":"ENROLLREADY","request":{"pk":40301,"registration_authority":7}}"#,
                JSON,
                Normalized("namirial.status.issued", "40301"),
            ),
            (
                "numeric scratchcard, string registration_authority",
                r#"{"event_type":"REQUEST_CREATED","sent_at":"20250715083633","request":{"status":"VIDEOPENDING","profile":null,"registration_authority":"7","scratchcard":2678100,"pk":40302},"certificates":null}"#,
                JSON,
                Normalized("namirial.request_created", "40302"),
            ),
            (
                "event_type null",
                r#"{"event_type":null,"status":"VIDEOREVIEW","date":"2021-07-20T08:08:21.132394","request":40303}"#,
                JSON,
                Normalized("namirial.status.videoreview", "40303"),
            ),
            (
                "request id as a numeric string",
                r#"{"event_type":"REQUEST_APPROVED","sent_at":"20250716101500","request":{"status":"ENROLLREADY","pk":"40304"}}"#,
                JSON,
                Normalized("namirial.request_approved", "40304"),
            ),
            (
                "request id as an integral float, no sent_at",
                r#"{"event_type":"REQUEST_ENROLLED","date":"2025-07-16T10:14:59","request":{"status":"ISSUED","pk":40305.0},"certificates":[{"serial_number":7}]}"#,
                JSON,
                Normalized("namirial.request_enrolled", "40305"),
            ),
            (
                "legacy shape",
                r#"{"status":"CANCELLED","request":40306,"registration_authority":"RA-7"}"#,
                JSON,
                Normalized("namirial.status.cancelled", "40306"),
            ),
            (
                "no request id",
                r#"{"event_type":"REQUEST_CREATED","sent_at":"20250715083633","request":{"status":"CREATED"}}"#,
                JSON,
                Quarantined("body.request.pk"),
            ),
            (
                "no event and no status",
                r#"{"request":{"pk":40307}}"#,
                JSON,
                Quarantined("body.status"),
            ),
        ],
        "panjaya" => vec![
            (
                "version_id null",
                r#"{"event":"asset_failed","asset_id":"asset_v1","version_id":null,"version_locale":null}"#,
                JSON,
                Normalized("panjaya.asset_failed", "asset_v1"),
            ),
            (
                "unread field of another type, extra fields",
                r#"{"event":"version_ready","asset_id":"asset_v2","version_id":"ver_v2","version_locale":5,"workspace":{"id":"w"},"attempt":1.0}"#,
                JSON,
                Normalized("panjaya.version_ready", "ver_v2"),
            ),
            (
                "JSON sent as text/plain",
                r#"{"event":"version_generated","asset_id":"asset_v3","version_id":"ver_v3"}"#,
                "text/plain",
                Normalized("panjaya.version_generated", "ver_v3"),
            ),
            (
                "unknown event",
                r#"{"event":"version_archived","asset_id":"asset_v4","version_id":"ver_v4"}"#,
                JSON,
                Normalized("panjaya.version_archived", "ver_v4"),
            ),
            (
                "no asset_id",
                r#"{"event":"version_ready","version_id":"ver_v5"}"#,
                JSON,
                Quarantined("body.asset_id"),
            ),
            (
                "event null",
                r#"{"event":null,"asset_id":"asset_v6"}"#,
                JSON,
                Quarantined("body.event"),
            ),
        ],
        // What each provider's real senders were seen to send; the tests
        // below the variants cover every registered provider.
        _ => Vec::new(),
    }
}

/// The dotted form of a reason's location.
fn dotted(loc: &[hookgate::json::LocPart]) -> String {
    loc.iter()
        .map(|p| match p {
            hookgate::json::LocPart::Key(k) => k.clone(),
            hookgate::json::LocPart::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

async fn real_senders_lose_nothing(p: Provider) {
    let s = common::quarantined_stack(p.slug(), &p.env()).await;
    let q = s.quarantine.clone().expect("a quarantine queue");
    for (name, body, content_type, lands) in variants(p) {
        let name = format!("{}: {name}", p.slug());
        let event = p
            .signed(body)
            .without("content-type")
            .header("content-type", content_type);
        let reply = s.expect(&name, event, 200, None).await;
        let id = event_id(p.slug(), body.as_bytes());
        assert_eq!(reply["id"], id.as_str(), "{name}");
        let events = sqs::take(&s.sqs, &s.queue).await;
        let kept = sqs::take_quarantine(&s.sqs, &q).await;
        match lands {
            Normalized(event_type, subject) => {
                assert!(reply.get("quarantined").is_none(), "{name}: {reply}");
                assert!(kept.is_empty(), "{name}: quarantined");
                assert_eq!(events.len(), 1, "{name}");
                let e = &events[0].envelope;
                assert_eq!(
                    (e.event_type.as_str(), e.subject.as_str()),
                    (event_type, subject),
                    "{name}"
                );
                assert_eq!(e.id, id, "{name}");
                assert_eq!(
                    e.payload_bytes().as_deref(),
                    Some(body.as_bytes()),
                    "{name}"
                );
            }
            Quarantined(loc) => {
                assert_eq!(reply["quarantined"], true, "{name}: {reply}");
                assert!(events.is_empty(), "{name}: reached the events queue");
                assert_eq!(kept.len(), 1, "{name}");
                let r = &kept[0].record;
                assert_eq!(r.id, id, "{name}");
                assert_eq!(r.source, format!("hookgate/{}", p.slug()), "{name}");
                assert_eq!(r.data.content_type.as_deref(), Some(content_type), "{name}");
                assert_eq!(r.body().as_deref(), Some(body.as_bytes()), "{name}");
                let locs: Vec<String> = r.data.reasons.iter().map(|d| dotted(&d.loc)).collect();
                assert!(locs.iter().any(|l| l == loc), "{name}: reasons at {locs:?}");
                assert_eq!(kept[0].attributes["provider"], p.slug(), "{name}");
                assert_eq!(kept[0].attributes["type"], "hookgate.quarantined", "{name}");
            }
        }
    }
    // Unauthenticated, whatever it holds: 401, and neither queue.
    for (name, body, _, _) in variants(p) {
        let name = format!("{}: unsigned {name}", p.slug());
        s.expect(&name, p.unsigned(body), 401, Some("unauthorized"))
            .await;
    }
}

#[tokio::test]
async fn every_provider_real_senders_lose_nothing() {
    each(real_senders_lose_nothing).await;
}

/// The three kinds of unusable body, each kept byte for byte.
#[tokio::test]
async fn unusable_bodies_round_trip_through_the_quarantine() {
    let p = Provider::named("redner");
    let s = common::quarantined_stack(p.slug(), &p.env()).await;
    let q = s.quarantine.clone().expect("a quarantine queue");
    for (name, body, base64) in [
        ("not JSON", &b"\x00\x01 not json \xff"[..], true),
        (
            "duplicate keys",
            br#"{"event":"job.created","event":"job.failed"}"#,
            true,
        ),
        (
            "no resource id",
            br#"{"event":"job.created","data":{}}"#,
            false,
        ),
        (
            "a character SQS refuses",
            "{\"event\":\"\u{fffe}\"}".as_bytes(),
            true,
        ),
    ] {
        let reply = s.expect(name, p.signed(body), 200, None).await;
        assert_eq!(reply["quarantined"], true, "{name}");
        let kept = sqs::take_quarantine(&s.sqs, &q).await;
        assert_eq!(kept.len(), 1, "{name}");
        let r = &kept[0].record;
        assert_eq!(r.body().as_deref(), Some(body), "{name}");
        assert_eq!(r.data.payload_base64.is_some(), base64, "{name}");
        assert_eq!(r.id, event_id(p.slug(), body), "{name}");
        assert!(sqs::drain(&s.sqs, &s.queue).await.is_empty(), "{name}");
    }
}

/// A quarantine queue that does not take the record: 503, so the provider
/// retries, exactly as for the events queue.
#[tokio::test]
async fn unreachable_quarantine_is_503() {
    let p = Provider::named("panjaya");
    let proxy = Proxy::start(&sqs::endpoint()).await;
    let endpoint = proxy.endpoint();
    let mut env = p.env();
    env.extend([
        ("AWS_ENDPOINT_URL_SQS", endpoint.as_str()),
        ("SQS_TIMEOUT_MS", "1500"),
    ]);
    let s = common::quarantined_stack(p.slug(), &env).await;
    s.f.ready().await;
    proxy.set(Fault::Refuse);
    // A 503 with Retry-After, and nothing on either queue.
    s.expect(
        "quarantine down",
        p.signed("not json"),
        503,
        Some("queue_unavailable"),
    )
    .await;
    proxy.set(Fault::None);
    let q = s.quarantine.clone().expect("a quarantine queue");
    // Once it is back, the provider's retry is kept.
    s.expect("retried", p.signed("not json"), 200, None).await;
    assert_eq!(sqs::drain_quarantine(&s.sqs, &q).await.len(), 1);
}

/// Without `QUARANTINE_QUEUE_URL`, unusable bodies keep their 400 and 422.
#[tokio::test]
async fn without_a_quarantine_queue_the_old_answers_hold() {
    let p = Provider::named("namirial");
    let s = common::stack(p.slug(), false, &p.env()).await;
    s.expect("not JSON", p.signed("nope"), 400, Some("invalid_json"))
        .await;
    s.expect(
        "duplicate keys",
        p.signed(r#"{"status":"ISSUED","status":"CREATED","request":1}"#),
        400,
        Some("invalid_json"),
    )
    .await;
    let reply = s
        .expect(
            "no request id",
            p.signed(r#"{"status":"ISSUED"}"#),
            422,
            Some("invalid_payload"),
        )
        .await;
    assert!(reply["detail"].as_array().is_some_and(|d| !d.is_empty()));
}
