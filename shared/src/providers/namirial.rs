//! Namirial / Uanataca One-Shot (qualified e-signature certificates).
//!
//! Namirial signs nothing, so a delivery is authenticated by a shared token
//! in the callback URL's query string or the `X-Webhook-Token` header, and
//! optionally by the caller's address ([`TokenScheme`]). Without a token
//! configured the function refuses to start: an endpoint that accepted
//! anyone could be fed a forged "certificate issued".
//!
//! Three body shapes are documented and all are read alike: the current one
//! (`event_type`, `sent_at`, a `request` object with `status` and `pk`), the
//! legacy one of RA webhooks (`status`, `date`, with `request` being the
//! request id itself) and the hybrid one of their overview (top-level
//! `status` and `date`, `request` an object with `pk`). The request id comes
//! from `request.pk` or `request`, as an integer or a string of digits; what
//! happened from `event_type` when there is one, else from the status.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::config::{ConfigError, Source, Vars};
use crate::envelope::{ErrorInfo, Outcome, Resource, sqs_clean};
use crate::json::{At, Detail, Expectation, Expected, Int, Lax, Object, Reader, Text};
use crate::secrets::SecretVar;
use crate::verify::token::{self, Place, cidrs_from, tokens_from};
use crate::verify::{AuthError, Inbound, Signed, TokenScheme, Verified, Verifier};

use super::{
    Credential, CredentialKind, Normalized, Provider, Sample, Sender, SignError, Style, parse_time,
    unknown,
};

/// The variable holding the accepted tokens.
pub const TOKENS_VAR: &str = "NAMIRIAL_TOKENS";
/// The variable holding the optional source allow-list.
pub const CIDRS_VAR: &str = "NAMIRIAL_ALLOWED_CIDRS";

/// Namirial's usual credential: the token in the callback URL.
const QUERY: Style = Style {
    name: "query",
    about: "?token=<token> in the callback URL",
    requires: None,
};

/// The token in a header instead.
const HEADER: Style = Style {
    name: "header",
    about: "X-Webhook-Token: <token>",
    requires: None,
};

/// The Namirial provider.
#[derive(Debug, Clone)]
pub struct Namirial {
    scheme: TokenScheme,
}

impl Provider for Namirial {
    const SLUG: &'static str = "namirial";
    const SECRET_VARS: &'static [SecretVar] = &[SecretVar {
        name: TOKENS_VAR,
        join: ",",
    }];

    fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let vars = Vars(src);
        let tokens = tokens_from(
            vars,
            TOKENS_VAR,
            "Namirial signs nothing, so a token is required: set it to a random token of at least \
             16 characters (comma-separate several to rotate) and configure the callback URL as \
             .../webhooks/namirial?token=<token>",
        )?;
        let sources = cidrs_from(vars, CIDRS_VAR)?;
        Ok(Self {
            scheme: TokenScheme::new(&tokens, TOKENS_VAR, sources, CIDRS_VAR)?,
        })
    }

    const SENDER: Sender = Sender {
        name: "Namirial",
        credential: CredentialKind::Token,
        styles: &[QUERY, HEADER],
        signed_time: None,
        covers_body: false,
        sample: Sample {
            template: r#"{"event_type":"REQUEST_ENROLLED","sent_at":"20251123123456","request":{"status":"ISSUED","profile":"{text}","registration_authority":152,"pk":{n}}}"#,
            text: "PFnubeQAFCiudadano",
            unusable: r#"{"event_type":"REQUEST_ENROLLED","sent_at":"20251123123456","request":{"status":"ISSUED","pk":[40213]}}"#,
        },
    };

    fn sign(
        credential: &Credential,
        style: &Style,
        _body: &[u8],
        _now: i64,
    ) -> Result<Signed, SignError> {
        let token = String::from_utf8_lossy(credential.shared(Self::SENDER.credential)?);
        let place = if *style == HEADER {
            Place::Header
        } else {
            Place::Query
        };
        Ok(token::sign(&token, place))
    }

    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError> {
        self.scheme.verify(req)
    }

    fn normalize(text: &str, _verified: &Verified<'_>) -> Result<Normalized, Vec<Detail>> {
        let mut r = Reader::new(Self::SLUG);
        let Some(body) = r.root::<Body<'_>>(text) else {
            return r.finish(None);
        };
        let (id, request_status) = request(&mut r, body.request);
        let usable = |at, field: &Lax<Text<'_>>| {
            r.optional(at, field.clone())
                .filter(|t| !t.is_empty())
                .map(Text::into_owned)
        };
        let event_type = usable(EVENT_TYPE, &body.event_type);
        // The request's own status is the current one; the top-level one is
        // where the legacy and hybrid shapes put it.
        let status =
            usable(REQUEST_STATUS, &request_status).or_else(|| usable(STATUS, &body.status));
        if event_type.is_none() && status.is_none() {
            what_happened_is_missing(
                &mut r,
                [
                    (EVENT_TYPE, body.event_type),
                    (REQUEST_STATUS, request_status),
                    (STATUS, body.status),
                ],
            );
        }
        let time = [
            (At::Key("sent_at"), body.sent_at),
            (At::Key("date"), body.date),
        ]
        .into_iter()
        .find_map(|(at, t)| r.optional(&[at], t).and_then(|t| parse_time(&t)));
        let Some(id) = id else {
            return r.finish(None);
        };
        let (type_suffix, event, outcome) = match (event_type, &status) {
            (Some(event_type), _) => {
                let outcome = event_outcome(&event_type, status.as_deref());
                (event_type.to_lowercase(), event_type, outcome)
            }
            (None, Some(status)) => (
                format!("status.{}", status.to_lowercase()),
                status.clone(),
                status_outcome(status),
            ),
            (None, None) => return r.finish(None),
        };
        r.finish(Some(Normalized {
            event,
            type_suffix,
            subject: id.clone(),
            time,
            outcome,
            resource: Resource {
                kind: "request".into(),
                id,
                parent: None,
            },
            error: (outcome == Outcome::Failed).then(|| ErrorInfo {
                code: status.clone(),
                message: None,
            }),
            status,
            outputs: Vec::new(),
        }))
    }
}

const EVENT_TYPE: &[At] = &[At::Key("event_type")];
const REQUEST_STATUS: &[At] = &[At::Key("request"), At::Key("status")];
const STATUS: &[At] = &[At::Key("status")];

/// What hookgate reads of any of the three shapes; `scratchcard`,
/// `profile`, `registration_authority`, `previous_status` and the
/// certificates are not among it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    event_type: Lax<Text<'a>>,
    #[serde(borrow)]
    sent_at: Lax<Text<'a>>,
    #[serde(borrow)]
    date: Lax<Text<'a>>,
    #[serde(borrow)]
    status: Lax<Text<'a>>,
    /// An object (current and hybrid shapes) or the request id (legacy).
    #[serde(borrow)]
    request: Lax<&'a RawValue>,
}

/// The `request` object of the current and hybrid shapes.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Request<'a> {
    #[serde(borrow)]
    status: Lax<Text<'a>>,
    pk: Lax<RequestId>,
}

/// A request id: an integer in any JSON form, or a string of digits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RequestId(i64);

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        let wrong = || serde::de::Error::custom("not a request id");
        if raw.get().starts_with('"') {
            let Lax::Value(digits) = Lax::<Text<'de>>::from_raw(raw) else {
                return Err(wrong());
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(wrong());
            }
            digits.parse().map(RequestId).map_err(|_| wrong())
        } else {
            match Lax::<Int<i64>>::from_raw(raw) {
                Lax::Value(Int(n)) => Ok(RequestId(n)),
                Lax::Absent | Lax::Wrong => Err(wrong()),
            }
        }
    }
}

impl Expected for RequestId {
    const EXPECTED: Expectation = Int::<i64>::EXPECTED;
}

/// The request id, from `request.pk` when `request` is an object, else
/// from `request` itself (a problem if there is none); and the request's
/// own status, as sent.
fn request<'a>(r: &mut Reader, request: Lax<&'a RawValue>) -> (Option<String>, Lax<Text<'a>>) {
    const REQUEST: At = At::Key("request");
    let (at, id) = match request {
        Lax::Value(raw) if raw.get().starts_with('{') => {
            // An object always reads: its fields are all lenient.
            let Object(inner) = Lax::<Object<Request<'a>>>::from_raw(raw)
                .value()
                .unwrap_or_default();
            let id = r.required(&[REQUEST, At::Key("pk")], inner.pk);
            return (id.map(|id| id.0.to_string()), inner.status);
        }
        Lax::Value(raw) => ([REQUEST], Lax::<RequestId>::from_raw(raw)),
        Lax::Absent | Lax::Wrong => ([REQUEST], Lax::Absent),
    };
    let id = r.required(&at, id);
    (id.map(|id| id.0.to_string()), Lax::Absent)
}

/// Reports that neither `event_type` nor a status says what happened: each
/// one that is there but unusable (of another type, or empty), else the
/// status as missing.
fn what_happened_is_missing(r: &mut Reader, candidates: [(&[At], Lax<Text<'_>>); 3]) {
    let mut reported = false;
    for (at, field) in candidates {
        if field.is_present() {
            r.required_text(at, field);
            reported = true;
        }
    }
    if !reported {
        r.problem(
            STATUS,
            "missing",
            "Field required: one of `event_type`, `request.status` or `status`",
        );
    }
}

/// With an `event_type`: certificate events say what happened to the
/// certificate, so the request's status (typically ISSUED) would wrongly
/// read as a success; any other event takes its outcome from the status.
fn event_outcome(event_type: &str, status: Option<&str>) -> Outcome {
    if is_certificate_event(event_type) {
        return Outcome::Unknown;
    }
    if !is_known_event(event_type) {
        // The outcome still comes from the status; the log only makes a
        // new event type visible.
        tracing::warn!(
            provider = Namirial::SLUG,
            field = "event_type",
            value = %sqs_clean(event_type),
            "unknown event type forwarded; outcome taken from the request status"
        );
    }
    status.map_or(Outcome::Unknown, status_outcome)
}

fn is_certificate_event(event_type: &str) -> bool {
    ["CERTIFICATE_SUSPENDED", "CERTIFICATE_REVOKED"]
        .iter()
        .any(|e| e.eq_ignore_ascii_case(event_type))
}

fn is_known_event(event_type: &str) -> bool {
    [
        "REQUEST_CREATED",
        "REQUEST_CANCELED",
        "REQUEST_APPROVED",
        "REQUEST_ENROLLED",
        "CERTIFICATE_SUSPENDED",
        "CERTIFICATE_REVOKED",
        "VIDEOID_UPDATED",
        "VIDEOID_FAILED",
        "VIDEOID_REFUSED",
    ]
    .iter()
    .any(|e| e.eq_ignore_ascii_case(event_type))
}

/// The request status is where the request stands; `ENROLLREADY` (approved,
/// waiting for the holder) needs the holder to act, and only `ISSUED` or
/// `RENEWED` means a certificate exists.
fn status_outcome(status: &str) -> Outcome {
    match status.to_ascii_uppercase().as_str() {
        "CREATED" => Outcome::Created,
        "VIDEOPENDING" | "VIDEOINCOMPLETE" | "ENROLLREADY" => Outcome::ActionRequired,
        "VIDEOREVIEW" => Outcome::Processing,
        "ISSUED" | "RENEWED" => Outcome::Succeeded,
        "VIDEOERROR" => Outcome::Failed,
        // Events spell it CANCELED, statuses CANCELLED: accept both.
        "CANCELLED" | "CANCELED" | "REFUSED" => Outcome::Canceled,
        _ => unknown(Namirial::SLUG, "status", status),
    }
}

#[cfg(test)]
mod gate_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn normalize(text: &str) -> Result<Normalized, Vec<Detail>> {
        crate::testing::normalize::<Namirial>(text, None)
    }

    fn problems(text: &str) -> Vec<String> {
        crate::testing::problems::<Namirial>(text)
    }

    const DOCUMENTED: &str = r#"{"event_type":"REQUEST_CREATED","sent_at":"20250715083633","request":{"status":"VIDEOPENDING","profile":"PFnubeNC","registration_authority":7,"scratchcard":"2678100","pk":1012632},"certificates":[]}"#;

    #[test]
    fn documented_current_payload() {
        let n = normalize(DOCUMENTED).unwrap();
        assert_eq!(n.type_suffix, "request_created");
        assert_eq!(n.event, "REQUEST_CREATED");
        assert_eq!(n.subject, "1012632");
        assert_eq!(
            n.resource,
            Resource {
                kind: "request".into(),
                id: "1012632".into(),
                parent: None
            }
        );
        assert_eq!(n.time.unwrap().to_rfc3339(), "2025-07-15T08:36:33+00:00");
        assert_eq!(n.status.as_deref(), Some("VIDEOPENDING"));
        assert_eq!(n.outcome, Outcome::ActionRequired);
        assert_eq!(n.error, None);
        assert!(n.outputs.is_empty());
    }

    #[test]
    fn current_payload_with_certificates_and_extras() {
        let n = normalize(
            r#"{"event_type":"REQUEST_ENROLLED","sent_at":"20250716101500","date":"2025-07-16T10:14:59","previous_status":"ENROLLREADY","request":{"status":"ISSUED","pk":42},"certificates":[{"status":"ACTIVE","serial_number":"7A3F","valid_from":"20250716 10:15:00","valid_to":"20280716 10:15:00"},{}],"extra":{"ignored":true}}"#,
        )
        .unwrap();
        assert_eq!(n.type_suffix, "request_enrolled");
        assert_eq!(n.outcome, Outcome::Succeeded);
        assert_eq!(n.subject, "42");
        assert_eq!(n.time.unwrap().to_rfc3339(), "2025-07-16T10:15:00+00:00");
        assert!(n.outputs.is_empty(), "certificates stay in the payload");
    }

    #[test]
    fn legacy_payload() {
        let n = normalize(
            r#"{"status":"VIDEOREVIEW","date":"2021-07-20T08:08:21.132394","previous_status":"VIDEOPENDING","request":1012632,"registration_authority":7}"#,
        )
        .unwrap();
        assert_eq!(n.type_suffix, "status.videoreview");
        assert_eq!(n.event, "VIDEOREVIEW");
        assert_eq!(n.subject, "1012632");
        assert_eq!(n.resource.kind, "request");
        assert_eq!(n.status.as_deref(), Some("VIDEOREVIEW"));
        assert_eq!(n.outcome, Outcome::Processing);
        assert_eq!(
            n.time.unwrap().to_rfc3339(),
            "2021-07-20T08:08:21.132394+00:00"
        );
        let n = normalize(r#"{"status":"ISSUED","request":5}"#).unwrap();
        assert_eq!((n.type_suffix.as_str(), n.time), ("status.issued", None));
        assert_eq!(n.outcome, Outcome::Succeeded);
        let n = normalize(r#"{"status":"ISSUED","request":5,"date":"last week"}"#).unwrap();
        assert_eq!(n.time, None);
    }

    #[test]
    fn outcomes_follow_the_request_status() {
        let cases = [
            ("CREATED", Outcome::Created),
            ("VIDEOPENDING", Outcome::ActionRequired),
            ("VIDEOINCOMPLETE", Outcome::ActionRequired),
            ("ENROLLREADY", Outcome::ActionRequired),
            ("VIDEOREVIEW", Outcome::Processing),
            ("ISSUED", Outcome::Succeeded),
            ("RENEWED", Outcome::Succeeded),
            ("VIDEOERROR", Outcome::Failed),
            ("CANCELLED", Outcome::Canceled),
            ("CANCELED", Outcome::Canceled),
            ("REFUSED", Outcome::Canceled),
            ("issued", Outcome::Succeeded),
            ("ARCHIVED", Outcome::Unknown),
        ];
        for (status, want) in cases {
            let current = format!(
                r#"{{"event_type":"VIDEOID_UPDATED","sent_at":"20250715083633","request":{{"status":"{status}","pk":1}}}}"#
            );
            let legacy = format!(r#"{{"status":"{status}","request":1}}"#);
            for text in [current, legacy] {
                let n = normalize(&text).unwrap();
                assert_eq!(n.outcome, want, "{text}");
                assert_eq!(n.status.as_deref(), Some(status));
                let error = (want == Outcome::Failed).then(|| ErrorInfo {
                    code: Some(status.to_owned()),
                    message: None,
                });
                assert_eq!(n.error, error, "{text}");
            }
        }
    }

    #[test]
    fn certificate_events_are_unknown_whatever_the_status() {
        for event in ["CERTIFICATE_SUSPENDED", "CERTIFICATE_REVOKED"] {
            let text = format!(
                r#"{{"event_type":"{event}","sent_at":"20250715083633","request":{{"status":"ISSUED","pk":9}},"certificates":[{{"status":"REVOKED","serial_number":"01","valid_from":"20250101 00:00:00","valid_to":"20260101 00:00:00"}}]}}"#
            );
            let n = normalize(&text).unwrap();
            assert_eq!(n.outcome, Outcome::Unknown, "{event}");
            assert_eq!(n.type_suffix, event.to_lowercase());
            assert_eq!(n.status.as_deref(), Some("ISSUED"));
            assert_eq!(n.error, None);
        }
    }

    #[test]
    fn unknown_event_types_are_accepted() {
        let n = normalize(
            r#"{"event_type":"REQUEST_TELEPORTED","sent_at":"garbled","request":{"status":"ISSUED","pk":3}}"#,
        )
        .unwrap();
        assert_eq!(n.type_suffix, "request_teleported");
        assert_eq!(n.outcome, Outcome::Succeeded);
        assert_eq!(n.time, None);
    }

    #[test]
    fn hybrid_payload() {
        let n = normalize(
            r#"{"status":"ENROLLREADY","date":"2021-07-20T08:08:21.132394","previous_status":"VIDEOREVIEW","request":{"pk":1012632,"registration_authority":7}}"#,
        )
        .unwrap();
        assert_eq!(n.type_suffix, "status.enrollready");
        assert_eq!(n.event, "ENROLLREADY");
        assert_eq!(n.subject, "1012632");
        assert_eq!(n.resource.id, "1012632");
        assert_eq!(n.status.as_deref(), Some("ENROLLREADY"));
        assert_eq!(n.outcome, Outcome::ActionRequired);
        assert_eq!(
            n.time.unwrap().to_rfc3339(),
            "2021-07-20T08:08:21.132394+00:00"
        );
        // The request's own status, when it has one, wins over the top level.
        let n =
            normalize(r#"{"status":"VIDEOREVIEW","request":{"pk":3,"status":"ISSUED"}}"#).unwrap();
        assert_eq!(n.type_suffix, "status.issued");
        assert_eq!(n.outcome, Outcome::Succeeded);
    }

    #[test]
    fn request_ids_in_any_form() {
        for request in [
            "1012632",
            "1012632.0",
            "1.012632e6",
            r#""1012632""#,
            r#"{"pk":1012632}"#,
            r#"{"pk":1012632.0}"#,
            r#"{"pk":"1012632","registration_authority":"7"}"#,
        ] {
            let text = format!(r#"{{"status":"ISSUED","request":{request}}}"#);
            let n = normalize(&text).unwrap();
            assert_eq!(n.subject, "1012632", "{text}");
            assert_eq!(n.resource.id, "1012632", "{text}");
        }
    }

    #[test]
    fn event_type_null_is_absent() {
        let n = normalize(
            r#"{"event_type":null,"sent_at":null,"status":"VIDEOERROR","date":"2021-07-20T08:08:21","request":5}"#,
        )
        .unwrap();
        assert_eq!(n.type_suffix, "status.videoerror");
        assert_eq!(n.event, "VIDEOERROR");
        assert_eq!(n.outcome, Outcome::Failed);
        assert_eq!(
            n.error,
            Some(ErrorInfo {
                code: Some("VIDEOERROR".into()),
                message: None
            })
        );
        assert_eq!(n.time.unwrap().to_rfc3339(), "2021-07-20T08:08:21+00:00");
    }

    #[test]
    fn event_type_without_status_or_time() {
        let n = normalize(r#"{"event_type":"VIDEOID_UPDATED","request":{"pk":8}}"#).unwrap();
        assert_eq!(n.type_suffix, "videoid_updated");
        assert_eq!(n.event, "VIDEOID_UPDATED");
        assert_eq!(n.outcome, Outcome::Unknown);
        assert_eq!((n.status, n.time, n.error), (None, None, None));
        // `sent_at` unusable: `date` stands in.
        let n = normalize(
            r#"{"event_type":"REQUEST_CREATED","sent_at":"soon","date":"2025-07-15T08:36:33","request":{"pk":8,"status":"CREATED"}}"#,
        )
        .unwrap();
        assert_eq!(n.time.unwrap().to_rfc3339(), "2025-07-15T08:36:33+00:00");
        assert_eq!(n.outcome, Outcome::Created);
    }

    #[test]
    fn fields_not_read_are_never_checked() {
        let n = normalize(
            r#"{"event_type":"REQUEST_APPROVED","sent_at":"20250715083633","request":{"status":"ENROLLREADY","pk":77,"registration_authority":"seven","scratchcard":2678100,"profile":null},"certificates":[{"valid_to":20260101},3],"previous_status":false,"registration_authority":[],"extra":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(n.subject, "77");
        assert_eq!(n.outcome, Outcome::ActionRequired);
        let n = normalize(r#"{"status":"CREATED","request":1,"certificates":{}}"#).unwrap();
        assert_eq!(n.outcome, Outcome::Created);
    }

    #[test]
    fn wrong_typed_optional_fields_are_left_out() {
        // `sent_at` and `date` of another type: receipt time.
        let n = normalize(
            r#"{"event_type":"REQUEST_CREATED","sent_at":20250715083633,"date":1,"request":{"status":"CREATED","pk":1}}"#,
        )
        .unwrap();
        assert_eq!(n.time, None);
        assert_eq!(n.outcome, Outcome::Created);
        // A wrong-typed `event_type` leaves the status to say what happened.
        let n = normalize(r#"{"event_type":7,"status":"ISSUED","request":2}"#).unwrap();
        assert_eq!(n.type_suffix, "status.issued");
        // A wrong-typed request status gives way to the top-level one.
        let n = normalize(r#"{"status":"ISSUED","request":{"pk":2,"status":["x"]}}"#).unwrap();
        assert_eq!(n.status.as_deref(), Some("ISSUED"));
        // And with an event type, no usable status means an unknown outcome.
        let n = normalize(r#"{"event_type":"REQUEST_ENROLLED","request":{"pk":2,"status":5}}"#)
            .unwrap();
        assert_eq!((n.status, n.outcome), (None, Outcome::Unknown));
    }

    #[test]
    fn required_field_problems_are_all_reported() {
        assert_eq!(
            serde_json::to_value(normalize("{}").unwrap_err()).unwrap(),
            serde_json::json!([
                {"loc": ["body", "request"], "msg": "Field required", "type": "missing"},
                {"loc": ["body", "status"], "msg": "Field required: one of `event_type`, `request.status` or `status`", "type": "missing"},
            ])
        );
        assert_eq!(
            problems(r#"{"event_type":"REQUEST_CREATED","request":{"status":"CREATED"}}"#),
            [r#"["body","request","pk"]:missing"#]
        );
        assert_eq!(
            problems(r#"{"event_type":"REQUEST_CREATED","request":{"pk":"1a"}}"#),
            [r#"["body","request","pk"]:int_type"#]
        );
        assert_eq!(
            problems(r#"{"request":1012632}"#),
            [r#"["body","status"]:missing"#]
        );
        assert_eq!(
            problems(r#"{"event_type":7,"status":"","request":{"pk":1.5,"status":null}}"#),
            [
                r#"["body","request","pk"]:int_type"#,
                r#"["body","event_type"]:string_type"#,
                r#"["body","status"]:string_too_short"#,
            ]
        );
        assert_eq!(
            problems(r#"{"event_type":"","request":{"pk":1,"status":7}}"#),
            [
                r#"["body","event_type"]:string_too_short"#,
                r#"["body","request","status"]:string_type"#,
            ]
        );
        for (request, kind) in [
            ("12.5", "int_type"),
            ("99999999999999999999", "int_type"),
            (r#""""#, "int_type"),
            (r#""-5""#, "int_type"),
            (r#"" 5""#, "int_type"),
            (r#""1e3""#, "int_type"),
            ("[1]", "int_type"),
            ("true", "int_type"),
            ("null", "missing"),
        ] {
            let text = format!(r#"{{"status":"ISSUED","request":{request}}}"#);
            assert_eq!(
                problems(&text),
                [format!(r#"["body","request"]:{kind}"#)],
                "{text}"
            );
        }
        for root in ["[]", "[\"ISSUED\",1]", "1", "null"] {
            assert_eq!(problems(root), [r#"["body"]:model_attributes_type"#]);
        }
    }

    #[test]
    fn config_requires_tokens_and_checks_cidrs() {
        use std::collections::HashMap;
        let err = Namirial::from_source(&HashMap::<&str, &str>::new()).unwrap_err();
        assert_eq!(err.variable, TOKENS_VAR);
        assert!(err.to_string().contains("is not set"), "{err}");
        let err =
            Namirial::from_source(&HashMap::from([(TOKENS_VAR, "too-short-12")])).unwrap_err();
        assert_eq!(err.variable, TOKENS_VAR);
        assert!(!err.to_string().contains("too-short-12"), "{err}");
        let err = Namirial::from_source(&HashMap::from([
            (TOKENS_VAR, "0123456789abcdef0123"),
            (CIDRS_VAR, "203.0.113.0/24,nonsense"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, CIDRS_VAR);
        let ok = Namirial::from_source(&HashMap::from([
            (TOKENS_VAR, "0123456789abcdef0123"),
            (CIDRS_VAR, "203.0.113.0/24"),
        ]))
        .unwrap();
        assert!(!format!("{ok:?}").contains("0123456789abcdef0123"));
    }
}
