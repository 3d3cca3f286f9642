//! Signing a payload exactly as its provider does, so a delivery made here
//! goes through the same checks as the provider's own.
//!
//! The CLI knows no provider: each one's sender is described in its module
//! in the library (`Provider::SENDER`, `Provider::sign`) and reached through
//! the registry. What a provider's sender holds decides the flag: a shared
//! secret is `--secret`, a token `--token`, a private key `--key` (a PEM
//! file). A provider with more than one way to sign takes `--style`, and one
//! whose credential carries a signed time takes `--timestamp`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hookgate::providers::{Credential, CredentialKind, REGISTRY, Registered, Style};
use hookgate::verify::es256::SigningKey;
use hookgate::verify::{Secret, Signed};

use crate::CliError;

/// The slugs the CLI accepts, from the registry.
pub fn slugs() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|r| r.slug)
}

/// The registered provider `slug`.
pub fn provider(slug: &str) -> Result<&'static Registered, CliError> {
    hookgate::providers::registered(slug).ok_or_else(|| {
        let known: Vec<&str> = slugs().collect();
        CliError::new(format!(
            "no provider {slug:?}; hookgate has {}",
            known.join(", ")
        ))
    })
}

/// The flag that carries a credential of `kind`.
fn flag(kind: CredentialKind) -> String {
    format!("--{}", kind.name())
}

/// The variable a private key's file path is read from:
/// `<SLUG>_PRIVATE_KEY`, e.g. `PANJAYA_PRIVATE_KEY`.
pub fn private_key_var(provider: &Registered) -> String {
    format!("{}_PRIVATE_KEY", provider.slug.to_ascii_uppercase())
}

/// The signing options as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--secret`.
    pub secret: Option<String>,
    /// `--key`: a private key PEM file.
    pub key: Option<PathBuf>,
    /// `--token`.
    pub token: Option<String>,
    /// `--style`.
    pub style: Option<String>,
    /// `--timestamp`: the signed time, Unix seconds.
    pub timestamp: Option<i64>,
    /// `--unsigned`: no credential at all.
    pub unsigned: bool,
}

/// How one delivery is signed, with its credential loaded.
#[derive(Debug)]
pub struct Signer {
    provider: &'static Registered,
    /// `None`: unsigned.
    credential: Option<Credential>,
    style: &'static Style,
    at: i64,
}

impl Signer {
    /// Loads the credential for `provider` from `opts`, else from the
    /// function's own variable (read through `env`), refusing options that
    /// do not apply to the provider.
    pub fn new(
        provider: &'static Registered,
        opts: &Options,
        now: i64,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, CliError> {
        let sender = provider.sender;
        let mut allowed = vec![flag(sender.credential)];
        if sender.styles.len() > 1 {
            allowed.push("--style".into());
        }
        if sender.signed_time.is_some() {
            allowed.push("--timestamp".into());
        }
        let given = [
            ("--secret", opts.secret.is_some()),
            ("--key", opts.key.is_some()),
            ("--token", opts.token.is_some()),
            ("--style", opts.style.is_some()),
            ("--timestamp", opts.timestamp.is_some()),
        ];
        if let Some((name, _)) = given
            .iter()
            .find(|(name, set)| *set && !allowed.iter().any(|a| a == name))
        {
            return Err(CliError::new(format!(
                "{name} does not apply to {}; it takes {}",
                provider.slug,
                allowed.join(", ")
            )));
        }
        let style = sender.style(opts.style.as_deref()).map_err(|_| {
            let names: Vec<&str> = sender.styles.iter().map(|s| s.name).collect();
            CliError::new(format!(
                "{} has no signing style {:?}; it has {}",
                provider.slug,
                opts.style.as_deref().unwrap_or_default(),
                names.join(", ")
            ))
        })?;
        let credential = if opts.unsigned {
            None
        } else {
            Some(credential(provider, opts, env)?)
        };
        Ok(Self {
            provider,
            credential,
            style,
            at: opts.timestamp.unwrap_or(now),
        })
    }

    /// The signed time, for a provider whose credential carries one.
    pub fn signed_at(&self) -> Option<i64> {
        (self.provider.sender.signed_time.is_some() && self.credential.is_some()).then_some(self.at)
    }

    /// Signs `body`.
    pub fn sign(&self, body: &[u8]) -> Result<Signed, CliError> {
        let Some(credential) = &self.credential else {
            return Ok(Signed::default());
        };
        (self.provider.sign)(credential, self.style, body, self.at)
            .map_err(|e| CliError::new(format!("cannot sign as {}: {e}", self.provider.slug)))
    }
}

/// The credential the flag names, else the provider's default: the first
/// entry of the function's list variable (so one exported list serves the
/// function and the CLI), or for a private key the file that
/// [`private_key_var`] names.
fn credential(
    provider: &Registered,
    opts: &Options,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credential, CliError> {
    let sender = provider.sender;
    let kind = sender.credential;
    if kind == CredentialKind::PrivateKey {
        let var = private_key_var(provider);
        let path = match &opts.key {
            Some(p) => p.clone(),
            None => env(&var)
                .filter(|p| !p.trim().is_empty())
                .map(PathBuf::from)
                .ok_or_else(|| {
                    CliError::new(format!(
                        "no {} private key: pass --key <PEM file> or set {var} to its path",
                        sender.name
                    ))
                })?,
        };
        return Ok(Credential::PrivateKey(Arc::new(load_key(&path)?)));
    }
    let given = match kind {
        CredentialKind::Token => opts.token.as_deref(),
        _ => opts.secret.as_deref(),
    };
    let var = provider.credential_var();
    let value = match given {
        Some(v) => v.to_owned(),
        None => env(var)
            .and_then(|list| list.split(',').next().map(|s| s.trim().to_owned()))
            .unwrap_or_default(),
    };
    if value.is_empty() {
        return Err(CliError::new(format!(
            "no {} {}: pass {} or set {var}",
            sender.name,
            kind.name(),
            flag(kind)
        )));
    }
    Ok(Credential::Shared(Secret::new(value.into_bytes())))
}

/// Reads a P-256 private key: PKCS#8 (`PRIVATE KEY`) or SEC1
/// (`EC PRIVATE KEY`) PEM, as OpenSSL writes them.
pub fn load_key(path: &Path) -> Result<SigningKey, CliError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("cannot read the private key {shown}: {e}")))?;
    SigningKey::from_pem(&text).map_err(|e| CliError::new(format!("{shown} {e}")))
}

/// `hookgate providers`: what each provider's sender holds and sends.
pub fn describe(json: bool) -> Result<String, CliError> {
    if json {
        let list: Vec<serde_json::Value> = REGISTRY
            .iter()
            .map(|r| {
                let s = r.sender;
                serde_json::json!({
                    "slug": r.slug,
                    "name": s.name,
                    "credential": s.credential.name(),
                    "flag": flag(s.credential),
                    "variable": r.credential_var(),
                    "secret_variables": r.secret_vars.iter().map(|v| v.name).collect::<Vec<_>>(),
                    "private_key_variable": (s.credential == CredentialKind::PrivateKey)
                        .then(|| private_key_var(r)),
                    "styles": s.styles.iter().map(|st| serde_json::json!({
                        "name": st.name,
                        "about": st.about,
                        "requires": st.requires.map(|(var, value)| serde_json::json!({var: value})),
                    })).collect::<Vec<_>>(),
                    "signed_time": s.signed_time,
                    "covers_body": s.covers_body,
                    "sample": s.sample.valid(1),
                    "unusable_sample": s.sample.unusable,
                })
            })
            .collect();
        return serde_json::to_string_pretty(&list)
            .map_err(|e| CliError::new(format!("cannot write the list: {e}")));
    }
    let mut out = String::new();
    for r in REGISTRY.iter() {
        let s = r.sender;
        let default = if s.credential == CredentialKind::PrivateKey {
            format!("a PEM file; default: the path in {}", private_key_var(r))
        } else {
            format!("default: the first of {}", r.credential_var())
        };
        let placeholder = match s.credential {
            CredentialKind::PrivateKey => "PEM".to_owned(),
            kind => kind.name().to_uppercase(),
        };
        out.push_str(&format!(
            "{} ({}): {} {placeholder} ({default})\n",
            r.slug,
            s.name,
            flag(s.credential),
        ));
        for (i, st) in s.styles.iter().enumerate() {
            let usual = if i == 0 { ", the usual one" } else { "" };
            let needs = st
                .requires
                .map(|(var, value)| format!("; the function needs {var}={value}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  --style {}{usual}: {}{needs}\n",
                st.name, st.about
            ));
        }
        if let Some(var) = s.signed_time {
            out.push_str(&format!(
                "  --timestamp UNIX_SECONDS: the signed time [default: now]; the function accepts it within {var} seconds\n"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use hookgate::Source;
    use hookgate::providers::{Namirial, Panjaya, Redner, Syncso};
    use hookgate::verify::AuthError;
    use hookgate::verify::Inbound;
    use hookgate::verify::es256::test_key;
    use http::{HeaderMap, HeaderName, HeaderValue};

    use super::*;

    const BODY: &[u8] = br#"{"event":"job.completed","data":{"x":"caf\u00e9 1.20"}}"#;
    const NOW: i64 = 1_763_901_296;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn signer(slug: &str, opts: &Options) -> Signer {
        Signer::new(provider(slug).unwrap(), opts, NOW, &no_env).unwrap()
    }

    /// Runs the provider's own verification over a request carrying `sig`.
    fn verify<P: hookgate::providers::Provider>(
        config: &[(&str, &str)],
        sig: &Signed,
        body: &[u8],
    ) -> Result<usize, AuthError> {
        let src: HashMap<&str, &str> = config.iter().copied().collect();
        let provider = P::from_source(&src as &dyn Source).unwrap();
        let mut headers = HeaderMap::new();
        for (name, value) in &sig.headers {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        // Encoded as `send` and `event` encode it.
        let query = sig.query_string();
        let req = Inbound {
            headers: &headers,
            query: query.as_deref(),
            source_ip: None,
            body,
            now: chrono::DateTime::from_timestamp(NOW + 5, 0).unwrap(),
        };
        provider.verify(&req).map(|v| v.verification().key_index)
    }

    #[test]
    fn redner_signature_verifies() {
        let opts = Options {
            secret: Some("whsec_new".into()),
            ..Options::default()
        };
        let sig = signer("redner", &opts).sign(BODY).unwrap();
        let config = [("REDNER_WEBHOOK_SECRETS", "whsec_old,whsec_new")];
        assert_eq!(verify::<Redner>(&config, &sig, BODY), Ok(1));
        // The signature covers the body: one byte more and it fails.
        let mut longer = BODY.to_vec();
        longer.push(b' ');
        assert!(verify::<Redner>(&config, &sig, &longer).is_err());
        let other = [("REDNER_WEBHOOK_SECRETS", "whsec_old")];
        assert!(verify::<Redner>(&other, &sig, BODY).is_err());
    }

    #[test]
    fn syncso_both_styles_verify() {
        // The plain header is a credential only where untimed signatures
        // are accepted.
        let config = [
            ("SYNCSO_WEBHOOK_SECRETS", "whsec_sync"),
            ("SYNCSO_ACCEPT_UNTIMED", "true"),
        ];
        let timestamped = Options {
            secret: Some("whsec_sync".into()),
            ..Options::default()
        };
        let s = signer("syncso", &timestamped);
        assert_eq!(s.signed_at(), Some(NOW));
        let sig = s.sign(BODY).unwrap();
        assert_eq!(sig.headers[0].0, "sync-signature");
        assert!(sig.headers[0].1.starts_with(&format!("t={NOW},v1=")));
        assert_eq!(verify::<Syncso>(&config, &sig, BODY), Ok(0));

        // A `t` outside the window is refused by the function, as it should be.
        let stale = Options {
            timestamp: Some(NOW - 3600),
            ..timestamped.clone()
        };
        let sig = signer("syncso", &stale).sign(BODY).unwrap();
        assert_eq!(verify::<Syncso>(&config, &sig, BODY), Err(AuthError::Stale));

        let plain = Options {
            style: Some("plain".into()),
            ..timestamped
        };
        let sig = signer("syncso", &plain).sign(BODY).unwrap();
        assert_eq!(sig.headers[0].0, "x-signature-primary");
        assert_eq!(verify::<Syncso>(&config, &sig, BODY), Ok(0));
        assert!(verify::<Syncso>(&config, &sig, b"{}").is_err());
        let by_default = [("SYNCSO_WEBHOOK_SECRETS", "whsec_sync")];
        assert!(verify::<Syncso>(&by_default, &sig, BODY).is_err());
    }

    #[test]
    fn panjaya_signature_verifies_with_the_test_public_key() {
        let opts = Options {
            key: Some(test_key::PRIVATE_PEM_PATH.into()),
            ..Options::default()
        };
        let s = signer("panjaya", &opts);
        assert_eq!(s.signed_at(), None);
        let sig = s.sign(BODY).unwrap();
        assert_eq!(sig.headers[1], ("x-signature-algorithm", "ES256".into()));
        // Hex of DER: a SEQUENCE of two integers, 70 to 72 bytes.
        let der = hex::decode(&sig.headers[0].1).unwrap();
        assert_eq!(der[0], 0x30);
        assert!((70..=72).contains(&der.len()), "{}", der.len());
        let config = [("PANJAYA_PUBLIC_KEYS", test_key::PUBLIC_PEM)];
        assert_eq!(verify::<Panjaya>(&config, &sig, BODY), Ok(0));
        assert!(verify::<Panjaya>(&config, &sig, b"{}").is_err());
        // Panjaya's published key is not ours: the default config refuses it.
        assert!(verify::<Panjaya>(&[], &sig, BODY).is_err());
    }

    #[test]
    fn namirial_token_in_query_or_header_verifies() {
        // Characters that must be percent-encoded in a query string.
        let token = "local token+/&=%0123456789";
        let config = [("NAMIRIAL_TOKENS", token)];
        let query = Options {
            token: Some(token.into()),
            ..Options::default()
        };
        let sig = signer("namirial", &query).sign(BODY).unwrap();
        assert!(sig.headers.is_empty());
        assert_eq!(verify::<Namirial>(&config, &sig, BODY), Ok(0));
        let header = Options {
            style: Some("header".into()),
            ..query
        };
        let sig = signer("namirial", &header).sign(BODY).unwrap();
        assert_eq!(sig.query, None);
        assert_eq!(verify::<Namirial>(&config, &sig, BODY), Ok(0));
        let wrong = [("NAMIRIAL_TOKENS", "another-token-0123456789")];
        assert!(verify::<Namirial>(&wrong, &sig, BODY).is_err());
    }

    #[test]
    fn credentials_come_from_the_environment_lists() {
        let env = |var: &str| match var {
            "REDNER_WEBHOOK_SECRETS" => Some(" whsec_first , whsec_second".to_owned()),
            "NAMIRIAL_TOKENS" => Some("first-token-0123456789,second-token-0123456789".into()),
            "PANJAYA_PRIVATE_KEY" => Some(test_key::PRIVATE_PEM_PATH.to_owned()),
            _ => None,
        };
        let opts = Options::default();
        let sign = |slug| {
            Signer::new(provider(slug).unwrap(), &opts, NOW, &env)
                .unwrap()
                .sign(BODY)
                .unwrap()
        };
        let first = [("REDNER_WEBHOOK_SECRETS", "whsec_first")];
        assert_eq!(verify::<Redner>(&first, &sign("redner"), BODY), Ok(0));
        assert_eq!(
            sign("namirial").query,
            Some(("token", "first-token-0123456789".to_owned()))
        );
        let config = [("PANJAYA_PUBLIC_KEYS", test_key::PUBLIC_PEM)];
        assert_eq!(verify::<Panjaya>(&config, &sign("panjaya"), BODY), Ok(0));
    }

    #[test]
    fn missing_or_misplaced_credentials_are_one_clear_sentence() {
        let err = |slug, opts: &Options| {
            Signer::new(provider(slug).unwrap(), opts, NOW, &no_env)
                .unwrap_err()
                .to_string()
        };
        let none = Options::default();
        assert_eq!(
            err("redner", &none),
            "no Redner secret: pass --secret or set REDNER_WEBHOOK_SECRETS"
        );
        assert_eq!(
            err("syncso", &none),
            "no sync.so secret: pass --secret or set SYNCSO_WEBHOOK_SECRETS"
        );
        assert_eq!(
            err("namirial", &none),
            "no Namirial token: pass --token or set NAMIRIAL_TOKENS"
        );
        assert_eq!(
            err("panjaya", &none),
            "no Panjaya private key: pass --key <PEM file> or set PANJAYA_PRIVATE_KEY to its path"
        );
        let plain = Options {
            style: Some("plain".into()),
            secret: Some("s".into()),
            ..none.clone()
        };
        assert_eq!(
            err("redner", &plain),
            "--style does not apply to redner; it takes --secret"
        );
        let token = Options {
            token: Some("t".into()),
            ..none.clone()
        };
        assert_eq!(
            err("syncso", &token),
            "--token does not apply to syncso; it takes --secret, --style, --timestamp"
        );
        let odd = Options {
            style: Some("sideways".into()),
            ..none.clone()
        };
        assert_eq!(
            err("namirial", &odd),
            "namirial has no signing style \"sideways\"; it has query, header"
        );
        let missing = Options {
            key: Some("/nonexistent/key.pem".into()),
            ..none
        };
        assert!(
            err("panjaya", &missing)
                .starts_with("cannot read the private key /nonexistent/key.pem: ")
        );
        let known: Vec<&str> = slugs().collect();
        assert_eq!(
            provider("no-such-provider").unwrap_err().to_string(),
            format!(
                "no provider \"no-such-provider\"; hookgate has {}",
                known.join(", ")
            )
        );
    }

    #[test]
    fn key_files_that_are_not_p256_private_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("hookgate-cli-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let public = dir.join("public.pem");
        std::fs::write(&public, test_key::PUBLIC_PEM).unwrap();
        let text = dir.join("text.pem");
        std::fs::write(&text, "not a key").unwrap();
        let e = load_key(&public).unwrap_err().to_string();
        assert!(e.contains("holds a \"PUBLIC KEY\" block"), "{e}");
        let e = load_key(&text).unwrap_err().to_string();
        assert!(e.contains("is not a PEM block"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let opts = Options {
            secret: Some("whsec_do_not_print".into()),
            ..Options::default()
        };
        let s = signer("redner", &opts);
        assert!(!format!("{s:?}").contains("whsec"));
        assert!(!format!("{:?}", s.sign(BODY).unwrap()).contains("sha256="));
    }

    #[test]
    fn the_description_names_every_provider_and_style() {
        let text = describe(false).unwrap();
        let json: serde_json::Value = serde_json::from_str(&describe(true).unwrap()).unwrap();
        assert_eq!(json.as_array().unwrap().len(), REGISTRY.len());
        for r in REGISTRY.iter() {
            assert!(
                text.contains(&format!("{} ({})", r.slug, r.sender.name)),
                "{text}"
            );
            for st in r.sender.styles {
                assert!(text.contains(&format!("--style {}", st.name)), "{text}");
            }
        }
        assert_eq!(
            json[1]["styles"][1]["requires"]["SYNCSO_ACCEPT_UNTIMED"],
            "true"
        );
        assert_eq!(json[0]["private_key_variable"], "PANJAYA_PRIVATE_KEY");
        let sample = json[3]["sample"].as_str().unwrap();
        assert!(
            serde_json::from_str::<serde_json::Value>(sample).is_ok(),
            "{sample}"
        );
    }
}
