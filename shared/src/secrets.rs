//! Secrets and keys from AWS Secrets Manager, with rotation.
//!
//! Every secret variable (`REDNER_WEBHOOK_SECRETS`, ...) may instead name a
//! Secrets Manager secret in `<VAR>_SECRET_ID`; the secret's string holds
//! the same format as the plain variable. Both the `AWSCURRENT` and the
//! `AWSPREVIOUS` versions are accepted, so a rotation never rejects a
//! delivery signed with the secret it replaced. When a delivery fails
//! verification the secret is read again, at most once per refresh interval,
//! so a rotation is picked up without a cold start.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager::Client;
use tokio::sync::Mutex;

use crate::config::{ConfigError, Source, Vars};
use crate::sink::error_chain;

/// Suffix of the variable naming a secret.
pub const SECRET_ID_SUFFIX: &str = "_SECRET_ID";
/// `SECRETS_REFRESH_SECONDS` default: at most one re-read a minute.
pub const DEFAULT_REFRESH_SECONDS: u64 = 60;
/// How long one read of a secret may take.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A variable that holds secrets, and how two versions of it combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretVar {
    /// The plain variable, e.g. `REDNER_WEBHOOK_SECRETS`.
    pub name: &'static str,
    /// What joins two values of it: `,` for lists, a newline for PEM blocks.
    pub join: &'static str,
}

/// The secret values read from Secrets Manager, as plain variables would
/// hold them, over the rest of the configuration.
struct Overlay<'a> {
    base: &'a dyn Source,
    values: &'a HashMap<&'static str, String>,
}

impl Source for Overlay<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.values.get(key).cloned().or_else(|| self.base.get(key))
    }
}

/// Reads the secrets named by `*_SECRET_ID` variables, and reads them again
/// on demand, no more often than the refresh interval.
pub struct SecretStore {
    client: Client,
    ids: Vec<(SecretVar, String)>,
    base: Arc<dyn Source + Send + Sync>,
    interval: Duration,
    last_read: Mutex<Instant>,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field(
                "secret_ids",
                &self.ids.iter().map(|(_, id)| id).collect::<Vec<_>>(),
            )
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Which of `vars` name a secret instead of holding it; both set is an error.
pub fn secret_ids(
    src: &dyn Source,
    vars: &[SecretVar],
) -> Result<Vec<(SecretVar, String)>, ConfigError> {
    let v = Vars(src);
    let mut ids = Vec::new();
    for var in vars {
        let id_var = format!("{}{SECRET_ID_SUFFIX}", var.name);
        if let Some(id) = v.get(&id_var) {
            if v.get(var.name).is_some() {
                return Err(ConfigError::new(
                    id_var,
                    format!("and {} are both set: keep one", var.name),
                ));
            }
            ids.push((*var, id));
        }
    }
    Ok(ids)
}

impl SecretStore {
    /// A store for the secret ids in `src` (none: `Ok(None)`), with the
    /// values read once now.
    pub async fn load(
        src: Arc<dyn Source + Send + Sync>,
        vars: &[SecretVar],
    ) -> Result<Option<(Self, HashMap<&'static str, String>)>, ConfigError> {
        let ids = secret_ids(&*src, vars)?;
        if ids.is_empty() {
            return Ok(None);
        }
        let interval = Duration::from_secs(
            Vars(&*src).positive("SECRETS_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS)?,
        );
        let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
        let store = Self {
            client: Client::new(&sdk),
            ids,
            base: src,
            interval,
            last_read: Mutex::new(Instant::now()),
        };
        let values = store.read_all().await?;
        Ok(Some((store, values)))
    }

    /// A configuration source with the secret values over the base values.
    pub fn with_values<'a>(
        &'a self,
        values: &'a HashMap<&'static str, String>,
    ) -> impl Source + 'a {
        Overlay {
            base: &*self.base,
            values,
        }
    }

    /// Reads every secret again, unless the last read was less than the
    /// refresh interval ago. `None` when it did not (or could not) read.
    pub async fn refresh(&self) -> Option<HashMap<&'static str, String>> {
        // A read already under way answers for this caller too.
        let mut last = self.last_read.try_lock().ok()?;
        if last.elapsed() < self.interval {
            return None;
        }
        *last = Instant::now();
        match self.read_all().await {
            Ok(values) => {
                tracing::info!(
                    secrets = self.ids.len(),
                    "secrets re-read after a failed verification"
                );
                Some(values)
            }
            Err(e) => {
                tracing::error!(error = %e, "re-reading secrets failed; keeping the current ones");
                None
            }
        }
    }

    async fn read_all(&self) -> Result<HashMap<&'static str, String>, ConfigError> {
        let mut values = HashMap::new();
        for (var, id) in &self.ids {
            let id_var = format!("{}{SECRET_ID_SUFFIX}", var.name);
            let current = self
                .read(id, "AWSCURRENT")
                .await
                .map_err(|e| {
                    ConfigError::new(
                        &id_var,
                        format!("names a secret that could not be read: {e}"),
                    )
                })?
                .ok_or_else(|| ConfigError::new(&id_var, "names a secret with no current value"))?;
            // A secret never rotated has no AWSPREVIOUS: that is normal.
            let previous = self.read(id, "AWSPREVIOUS").await.map_err(|e| {
                ConfigError::new(
                    &id_var,
                    format!("names a secret whose previous version could not be read: {e}"),
                )
            })?;
            let value = match previous {
                Some(p) if p.trim() != current.trim() => {
                    format!("{}{}{}", current.trim(), var.join, p.trim())
                }
                _ => current.trim().to_owned(),
            };
            values.insert(var.name, value);
        }
        Ok(values)
    }

    /// One version's string; `Ok(None)` when that version does not exist.
    async fn read(&self, id: &str, stage: &str) -> Result<Option<String>, String> {
        let call = self
            .client
            .get_secret_value()
            .secret_id(id)
            .version_stage(stage)
            .send();
        match tokio::time::timeout(READ_TIMEOUT, call).await {
            Ok(Ok(out)) => Ok(out.secret_string().map(str::to_owned)),
            Ok(Err(e)) => {
                let missing = e
                    .as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception());
                if missing && stage != "AWSCURRENT" {
                    Ok(None)
                } else {
                    Err(error_chain(&e))
                }
            }
            Err(_) => Err(format!("no answer within {READ_TIMEOUT:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: &[SecretVar] = &[SecretVar {
        name: "REDNER_WEBHOOK_SECRETS",
        join: ",",
    }];

    #[test]
    fn plain_or_secret_id_but_not_both() {
        let plain = HashMap::from([("REDNER_WEBHOOK_SECRETS", "a")]);
        assert!(secret_ids(&plain, VARS).unwrap().is_empty());
        let id = HashMap::from([("REDNER_WEBHOOK_SECRETS_SECRET_ID", "hookgate/redner")]);
        assert_eq!(secret_ids(&id, VARS).unwrap()[0].1, "hookgate/redner");
        let both = HashMap::from([
            ("REDNER_WEBHOOK_SECRETS", "a"),
            ("REDNER_WEBHOOK_SECRETS_SECRET_ID", "hookgate/redner"),
        ]);
        let err = secret_ids(&both, VARS).unwrap_err();
        assert_eq!(err.variable, "REDNER_WEBHOOK_SECRETS_SECRET_ID");
        assert!(err.to_string().contains("both set"));
    }
}
