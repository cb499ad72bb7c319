//! The provider's signing keys: ES256 (P-256) keys made at start, the one that signs, the
//! ones the JWKS publishes, and a foreign key that is never published (for forged tokens).
//!
//! Invariants: a key's `kid` is its RFC 7638 thumbprint, so a new key always has a new `kid`;
//! the signing key is always published; private keys never leave this module.

use jsonwebtoken::{
    jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash},
    Algorithm, EncodingKey, Header,
};
use p256::pkcs8::EncodePrivateKey;
use serde::Serialize;

/// Why a key could not be made or a token could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("encoding the private key failed: {0}")]
    Encoding(String),
    #[error("signing failed: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

/// One ES256 key pair.
#[derive(Clone)]
pub(super) struct SigningKey {
    pub kid: String,
    private: EncodingKey,
    public: Jwk,
}

impl SigningKey {
    /// A fresh P-256 key. Generation takes microseconds, so every start makes its own.
    pub fn generate() -> Result<SigningKey, KeyError> {
        let secret = loop {
            // A random 32-byte string is a valid scalar except with negligible probability.
            let bytes: [u8; 32] = rand::random();
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| KeyError::Encoding(e.to_string()))?;
        let private = EncodingKey::from_ec_der(der.as_bytes());

        let mut public = Jwk::from_encoding_key(&private, Algorithm::ES256)?;
        let kid = public.thumbprint(ThumbprintHash::SHA256);
        public.common.key_id = Some(kid.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(SigningKey {
            kid,
            private,
            public,
        })
    }

    /// A compact JWS of `claims`, with this key's `kid` (or `kid_override`) in the header.
    pub fn sign<T: Serialize>(
        &self,
        claims: &T,
        typ: &str,
        kid_override: Option<&str>,
    ) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(typ.to_owned());
        header.kid = Some(kid_override.unwrap_or(&self.kid).to_owned());
        Ok(jsonwebtoken::encode(&header, claims, &self.private)?)
    }
}

/// The keys of one provider.
pub(in crate::sandbox::iam) struct KeyRing {
    signing: SigningKey,
    /// Published keys other than the signing one, newest first.
    previous: Vec<SigningKey>,
    /// Signs forged tokens; never published.
    foreign: SigningKey,
}

impl KeyRing {
    pub fn generate() -> Result<KeyRing, KeyError> {
        Ok(KeyRing {
            signing: SigningKey::generate()?,
            previous: Vec::new(),
            foreign: SigningKey::generate()?,
        })
    }

    pub(super) fn signing(&self) -> &SigningKey {
        &self.signing
    }

    pub(super) fn foreign(&self) -> &SigningKey {
        &self.foreign
    }

    /// Makes a new signing key; the old one stays published when `keep_old`.
    pub(in crate::sandbox::iam) fn rotate(&mut self, keep_old: bool) -> Result<String, KeyError> {
        let old = std::mem::replace(&mut self.signing, SigningKey::generate()?);
        if keep_old {
            self.previous.insert(0, old);
        }
        Ok(self.signing.kid.clone())
    }

    /// Stops publishing every key but the signing one.
    pub(in crate::sandbox::iam) fn retire_previous(&mut self) {
        self.previous.clear();
    }

    /// The JWKS document: the signing key first, then the previous ones.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: std::iter::once(&self.signing)
                .chain(&self.previous)
                .map(|key| key.public.clone())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::{json, Value};

    use super::*;

    fn verify(token: &str, jwks: &JwkSet) -> bool {
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let Some(jwk) = jwks.find(&kid) else {
            return false;
        };
        let mut validation = Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .is_ok()
    }

    #[test]
    fn tokens_verify_against_the_published_keys_and_rotation_keeps_or_drops_the_old_key() {
        let mut ring = KeyRing::generate().unwrap();
        let claims = json!({ "sub": "x" });
        let first = ring.signing().sign(&claims, "JWT", None).unwrap();
        assert!(verify(&first, &ring.jwks()));

        let first_kid = ring.signing().kid.clone();
        let second_kid = ring.rotate(true).unwrap();
        assert_ne!(first_kid, second_kid);
        assert!(verify(&first, &ring.jwks()), "old key still published");
        let second = ring.signing().sign(&claims, "JWT", None).unwrap();
        assert!(verify(&second, &ring.jwks()));

        ring.rotate(false).unwrap();
        assert!(
            !verify(&second, &ring.jwks()),
            "dropped key no longer published"
        );
        assert_eq!(ring.jwks().keys.len(), 2);

        ring.retire_previous();
        assert_eq!(ring.jwks().keys.len(), 1);
    }

    #[test]
    fn a_forged_token_with_a_published_kid_fails_verification() {
        let ring = KeyRing::generate().unwrap();
        let kid = ring.signing().kid.clone();

        let forged = ring
            .foreign()
            .sign(&json!({ "sub": "x" }), "JWT", Some(&kid))
            .unwrap();

        assert!(ring.jwks().find(&kid).is_some());
        assert!(!verify(&forged, &ring.jwks()));
    }
}
