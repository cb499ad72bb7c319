//! Signature checks for both senders, over the raw body bytes and in constant time.
//!
//! ClickUp: `X-Signature` is the hex HMAC-SHA256 of the body keyed by the webhook's secret.
//! IAM: the Standard Webhooks scheme, `v1,<base64>` entries over `id.timestamp.body`, keyed by
//! the base64-decoded part of a `whsec_` secret.

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a Standard Webhooks signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    #[error("webhook-timestamp is not a Unix time in seconds")]
    BadTimestamp,
    #[error("webhook-timestamp is too old")]
    TimestampTooOld,
    #[error("webhook-timestamp is too far in the future")]
    TimestampInFuture,
    #[error("no v1 entry of webhook-signature matches")]
    Mismatch,
    #[error("webhook-id must be 1 to {MAX_MESSAGE_ID} visible ASCII characters")]
    BadMessageId,
    #[error("no signing secret is configured")]
    NoSecret,
    #[error("a configured secret is not whsec_<base64>")]
    BadSecret,
}

/// Checks a ClickUp `X-Signature` header (hex, either case) against the body.
pub fn verify_clickup(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(expected) = hex::decode(header.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Signs a ClickUp body as ClickUp does (lower-case hex). Used by the sandbox, demo and tests.
pub fn sign_clickup(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac_with(secret.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The decoded key of a `whsec_<base64>` secret.
#[derive(Clone)]
pub struct StandardKey(Vec<u8>);

impl StandardKey {
    pub fn parse(secret: &str) -> Result<Self, SignatureError> {
        let encoded = secret
            .trim()
            .strip_prefix("whsec_")
            .ok_or(SignatureError::BadSecret)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SignatureError::BadSecret)?;
        if key.len() < 16 {
            return Err(SignatureError::BadSecret);
        }
        Ok(Self(key))
    }

    /// Parses a comma-separated list of secrets; an empty list is allowed (and refuses all).
    pub fn parse_list(secrets: &str) -> Result<Vec<Self>, SignatureError> {
        secrets
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Self::parse)
            .collect()
    }

    /// `v1,<base64>` for one message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(msg_id, timestamp, body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        let mut mac = hmac_with(&self.0);
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// Longest `webhook-id` accepted: ids are short (`msg_` and a KSUID); a longer one is refused
/// before it reaches a log line or the receipts.
pub const MAX_MESSAGE_ID: usize = 256;

/// The three Standard Webhooks headers of one request.
pub struct StandardHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Time window a signed timestamp must fall in, relative to `now`.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    pub past_secs: i64,
    pub future_secs: i64,
}

/// Verifies a Standard Webhooks delivery against any of the keys (rotation), returning the
/// message id on success.
pub fn verify_standard<'a>(
    keys: &[StandardKey],
    headers: &StandardHeaders<'a>,
    body: &[u8],
    now: i64,
    tolerance: Tolerance,
) -> Result<&'a str, SignatureError> {
    let msg_id = headers
        .id
        .ok_or(SignatureError::MissingHeader("webhook-id"))?;
    let timestamp = headers
        .timestamp
        .ok_or(SignatureError::MissingHeader("webhook-timestamp"))?;
    let signature = headers
        .signature
        .ok_or(SignatureError::MissingHeader("webhook-signature"))?;
    let visible = |b: u8| b.is_ascii_graphic();
    if msg_id.is_empty() || msg_id.len() > MAX_MESSAGE_ID || !msg_id.bytes().all(visible) {
        return Err(SignatureError::BadMessageId);
    }

    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if timestamp < now - tolerance.past_secs {
        return Err(SignatureError::TimestampTooOld);
    }
    if timestamp > now + tolerance.future_secs {
        return Err(SignatureError::TimestampInFuture);
    }
    if keys.is_empty() {
        return Err(SignatureError::NoSecret);
    }

    let candidates: Vec<Vec<u8>> = signature
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .collect();
    let matches = keys.iter().any(|key| {
        candidates.iter().any(|candidate| {
            key.mac(msg_id, timestamp, body)
                .verify_slice(candidate)
                .is_ok()
        })
    });
    if matches {
        Ok(msg_id)
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn hmac_with(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("hmac takes keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = include_str!("../../tests/fixtures/clickup/signature-test-vectors.json");

    #[test]
    fn clickup_signature_vectors_hold() {
        let vectors: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
        let vectors = vectors["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 7);

        for vector in vectors {
            let secret = vector["secret"].as_str().unwrap();
            let body = vector["raw_body"].as_str().unwrap();
            let header = vector["x_signature"].as_str().unwrap();
            let expected = vector["expect"].as_str().unwrap().starts_with("valid");

            let verdict = verify_clickup(secret, body.as_bytes(), header);

            assert_eq!(verdict, expected, "vector {}", vector["name"]);
        }
    }

    #[test]
    fn clickup_signing_round_trips_and_refuses_garbage() {
        let body = br#"{"webhook_id":"w","event":"taskCreated","task_id":"c0j"}"#;
        let signature = sign_clickup("s3cret", body);

        assert!(verify_clickup("s3cret", body, &signature));
        assert!(verify_clickup("s3cret", body, &signature.to_uppercase()));
        assert!(!verify_clickup("other", body, &signature));
        assert!(!verify_clickup("s3cret", body, "not-hex"));
        assert!(!verify_clickup("s3cret", body, ""));
        assert!(!verify_clickup("s3cret", body, &signature[..32]));
    }

    const KAT_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const KAT_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const KAT_TS: i64 = 1649367553;
    const KAT_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const KAT_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
    const TOLERANCE: Tolerance = Tolerance {
        past_secs: 300,
        future_secs: 30,
    };

    #[test]
    fn standard_webhooks_known_answer() {
        let key = StandardKey::parse(KAT_SECRET).unwrap();
        assert_eq!(key.sign(KAT_ID, KAT_TS, KAT_BODY), KAT_SIG);
    }

    /// name, webhook-id, webhook-timestamp, webhook-signature, now, verdict
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        i64,
        Result<(), SignatureError>,
    );

    #[test]
    fn standard_webhooks_verification_table() {
        let keys = vec![StandardKey::parse(KAT_SECRET).unwrap()];
        let other = StandardKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let two_entries = format!("v1,AAAA {KAT_SIG}");
        let long_id = format!("msg_{}", "a".repeat(MAX_MESSAGE_ID));
        let cases: Vec<Case> = vec![
            (
                "valid",
                Some(KAT_ID),
                Some("1649367553"),
                Some(KAT_SIG),
                KAT_TS,
                Ok(()),
            ),
            (
                "one of several entries",
                Some(KAT_ID),
                Some("1649367553"),
                Some(&two_entries),
                KAT_TS,
                Ok(()),
            ),
            (
                "within tolerance",
                Some(KAT_ID),
                Some("1649367553"),
                Some(KAT_SIG),
                KAT_TS + 300,
                Ok(()),
            ),
            (
                "too old",
                Some(KAT_ID),
                Some("1649367553"),
                Some(KAT_SIG),
                KAT_TS + 301,
                Err(SignatureError::TimestampTooOld),
            ),
            (
                "future",
                Some(KAT_ID),
                Some("1649367553"),
                Some(KAT_SIG),
                KAT_TS - 31,
                Err(SignatureError::TimestampInFuture),
            ),
            (
                "tampered",
                Some(KAT_ID),
                Some("1649367553"),
                Some("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkx="),
                KAT_TS,
                Err(SignatureError::Mismatch),
            ),
            (
                "partial",
                Some(KAT_ID),
                Some("1649367553"),
                Some("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPe"),
                KAT_TS,
                Err(SignatureError::Mismatch),
            ),
            (
                "wrong scheme",
                Some(KAT_ID),
                Some("1649367553"),
                Some("v1a,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="),
                KAT_TS,
                Err(SignatureError::Mismatch),
            ),
            (
                "other id",
                Some("msg_other"),
                Some("1649367553"),
                Some(KAT_SIG),
                KAT_TS,
                Err(SignatureError::Mismatch),
            ),
            (
                "an id too long to log",
                Some(&long_id),
                Some("1649367553"),
                Some(KAT_SIG),
                KAT_TS,
                Err(SignatureError::BadMessageId),
            ),
            (
                "an id with a space",
                Some("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk x"),
                Some("1649367553"),
                Some(KAT_SIG),
                KAT_TS,
                Err(SignatureError::BadMessageId),
            ),
            (
                "an empty id",
                Some(""),
                Some("1649367553"),
                Some(KAT_SIG),
                KAT_TS,
                Err(SignatureError::BadMessageId),
            ),
            (
                "no id",
                None,
                Some("1649367553"),
                Some(KAT_SIG),
                KAT_TS,
                Err(SignatureError::MissingHeader("webhook-id")),
            ),
            (
                "no timestamp",
                Some(KAT_ID),
                None,
                Some(KAT_SIG),
                KAT_TS,
                Err(SignatureError::MissingHeader("webhook-timestamp")),
            ),
            (
                "no signature",
                Some(KAT_ID),
                Some("1649367553"),
                None,
                KAT_TS,
                Err(SignatureError::MissingHeader("webhook-signature")),
            ),
            (
                "bad timestamp",
                Some(KAT_ID),
                Some("yesterday"),
                Some(KAT_SIG),
                KAT_TS,
                Err(SignatureError::BadTimestamp),
            ),
        ];

        for (name, id, timestamp, signature, now, expected) in cases {
            let headers = StandardHeaders {
                id,
                timestamp,
                signature,
            };
            let verdict = verify_standard(&keys, &headers, KAT_BODY, now, TOLERANCE).map(|_| ());
            assert_eq!(verdict, expected, "case {name}");
        }

        let rotated = vec![other, keys[0].clone()];
        let headers = StandardHeaders {
            id: Some(KAT_ID),
            timestamp: Some("1649367553"),
            signature: Some(KAT_SIG),
        };
        assert_eq!(
            verify_standard(&rotated, &headers, KAT_BODY, KAT_TS, TOLERANCE),
            Ok(KAT_ID)
        );
        assert_eq!(
            verify_standard(&[], &headers, KAT_BODY, KAT_TS, TOLERANCE),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn standard_secrets_must_be_whsec_base64_of_sixteen_bytes_or_more() {
        assert!(StandardKey::parse(KAT_SECRET).is_ok());
        assert!(StandardKey::parse("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").is_err());
        assert!(StandardKey::parse("whsec_!!!").is_err());
        assert!(StandardKey::parse("whsec_c2hvcnQ=").is_err());
        assert_eq!(
            StandardKey::parse_list(&format!("{KAT_SECRET}, {KAT_SECRET}"))
                .unwrap()
                .len(),
            2
        );
        assert!(StandardKey::parse_list("").unwrap().is_empty());
    }
}
