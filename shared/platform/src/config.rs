//! The one place configuration is read from the environment.

use std::collections::HashMap;

use crate::caller::BootstrapAdmins;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {0} is invalid: {1}")]
    Invalid(&'static str, String),
}

#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    /// Signs list cursors; at least 32 bytes.
    pub cursor_secret: Vec<u8>,
    /// How long an Idempotency-Key is remembered.
    pub idempotency_ttl_secs: i64,
    /// Logical queue name -> SQS URL, from `QUEUE_URL_<NAME>` variables.
    pub queue_urls: HashMap<String, String>,
    pub bucket: Option<String>,
    /// `MAIL_FROM`: the verified SES identity mail is sent from; only the
    /// mail sender is given one (None: this function sends no mail).
    pub mail_from: Option<String>,
    /// `PUBLIC_URL`: where people reach the app, for links in mail.
    pub public_url: Option<String>,
    /// An emulator endpoint (moto) instead of AWS.
    pub aws_endpoint: Option<String>,
    /// `BOOTSTRAP_ADMINS`: who may sign in before the agency has a person
    /// record for them (`tenant:person,...`; empty: nobody).
    pub bootstrap_admins: BootstrapAdmins,
}

pub const DEFAULT_IDEMPOTENCY_TTL_SECS: i64 = 24 * 3600;

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_vars(std::env::vars().collect())
    }

    pub fn from_vars(vars: HashMap<String, String>) -> Result<Config, ConfigError> {
        let get = |k: &'static str| vars.get(k).filter(|v| !v.is_empty()).cloned();
        let table_name = get("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?;
        // Only functions with list endpoints are given the shared secret. The
        // others never sign a cursor; a random key of their own keeps anything
        // they might sign unforgeable (and valid in that instance only).
        let cursor_secret = get("CURSOR_SECRET").unwrap_or_else(|| {
            format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            )
        });
        if cursor_secret.len() < 32 {
            return Err(ConfigError::Invalid(
                "CURSOR_SECRET",
                "must be at least 32 characters".into(),
            ));
        }
        let idempotency_ttl_secs = match get("IDEMPOTENCY_TTL_SECS") {
            None => DEFAULT_IDEMPOTENCY_TTL_SECS,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::Invalid("IDEMPOTENCY_TTL_SECS", v.clone()))?,
        };
        let queue_urls = vars
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("QUEUE_URL_")
                    .map(|name| (name.to_ascii_lowercase().replace('_', "-"), v.clone()))
            })
            .collect();
        let bootstrap_admins = BootstrapAdmins::parse(&get("BOOTSTRAP_ADMINS").unwrap_or_default())
            .map_err(|why| ConfigError::Invalid("BOOTSTRAP_ADMINS", why))?;
        let mail_from = get("MAIL_FROM");
        if let Some(from) = &mail_from {
            agencyops_domain::validate::email(from)
                .map_err(|_| ConfigError::Invalid("MAIL_FROM", from.clone()))?;
        }
        Ok(Config {
            table_name,
            cursor_secret: cursor_secret.into_bytes(),
            idempotency_ttl_secs,
            queue_urls,
            bucket: get("BUCKET_NAME"),
            mail_from,
            public_url: get("PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned()),
            aws_endpoint: get("AWS_ENDPOINT_URL"),
            bootstrap_admins,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn requires_table_and_a_strong_cursor_secret() {
        assert!(Config::from_vars(vars(&[])).is_err());
        assert!(
            Config::from_vars(vars(&[("TABLE_NAME", "t"), ("CURSOR_SECRET", "short")])).is_err()
        );
        let c = Config::from_vars(vars(&[
            ("TABLE_NAME", "t"),
            ("CURSOR_SECRET", "0123456789abcdef0123456789abcdef"),
            ("QUEUE_URL_BUDGET_EVENTS", "https://sqs/q"),
        ]))
        .unwrap();
        assert_eq!(c.queue_urls["budget-events"], "https://sqs/q");
        assert_eq!(c.idempotency_ttl_secs, DEFAULT_IDEMPOTENCY_TTL_SECS);
        assert!(
            !c.bootstrap_admins.contains("acme", "ana"),
            "nobody unless named"
        );
    }

    #[test]
    fn bootstrap_admins_are_tenant_person_pairs() {
        let base = [
            ("TABLE_NAME", "t"),
            ("CURSOR_SECRET", "0123456789abcdef0123456789abcdef"),
        ];
        let with = |list: &str| {
            let mut v = vars(&base);
            v.insert("BOOTSTRAP_ADMINS".into(), list.into());
            Config::from_vars(v)
        };
        let c = with(" acme:ana , globex:gus,").unwrap();
        assert!(c.bootstrap_admins.contains("acme", "ana"));
        assert!(c.bootstrap_admins.contains("globex", "gus"));
        assert!(!c.bootstrap_admins.contains("acme", "gus"), "per tenant");
        for bad in ["acme", "acme:", ":ana", "acme:ana:x", "ac#me:ana"] {
            assert!(
                matches!(with(bad), Err(ConfigError::Invalid("BOOTSTRAP_ADMINS", _))),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn the_mail_sender_address_must_be_an_address() {
        let base = [("TABLE_NAME", "t")];
        let with = |from: &str| {
            let mut v = vars(&base);
            v.insert("MAIL_FROM".into(), from.into());
            Config::from_vars(v)
        };
        assert_eq!(Config::from_vars(vars(&base)).unwrap().mail_from, None);
        assert_eq!(
            with("billing@lumen.studio").unwrap().mail_from.as_deref(),
            Some("billing@lumen.studio")
        );
        assert!(matches!(
            with("billing at lumen"),
            Err(ConfigError::Invalid("MAIL_FROM", _))
        ));
    }

    #[test]
    fn functions_without_lists_get_a_random_cursor_secret_of_their_own() {
        let a = Config::from_vars(vars(&[("TABLE_NAME", "t")])).unwrap();
        let b = Config::from_vars(vars(&[("TABLE_NAME", "t")])).unwrap();
        assert!(a.cursor_secret.len() >= 32);
        assert_ne!(a.cursor_secret, b.cursor_secret);
    }
}
