//! A sign-in in progress: the `state`, `nonce` and PKCE verifier kept in the session cookie
//! between the redirect to the provider and its answer, the authorization URL, and where the
//! browser goes afterwards. No IO.
//!
//! Invariants: each value is 32 random bytes (base64url); the challenge is S256 of the
//! verifier; `next` is always a path under `/ui`, so the callback never redirects elsewhere.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Seconds a sign-in may take between the redirect and the callback.
pub const LOGIN_TTL_SECS: i64 = 600;

/// What the callback needs to finish a sign-in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// The page asked for, opened after sign-in.
    pub next: String,
    pub started_at: i64,
}

impl PendingLogin {
    /// A fresh sign-in that returns to `next` (any other place than a `/ui` path: `/ui`).
    pub fn start(next: &str, now: i64) -> PendingLogin {
        PendingLogin {
            state: random_value(),
            nonce: random_value(),
            verifier: random_value(),
            next: safe_next(next),
            started_at: now,
        }
    }

    /// `base64url(SHA-256(verifier))`, the PKCE S256 challenge.
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()))
    }

    pub fn expired(&self, now: i64) -> bool {
        now - self.started_at > LOGIN_TTL_SECS || now < self.started_at - 60
    }

    /// Whether the callback's `state` is this sign-in's (constant time).
    pub fn state_matches(&self, state: &str) -> bool {
        constant_time_eq(&self.state, state)
    }

    /// The authorization endpoint with the code request's parameters.
    pub fn authorization_url(
        &self,
        endpoint: &str,
        client_id: &str,
        redirect_uri: &str,
    ) -> Result<url::Url, url::ParseError> {
        let mut url = url::Url::parse(endpoint)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid profile email")
            .append_pair("state", &self.state)
            .append_pair("nonce", &self.nonce)
            .append_pair("code_challenge", &self.challenge())
            .append_pair("code_challenge_method", "S256");
        Ok(url)
    }
}

/// `next` when it is a path under `/ui` on this server, else `/ui`.
pub fn safe_next(next: &str) -> String {
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let local = (path == "/ui" || path.starts_with("/ui/"))
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    match local {
        true => next.to_owned(),
        false => "/ui".to_owned(),
    }
}

/// 32 random bytes, base64url without padding.
pub fn random_value() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Compares two strings without stopping at the first difference.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_s256_of_the_verifier() {
        // RFC 7636 appendix B.
        let login = PendingLogin {
            verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            ..PendingLogin::start("/ui", 0)
        };

        assert_eq!(
            login.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn next_stays_under_ui() {
        let cases = [
            ("/ui", "/ui"),
            ("/ui/person?who=a%40b", "/ui/person?who=a%40b"),
            ("/ui/dead-letters", "/ui/dead-letters"),
            ("/uix", "/ui"),
            ("/metrics", "/ui"),
            ("https://evil.example/ui", "/ui"),
            ("//evil.example/ui", "/ui"),
            ("/ui//evil.example", "/ui"),
            ("/ui/\\evil", "/ui"),
            ("/ui/\r\nSet-Cookie: x", "/ui"),
            ("", "/ui"),
        ];
        for (next, expected) in cases {
            assert_eq!(safe_next(next), expected, "next {next:?}");
        }
    }

    #[test]
    fn each_sign_in_has_its_own_values_and_a_matching_state_only() {
        let first = PendingLogin::start("/ui", 1_000);
        let second = PendingLogin::start("/ui", 1_000);

        assert_ne!(first.state, second.state);
        assert_ne!(first.nonce, first.state);
        assert_eq!(first.verifier.len(), 43);
        assert!(first.state_matches(&first.state.clone()));
        assert!(!first.state_matches(&second.state));
        assert!(!first.state_matches(""));
        assert!(!first.expired(1_000 + LOGIN_TTL_SECS));
        assert!(first.expired(1_001 + LOGIN_TTL_SECS));
    }

    #[test]
    fn the_authorization_url_carries_the_code_request() {
        let login = PendingLogin::start("/ui", 0);

        let url = login
            .authorization_url(
                "http://127.0.0.1:9/authz?x=1",
                "router",
                "http://127.0.0.1:8/ui/callback",
            )
            .unwrap();

        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs["x"], "1");
        assert_eq!(pairs["response_type"], "code");
        assert_eq!(pairs["client_id"], "router");
        assert_eq!(pairs["redirect_uri"], "http://127.0.0.1:8/ui/callback");
        assert_eq!(pairs["state"], login.state);
        assert_eq!(pairs["nonce"], login.nonce);
        assert_eq!(pairs["code_challenge"], login.challenge());
        assert_eq!(pairs["code_challenge_method"], "S256");
    }
}
