//! Configuration read once at cold start, from the process environment or,
//! in tests, from a map, so nothing has to touch process state.
//!
//! Every failure names the variable and says what is wrong in one sentence:
//! the Lambda init error is the first (and often only) thing an operator sees.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::providers::Provider;
use crate::secrets::{SECRET_ID_SUFFIX, SecretStore, secret_ids};

/// SQS's default maximum message size, assumed when the queue cannot be asked.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 262_144;
/// Default `MAX_BODY_BYTES`.
pub const DEFAULT_MAX_BODY_BYTES: usize = 262_144;
/// Default `SQS_TIMEOUT_MS`.
pub const DEFAULT_SQS_TIMEOUT_MS: u64 = 5_000;

/// A place configuration values come from.
pub trait Source {
    /// The value of `key`, if set.
    fn get(&self, key: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Env;

impl Source for Env {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl<S: std::hash::BuildHasher> Source for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key).cloned()
    }
}

impl<S: std::hash::BuildHasher> Source for HashMap<&str, &str, S> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key).map(|v| (*v).to_owned())
    }
}

/// A configuration problem that must stop the cold start.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} {problem}")]
pub struct ConfigError {
    /// The variable at fault.
    pub variable: String,
    /// What is wrong with it, as the rest of a sentence.
    pub problem: String,
}

impl fmt::Debug for ConfigError {
    // A binary's `main` prints its error with `Debug`: make that the sentence
    // an operator reads in the init failure log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl ConfigError {
    /// A problem with `variable`; `problem` continues the sentence after the name.
    pub fn new(variable: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            problem: problem.into(),
        }
    }
}

/// Reads typed values from a [`Source`], turning blanks into "unset".
#[derive(Clone, Copy)]
pub struct Vars<'a>(pub &'a dyn Source);

impl fmt::Debug for Vars<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A source holds secrets; never print it.
        f.write_str("Vars([redacted])")
    }
}

impl Vars<'_> {
    /// The trimmed value, or `None` when unset or blank.
    pub fn get(&self, key: &str) -> Option<String> {
        self.0
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The value, or an error naming the variable when it is unset.
    pub fn required(&self, key: &str, hint: &str) -> Result<String, ConfigError> {
        self.get(key)
            .ok_or_else(|| ConfigError::new(key, format!("is not set: {hint}")))
    }

    /// A positive integer, or `default` when unset.
    pub fn positive<T>(&self, key: &str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + Default,
    {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => match raw.parse::<T>() {
                Ok(v) if v > T::default() => Ok(v),
                _ => Err(ConfigError::new(
                    key,
                    format!("must be a positive whole number, not {raw:?}"),
                )),
            },
        }
    }

    /// `true` or `false` (any case), or `false` when unset.
    pub fn flag(&self, key: &str) -> Result<bool, ConfigError> {
        match self.get(key) {
            None => Ok(false),
            Some(raw) if raw.eq_ignore_ascii_case("true") => Ok(true),
            Some(raw) if raw.eq_ignore_ascii_case("false") => Ok(false),
            Some(raw) => Err(ConfigError::new(
                key,
                format!("must be true or false, not {raw:?}"),
            )),
        }
    }

    /// A comma-separated list with no empty entries; `None` when unset.
    pub fn list(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(raw) = self.get(key) else {
            return Ok(None);
        };
        let items: Vec<String> = raw.split(',').map(|s| s.trim().to_owned()).collect();
        if items.iter().any(String::is_empty) {
            return Err(ConfigError::new(
                key,
                "holds an empty entry: separate values with single commas",
            ));
        }
        Ok(Some(items))
    }
}

/// What every function needs, whatever its provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    /// `QUEUE_URL`: where events go.
    pub queue_url: String,
    /// `MAX_BODY_BYTES`: larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    /// `SQS_TIMEOUT_MS`: the whole send, SDK retries included.
    pub sqs_timeout: Duration,
    /// `QUARANTINE_QUEUE_URL`: where authenticated deliveries that cannot be
    /// normalized go; unset, they are refused with 400 or 422 instead.
    pub quarantine_queue_url: Option<String>,
}

impl Common {
    /// Reads `QUEUE_URL`, `MAX_BODY_BYTES`, `SQS_TIMEOUT_MS` and
    /// `QUARANTINE_QUEUE_URL`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let vars = Vars(src);
        let queue_url = vars.required(
            "QUEUE_URL",
            "set it to the URL of the SQS queue that receives the events",
        )?;
        let quarantine_queue_url = vars.get("QUARANTINE_QUEUE_URL");
        for (var, url) in [
            ("QUEUE_URL", Some(&queue_url)),
            ("QUARANTINE_QUEUE_URL", quarantine_queue_url.as_ref()),
        ] {
            if let Some(url) =
                url.filter(|u| !u.starts_with("https://") && !u.starts_with("http://"))
            {
                return Err(ConfigError::new(
                    var,
                    format!("must be an http(s) SQS queue URL, not {url:?}"),
                ));
            }
        }
        Ok(Self {
            queue_url,
            quarantine_queue_url,
            max_body_bytes: vars.positive("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)?,
            sqs_timeout: Duration::from_millis(
                vars.positive("SQS_TIMEOUT_MS", DEFAULT_SQS_TIMEOUT_MS)?,
            ),
        })
    }
}

/// Everything a function needs, read once at cold start.
#[derive(Debug)]
pub struct Config<P> {
    /// Queue and limits.
    pub common: Common,
    /// The provider with its verification keys.
    pub provider: P,
    /// Where its secrets come from, when they live in Secrets Manager.
    pub secrets: Option<SecretStore>,
}

impl<P: Provider> Config<P> {
    /// Reads the process environment, and the Secrets Manager secrets that
    /// `<VAR>_SECRET_ID` variables name.
    pub async fn load() -> Result<Self, ConfigError> {
        Self::load_from(Arc::new(Env)).await
    }

    /// Like [`Config::load`], from any source.
    pub async fn load_from(src: Arc<dyn Source + Send + Sync>) -> Result<Self, ConfigError> {
        let common = Common::from_source(&*src)?;
        match SecretStore::load(Arc::clone(&src), P::SECRET_VARS).await? {
            None => Ok(Self {
                common,
                provider: P::from_source(&*src)?,
                secrets: None,
            }),
            Some((store, values)) => {
                let provider = P::from_source(&store.with_values(&values))?;
                Ok(Self {
                    common,
                    provider,
                    secrets: Some(store),
                })
            }
        }
    }

    /// Reads plain variables only (no Secrets Manager), e.g. from a map.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        if let Some((var, _)) = secret_ids(src, P::SECRET_VARS)?.first() {
            return Err(ConfigError::new(
                format!("{}{SECRET_ID_SUFFIX}", var.name),
                "names a Secrets Manager secret, which only Config::load reads",
            ));
        }
        Ok(Self {
            common: Common::from_source(src)?,
            provider: P::from_source(src)?,
            secrets: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(pairs: &[(&'static str, &'static str)]) -> HashMap<&'static str, &'static str> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn queue_url_is_required() {
        let err = Common::from_source(&src(&[])).unwrap_err();
        assert_eq!(err.variable, "QUEUE_URL");
        assert!(err.to_string().starts_with("QUEUE_URL is not set"));
    }

    #[test]
    fn defaults_apply() {
        let c = Common::from_source(&src(&[("QUEUE_URL", "http://127.0.0.1:1/q")])).unwrap();
        assert_eq!(c.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(c.sqs_timeout, Duration::from_millis(5000));
    }

    #[test]
    fn malformed_numbers_fail() {
        for bad in ["0", "-1", "ten", "1.5"] {
            let s = src(&[("QUEUE_URL", "https://q.fifo"), ("SQS_TIMEOUT_MS", bad)]);
            let err = Common::from_source(&s).unwrap_err();
            assert_eq!(err.variable, "SQS_TIMEOUT_MS", "{bad}");
        }
        let s = src(&[("QUEUE_URL", "sqs://nope")]);
        assert_eq!(Common::from_source(&s).unwrap_err().variable, "QUEUE_URL");
        let s = src(&[("QUEUE_URL", "https://q"), ("QUARANTINE_QUEUE_URL", "q2")]);
        let err = Common::from_source(&s).unwrap_err();
        assert_eq!(err.variable, "QUARANTINE_QUEUE_URL");
    }

    #[test]
    fn quarantine_is_optional() {
        let c = Common::from_source(&src(&[("QUEUE_URL", "https://q")])).unwrap();
        assert_eq!(c.quarantine_queue_url, None);
        let c = Common::from_source(&src(&[
            ("QUEUE_URL", "https://q"),
            ("QUARANTINE_QUEUE_URL", " https://q2 "),
        ]))
        .unwrap();
        assert_eq!(c.quarantine_queue_url.as_deref(), Some("https://q2"));
    }

    #[test]
    fn flags() {
        let s = src(&[("T", "TRUE"), ("F", " false "), ("X", "yes")]);
        let v = Vars(&s);
        assert_eq!(v.flag("T"), Ok(true));
        assert_eq!(v.flag("F"), Ok(false));
        assert_eq!(v.flag("MISSING"), Ok(false));
        assert_eq!(v.flag("X").unwrap_err().variable, "X");
    }

    #[test]
    fn lists_reject_empty_entries() {
        let s = src(&[("L", "a, b"), ("E", "a,,b"), ("B", "  ")]);
        let v = Vars(&s);
        assert_eq!(v.list("L").unwrap(), Some(vec!["a".into(), "b".into()]));
        assert!(v.list("E").is_err());
        assert_eq!(v.list("B").unwrap(), None);
        assert_eq!(v.list("MISSING").unwrap(), None);
    }
}
