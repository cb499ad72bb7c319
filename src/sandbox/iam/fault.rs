//! Identity Applications error answers: HTTP 489 (application error) or 400 (input refused)
//! with a SOAP-style `Fault` object, and the body checks that produce them.
//!
//! Subcodes used are ones seen on a lab or read from the server: `InvalidInput`,
//! `SecurityException`, `NotFound`, `InvalidEnumValue`, `InternalExceptionOccured`.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

/// HTTP 489, Identity Applications' status for application errors.
pub(super) const APPLICATION_ERROR: u16 = 489;

/// One Fault answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {subcode}: {reason}")]
pub(super) struct Fault {
    status: u16,
    subcode: &'static str,
    reason: String,
}

impl Fault {
    pub fn new(status: u16, subcode: &'static str, reason: impl Into<String>) -> Self {
        Fault {
            status,
            subcode,
            reason: reason.into(),
        }
    }

    /// 489 with `subcode`.
    pub fn application(subcode: &'static str, reason: impl Into<String>) -> Self {
        Self::new(APPLICATION_ERROR, subcode, reason)
    }

    pub fn invalid_input(reason: impl Into<String>) -> Self {
        Self::application("InvalidInput", reason)
    }

    pub fn not_found(reason: impl Into<String>) -> Self {
        Self::application("NotFound", reason)
    }

    /// A body that is not a JSON object: 400, as the input filter answers.
    pub fn malformed() -> Self {
        Self::new(400, "InvalidInput", "the request body is not a JSON object")
    }

    pub fn body(&self) -> Value {
        json!({
            "Fault": {
                "Code": { "Value": "Sender", "Subcode": { "Value": self.subcode } },
                "Reason": { "Text": self.reason },
            }
        })
    }
}

impl ResponseError for Fault {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self.body())
    }
}

/// The body as a JSON object, or the 400 Fault.
pub(super) fn object(bytes: &[u8]) -> Result<Map<String, Value>, Fault> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(fields)) => Ok(fields),
        _ => Err(Fault::malformed()),
    }
}

/// A required string field.
pub(super) fn text<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a str, Fault> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| Fault::invalid_input(format!("{name} must be a non-empty string")))
}

/// An optional string field (absent or `null` is `None`).
pub(super) fn optional_text<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, Fault> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(Fault::invalid_input(format!("{name} must be a string"))),
    }
}

/// An optional array of objects (absent or `null` is `None`).
pub(super) fn objects<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<Vec<&'a Map<String, Value>>>, Fault> {
    let items = match fields.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(Fault::invalid_input(format!("{name} must be an array"))),
    };
    items
        .iter()
        .map(|item| {
            item.as_object()
                .ok_or_else(|| Fault::invalid_input(format!("{name} must hold objects")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Whether `dn` has the shape of an LDAP DN: comma-separated `attr=value` parts.
pub(super) fn is_dn(dn: &str) -> bool {
    !dn.is_empty()
        && dn.split(',').all(|part| {
            part.split_once('=')
                .is_some_and(|(attr, value)| !attr.trim().is_empty() && !value.trim().is_empty())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_shapes_are_told_apart() {
        let cases = [
            ("cn=jdoe,ou=users,o=data", true),
            ("cn=ClickUp-Space-Access,cn=RequestDefs,o=system", true),
            ("jdoe", false),
            ("cn=,o=data", false),
            ("", false),
            ("cn=jdoe,,o=data", false),
        ];

        for (dn, valid) in cases {
            assert_eq!(is_dn(dn), valid, "{dn}");
        }
    }

    #[test]
    fn faults_carry_status_subcode_and_reason() {
        let fault = Fault::application("InvalidEnumValue", "no such action");

        let response = fault.error_response();

        assert_eq!(response.status().as_u16(), 489);
        assert_eq!(
            fault.body()["Fault"]["Code"]["Subcode"]["Value"],
            "InvalidEnumValue"
        );
        assert_eq!(fault.body()["Fault"]["Reason"]["Text"], "no such action");
        assert_eq!(object(b"[1]").unwrap_err().status_code().as_u16(), 400);
        assert_eq!(object(b"{oops").unwrap_err(), Fault::malformed());
    }
}
