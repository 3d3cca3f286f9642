//! Namirial / Uanataca One-Shot (qualified e-signature certificates).
//!
//! Namirial signs nothing, so a delivery is authenticated by a shared token
//! in the callback URL's query string or the `X-Webhook-Token` header, and
//! optionally by the caller's address ([`TokenScheme`]). Without a token
//! configured the function refuses to start: an endpoint that accepted
//! anyone could be fed a forged "certificate issued".
//!
//! Two body shapes are documented and both still arrive: the current one
//! (`event_type`, `sent_at`, a `request` object) and the legacy one of RA
//! webhooks (`status`, with `request` being the request id itself). The
//! shape is told by `event_type` or an object `request` (current) versus an
//! integer `request` (legacy), and problems are reported against that shape.

use crate::config::{ConfigError, Source, Vars};
use crate::envelope::{ErrorInfo, Outcome, Resource, sqs_clean};
use crate::json::{Checker, Detail, LocPart, Obj};
use crate::secrets::SecretVar;
use crate::verify::token::{cidrs_from, tokens_from};
use crate::verify::{AuthError, Inbound, TokenScheme, Verified, Verifier};

use super::{Normalized, Provider, parse_time, unknown};

/// The variable holding the accepted tokens.
pub const TOKENS_VAR: &str = "NAMIRIAL_TOKENS";
/// The variable holding the optional source allow-list.
pub const CIDRS_VAR: &str = "NAMIRIAL_ALLOWED_CIDRS";

/// The Namirial provider.
#[derive(Debug, Clone)]
pub struct Namirial {
    scheme: TokenScheme,
}

impl Namirial {
    /// A provider verifying with `scheme`.
    pub fn new(scheme: TokenScheme) -> Self {
        Self { scheme }
    }
}

impl Provider for Namirial {
    const SLUG: &'static str = "namirial";
    const SECRET_VARS: &'static [SecretVar] = &[SecretVar {
        name: "NAMIRIAL_TOKENS",
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
        // Both lists were checked above; this only guards the scheme's own rules.
        let scheme = TokenScheme::new(&tokens, sources)
            .ok_or_else(|| ConfigError::new(TOKENS_VAR, "does not hold a usable list of tokens"))?;
        Ok(Self { scheme })
    }

    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError> {
        self.scheme.verify(req)
    }

    fn normalize(text: &str, _verified: &Verified<'_>) -> Result<Normalized, Vec<Detail>> {
        let mut c = Checker::new();
        let Some(root) = c.root(text) else {
            return c.finish(None);
        };
        let request = root.raw("request").map(|r| r.get().as_bytes());
        let request_starts = request.and_then(|r| r.first().copied());
        let normalized = if root.has("event_type") || request_starts == Some(b'{') {
            current(&mut c, &root)
        } else if matches!(request_starts, Some(b'-' | b'0'..=b'9')) {
            legacy(&mut c, &root)
        } else {
            neither(&mut c, &root);
            None
        };
        c.finish(normalized)
    }
}

/// `{"event_type", "sent_at", "request": {"status", "pk", ...}, "certificates": [...]}`.
fn current(c: &mut Checker, root: &Obj<'_>) -> Option<Normalized> {
    let event_type = root.req_str(c, "event_type");
    let sent_at = root.req_str(c, "sent_at");
    let (status, pk) = match root.req_obj(c, "request") {
        Some(request) => {
            let status = request.req_str(c, "status");
            let pk = request.req_int(c, "pk");
            request.opt_str(c, "profile");
            request.opt_int(c, "registration_authority");
            request.opt_str(c, "scratchcard");
            (status, pk)
        }
        None => (None, None),
    };
    // Certificates stay in the payload only; their fields are type-checked,
    // not required, so a sparse certificate entry does not lose the event.
    for certificate in root.opt_objects(c, "certificates") {
        for key in ["status", "serial_number", "valid_from", "valid_to"] {
            certificate.opt_str(c, key);
        }
    }
    root.opt_str(c, "date");
    root.opt_str(c, "previous_status");
    let (event_type, sent_at, status, pk) = (event_type?, sent_at?, status?, pk?);
    let outcome = if is_certificate_event(&event_type) {
        // The type says what happened to the certificate; the request's
        // status (typically ISSUED) would wrongly read as a success.
        Outcome::Unknown
    } else {
        if !is_known_event(&event_type) {
            // The outcome still comes from the status; the log only makes a
            // new event type visible.
            tracing::warn!(
                provider = Namirial::SLUG,
                field = "event_type",
                value = %sqs_clean(&event_type),
                "unknown event type forwarded; outcome taken from the request status"
            );
        }
        status_outcome(&status)
    };
    Some(normalized(
        event_type.to_lowercase(),
        event_type.into_owned(),
        pk,
        parse_time(&sent_at),
        outcome,
        status.into_owned(),
    ))
}

/// `{"status", "request": <id>, "date"?, "previous_status"?, "registration_authority"?}`.
fn legacy(c: &mut Checker, root: &Obj<'_>) -> Option<Normalized> {
    let status = root.req_str(c, "status");
    let pk = root.req_int(c, "request");
    let date = root.opt_str(c, "date");
    root.opt_str(c, "previous_status");
    root.opt_int(c, "registration_authority");
    let (status, pk) = (status?, pk?);
    Some(normalized(
        format!("status.{}", status.to_lowercase()),
        status.to_string(),
        pk,
        date.and_then(|d| parse_time(&d)),
        status_outcome(&status),
        status.into_owned(),
    ))
}

/// Explains the two shapes when the body is recognisably neither.
fn neither(c: &mut Checker, root: &Obj<'_>) {
    let body = || vec![LocPart::Key("body".into())];
    c.push(
        body(),
        "value_error",
        "Input matches neither Namirial payload shape: the current one has `event_type`, \
         `sent_at` and a `request` object with `status` and `pk`; the legacy one has `status` \
         and `request` as the integer request id",
    );
    let mut loc = body();
    loc.push(LocPart::Key("request".into()));
    if root.has("request") {
        c.push(
            loc,
            "value_error",
            "Input should be an object (current shape) or an integer request id (legacy shape)",
        );
    } else {
        c.push(loc, "missing", "Field required");
    }
}

fn normalized(
    type_suffix: String,
    event: String,
    pk: i64,
    time: Option<chrono::DateTime<chrono::Utc>>,
    outcome: Outcome,
    status: String,
) -> Normalized {
    let id = pk.to_string();
    Normalized {
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
            code: Some(status.clone()),
            message: None,
        }),
        status: Some(status),
        outputs: Vec::new(),
    }
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
    use crate::verify::Verification;

    fn normalize(text: &str) -> Result<Normalized, Vec<Detail>> {
        let v = Verified::new(
            text.as_bytes(),
            Verification {
                scheme: "token",
                key_index: 0,
                signed_at: None,
            },
        );
        Namirial::normalize(text, &v)
    }

    fn problems(text: &str) -> Vec<String> {
        normalize(text)
            .unwrap_err()
            .iter()
            .map(|d| format!("{}:{}", serde_json::to_string(&d.loc).unwrap(), d.kind))
            .collect()
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
    fn current_shape_problems() {
        assert_eq!(
            problems(r#"{"event_type":"REQUEST_CREATED","request":{"pk":"1"}}"#),
            [
                r#"["body","sent_at"]:missing"#,
                r#"["body","request","status"]:missing"#,
                r#"["body","request","pk"]:int_type"#,
            ]
        );
        assert_eq!(
            problems(
                r#"{"event_type":7,"sent_at":20250715083633,"request":{"status":"ISSUED","pk":1.5,"registration_authority":"7","scratchcard":2678100},"certificates":[{"valid_to":20260101},3],"date":1}"#
            ),
            [
                r#"["body","event_type"]:string_type"#,
                r#"["body","sent_at"]:string_type"#,
                r#"["body","request","pk"]:int_type"#,
                r#"["body","request","registration_authority"]:int_type"#,
                r#"["body","request","scratchcard"]:string_type"#,
                r#"["body","certificates",1]:dict_type"#,
                r#"["body","certificates",0,"valid_to"]:string_type"#,
                r#"["body","date"]:string_type"#,
            ]
        );
        // `event_type` makes it the current shape, so an integer request is wrong.
        assert_eq!(
            problems(r#"{"event_type":"REQUEST_CREATED","sent_at":"20250715083633","request":5}"#),
            [r#"["body","request"]:dict_type"#]
        );
        assert_eq!(
            problems(r#"{"sent_at":"20250715083633","request":{"status":"ISSUED","pk":1}}"#),
            [r#"["body","event_type"]:missing"#]
        );
        assert_eq!(
            problems(
                r#"{"event_type":"X","sent_at":"1","request":{"status":"","pk":1},"certificates":{}}"#
            ),
            [
                r#"["body","request","status"]:string_too_short"#,
                r#"["body","certificates"]:list_type"#,
            ]
        );
    }

    #[test]
    fn legacy_shape_problems() {
        assert_eq!(
            problems(r#"{"request":12,"registration_authority":"seven","date":false}"#),
            [
                r#"["body","status"]:missing"#,
                r#"["body","date"]:string_type"#,
                r#"["body","registration_authority"]:int_type"#,
            ]
        );
        assert_eq!(
            problems(r#"{"status":"ISSUED","request":12.5}"#),
            [r#"["body","request"]:int_type"#]
        );
        assert_eq!(
            problems(r#"{"status":"ISSUED","request":99999999999999999999}"#),
            [r#"["body","request"]:int_type"#]
        );
    }

    #[test]
    fn neither_shape_is_explained() {
        for (text, request_kind) in [
            ("{}", "missing"),
            (r#"{"status":"ISSUED"}"#, "missing"),
            (r#"{"status":"ISSUED","request":"1012632"}"#, "value_error"),
            (r#"{"status":"ISSUED","request":[1]}"#, "value_error"),
            (r#"{"status":"ISSUED","request":null}"#, "value_error"),
        ] {
            let errs = normalize(text).unwrap_err();
            assert_eq!(errs.len(), 2, "{text}");
            assert_eq!(serde_json::to_string(&errs[0].loc).unwrap(), r#"["body"]"#);
            assert!(errs[0].msg.contains("event_type") && errs[0].msg.contains("legacy"));
            assert_eq!(
                serde_json::to_string(&errs[1].loc).unwrap(),
                r#"["body","request"]"#
            );
            assert_eq!(errs[1].kind, request_kind, "{text}");
        }
        for text in ["[]", "1", "null"] {
            assert_eq!(problems(text), [r#"["body"]:model_attributes_type"#]);
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
