//! Types that hold secrets (API tokens, webhook secrets, credentialed URLs) and redact
//! themselves in `Debug` and `Display`, so logs never show them.

use std::{collections::HashMap, fmt, str::FromStr};

use secrecy::{ExposeSecret, SecretString};

/// A secret string: parsed from the environment, redacted in `Debug`.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(value.trim()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A URL that may carry credentials: `Debug` and `Display` show it without them.
#[derive(Clone)]
pub struct RedactedUrl(Secret);

impl RedactedUrl {
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl FromStr for RedactedUrl {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        url::Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
        Ok(Self(Secret::new(value)))
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(self.expose()) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("redacted"));
                }
                write!(f, "{url}")
            }
            Err(_) => f.write_str("[unparseable url]"),
        }
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The secret of each ClickUp webhook, keyed by webhook id.
#[derive(Clone, Default)]
pub struct WebhookSecrets(HashMap<String, Secret>);

impl WebhookSecrets {
    pub fn insert(&mut self, webhook_id: impl Into<String>, secret: impl Into<String>) {
        self.0.insert(webhook_id.into(), Secret::new(secret));
    }

    pub fn get(&self, webhook_id: &str) -> Option<&Secret> {
        self.0.get(webhook_id)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The webhook ids, sorted (never the secrets).
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.0.keys().cloned().collect();
        ids.sort();
        ids
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for WebhookSecrets {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut secrets = Self::default();
        for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, secret) = pair.split_once('=').ok_or_else(|| {
                "expected WEBHOOK_ID=SECRET pairs separated by commas".to_string()
            })?;
            if id.trim().is_empty() || secret.trim().is_empty() {
                return Err("a webhook id or secret is empty".into());
            }
            secrets.insert(id.trim(), secret.trim());
        }
        Ok(secrets)
    }
}

impl fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.0.keys().collect();
        ids.sort();
        f.debug_struct("WebhookSecrets")
            .field("webhook_ids", &ids)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let secrets: WebhookSecrets = "hook-1=TOPSECRET, hook-2=ALSOSECRET".parse().unwrap();
        let url: RedactedUrl = "amqp://user:hunter2@localhost:5672/%2f".parse().unwrap();
        let token = Secret::new("pk_123_SECRET");

        let printed = format!("{secrets:?} {url:?} {url} {token:?}");

        assert!(!printed.contains("SECRET"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("hook-1") && printed.contains("user:redacted@localhost"));
    }

    #[test]
    fn webhook_secrets_parse_pairs_and_refuse_malformed_ones() {
        let cases = [
            ("a=1,b=2", Ok(2)),
            ("", Ok(0)),
            (" a = 1 , ", Ok(1)),
            ("a", Err(())),
            ("a=", Err(())),
            ("=1", Err(())),
        ];
        for (input, expected) in cases {
            let parsed = input
                .parse::<WebhookSecrets>()
                .map(|s| s.len())
                .map_err(|_| ());
            assert_eq!(parsed, expected, "input {input:?}");
        }
        let secrets: WebhookSecrets = " a = 1 ".parse().unwrap();
        assert_eq!(secrets.get("a").map(Secret::expose), Some("1"));
    }
}
