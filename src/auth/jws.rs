//! Verifying a compact JWS: the algorithm allowlist, the key's type against the algorithm,
//! then signature, `iss`, `aud`, `exp` and `nbf` (with leeway).

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{
    errors::ErrorKind,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk},
    Algorithm, DecodingKey, Header, Validation,
};
use serde_json::Value;

use super::AuthError;

/// The only algorithms accepted; `none` and HMAC never are.
pub(super) const ALLOWED: [Algorithm; 3] = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

/// What the claims must say.
pub(super) struct Expected<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub leeway: Duration,
}

/// The header, once its `alg` is known to be allowed.
pub(super) fn header(token: &str) -> Result<Header, AuthError> {
    let raw = token.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| AuthError::Malformed("the header is not base64url".into()))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Malformed("the header is not JSON".into()))?;
    let alg = value["alg"]
        .as_str()
        .ok_or_else(|| AuthError::Malformed("the header has no alg".into()))?;
    if !ALLOWED.iter().any(|allowed| format!("{allowed:?}") == alg) {
        return Err(AuthError::Algorithm(alg.chars().take(16).collect()));
    }
    jsonwebtoken::decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))
}

/// Refuses a key whose type or declared algorithm does not fit `alg`.
pub(super) fn check_key(alg: Algorithm, jwk: &Jwk) -> Result<(), AuthError> {
    let fits = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256 | Algorithm::PS256) => true,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        _ => false,
    };
    let declared = jwk
        .common
        .key_algorithm
        .map(|declared| format!("{declared:?}") == format!("{alg:?}"))
        .unwrap_or(true);
    match fits && declared {
        true => Ok(()),
        false => Err(AuthError::Algorithm(format!("{alg:?} with this key"))),
    }
}

/// The verified claims.
pub(super) fn verify(
    token: &str,
    alg: Algorithm,
    jwk: &Jwk,
    expected: &Expected<'_>,
) -> Result<Value, AuthError> {
    check_key(alg, jwk)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| AuthError::UnknownKey)?;

    let mut validation = Validation::new(alg);
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = expected.leeway.as_secs();

    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
            ErrorKind::InvalidAudience => AuthError::WrongAudience,
            ErrorKind::InvalidAlgorithm => AuthError::Algorithm(format!("{alg:?}")),
            ErrorKind::MissingRequiredClaim(claim) => {
                AuthError::Malformed(format!("the token has no {claim}"))
            }
            _ => AuthError::Malformed("the token could not be decoded".into()),
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn encode_header(header: Value) -> String {
        format!("{}.e30.sig", URL_SAFE_NO_PAD.encode(header.to_string()))
    }

    #[test]
    fn only_rs256_ps256_and_es256_headers_pass() {
        // alg, accepted
        let cases = [
            (json!("RS256"), true),
            (json!("PS256"), true),
            (json!("ES256"), true),
            (json!("none"), false),
            (json!("HS256"), false),
            (json!("ES384"), false),
            (json!("RS512"), false),
            (json!(null), false),
        ];
        for (alg, accepted) in cases {
            let token = encode_header(json!({ "alg": alg, "kid": "k" }));
            assert_eq!(header(&token).is_ok(), accepted, "{alg}");
        }
        assert!(matches!(header("%%%.e30.x"), Err(AuthError::Malformed(_))));
    }

    fn jwk(value: Value) -> Jwk {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_key_type_must_fit_the_algorithm() {
        let ec = json!({ "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "e" });
        let ec384 = json!({ "kty": "EC", "crv": "P-384", "x": "AA", "y": "AA", "kid": "e" });
        let rsa = json!({ "kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r" });
        let rsa_ps = json!({ "kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "PS256" });
        let hmac = json!({ "kty": "oct", "k": "c2VjcmV0" });
        // key, alg, fits
        let cases = [
            (&ec, Algorithm::ES256, true),
            (&ec, Algorithm::RS256, false),
            (&ec384, Algorithm::ES256, false),
            (&rsa, Algorithm::RS256, true),
            (&rsa, Algorithm::PS256, true),
            (&rsa, Algorithm::ES256, false),
            (&rsa_ps, Algorithm::RS256, false),
            (&rsa_ps, Algorithm::PS256, true),
            (&hmac, Algorithm::RS256, false),
        ];
        for (key, alg, fits) in cases {
            assert_eq!(
                check_key(alg, &jwk(key.clone())).is_ok(),
                fits,
                "{key} {alg:?}"
            );
        }
    }
}
