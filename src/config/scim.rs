//! `SCIM_TOKENS`: the SCIM clients and their bearer tokens, `client-name=token,…`. The names
//! are not secret (a client's events carry `urn:scim:client:<name>` as their source); the
//! tokens are kept as [`Secret`]s and compared in constant time.

use std::{fmt, str::FromStr};

use sha2::{Digest, Sha256};

use super::Secret;

/// The configured SCIM clients; empty means SCIM is off.
#[derive(Clone, Default)]
pub struct ScimTokens(Vec<(String, Secret)>);

impl ScimTokens {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client names, in the order given (never the tokens).
    pub fn clients(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// The name of the client whose token `presented` is. Every token is compared, in time
    /// independent of where (or whether) they differ.
    pub fn client(&self, presented: &str) -> Option<&str> {
        let presented = Sha256::digest(presented.as_bytes());
        let mut found = None;
        for (name, token) in &self.0 {
            let expected = Sha256::digest(token.expose().as_bytes());
            let difference = presented
                .iter()
                .zip(expected.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if difference == 0 {
                found = Some(name.as_str());
            }
        }
        found
    }
}

impl FromStr for ScimTokens {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut tokens: Vec<(String, Secret)> = Vec::new();
        for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, token) = pair
                .split_once('=')
                .map(|(name, token)| (name.trim(), token.trim()))
                .ok_or("expected CLIENT=TOKEN pairs separated by commas")?;
            let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
            if name.is_empty() || !name.chars().all(plain) {
                return Err("a client name is letters, digits, '-', '_' and '.'".into());
            }
            if token.len() < 16 {
                return Err(format!(
                    "the token of client {name} is shorter than 16 characters"
                ));
            }
            if tokens.iter().any(|(other, _)| other == name) {
                return Err(format!("client {name} is given twice"));
            }
            if tokens.iter().any(|(_, other)| other.expose() == token) {
                return Err(format!("client {name} has another client's token"));
            }
            tokens.push((name.to_owned(), Secret::new(token)));
        }
        Ok(Self(tokens))
    }
}

impl fmt::Debug for ScimTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimTokens")
            .field("clients", &self.clients())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRA: &str = "entra-token-0123456789";
    const OKTA: &str = "okta-token-0123456789";

    #[test]
    fn tokens_parse_as_client_pairs_and_refuse_ambiguity() {
        let cases = [
            ("", Ok(vec![])),
            (" entra = entra-token-0123456789 , ", Ok(vec!["entra"])),
            (
                "entra=entra-token-0123456789,okta=okta-token-0123456789",
                Ok(vec!["entra", "okta"]),
            ),
            ("entra", Err(())),
            ("=entra-token-0123456789", Err(())),
            ("en tra=entra-token-0123456789", Err(())),
            ("entra=short", Err(())),
            ("a=entra-token-0123456789,a=okta-token-0123456789", Err(())),
            ("a=entra-token-0123456789,b=entra-token-0123456789", Err(())),
        ];
        for (input, expected) in cases {
            let parsed = input.parse::<ScimTokens>();
            let names = parsed.as_ref().map(ScimTokens::clients).map_err(|_| ());
            assert_eq!(names, expected, "{input}");
        }
    }

    #[test]
    fn a_token_names_its_client_and_debug_shows_no_token() {
        let tokens: ScimTokens = format!("entra={ENTRA},okta={OKTA}").parse().unwrap();

        assert_eq!(tokens.client(ENTRA), Some("entra"));
        assert_eq!(tokens.client(OKTA), Some("okta"));
        assert_eq!(tokens.client("entra-token-012345678"), None);
        assert_eq!(tokens.client(""), None);
        let printed = format!("{tokens:?}");
        assert!(
            printed.contains("entra") && !printed.contains("token-0123"),
            "{printed}"
        );
    }
}
