//! The pages' answers to requests actix-web cannot hand to a page: a query or form that does
//! not read, a body that is no form, a method a page does not take. Each is the pages' own
//! HTML error page with the status actix would give and a message naming the problem, never
//! actix's plain text or a type name. Reading serde's message is pure.

use actix_web::{
    error::{QueryPayloadError, UrlencodedError},
    http::{header, StatusCode},
    HttpRequest, HttpResponse, ResponseError,
};

use super::UiError;

/// For `web::QueryConfig`: a query that does not read (a parameter given twice).
pub(super) fn query(error: QueryPayloadError, _request: &HttpRequest) -> actix_web::Error {
    let message = match &error {
        QueryPayloadError::Deserialize(e) => field_problem("The address", &e.to_string()),
        _ => None,
    };
    UiError::Refused {
        status: StatusCode::BAD_REQUEST,
        message: message.unwrap_or_else(|| "The address's query cannot be read.".into()),
    }
    .into()
}

/// For `web::FormConfig`: a body that is no form, too large, or a form that does not read.
pub(super) fn form(error: UrlencodedError, _request: &HttpRequest) -> actix_web::Error {
    let status = error.status_code();
    let message = match &error {
        UrlencodedError::ContentType => {
            "A form must be sent as application/x-www-form-urlencoded.".to_owned()
        }
        UrlencodedError::Overflow { limit, .. } => {
            format!("The form is larger than {limit} bytes.")
        }
        UrlencodedError::UnknownLength => "The form's length is not given.".to_owned(),
        UrlencodedError::Parse(e) => field_problem("The form", &e.to_string())
            .unwrap_or_else(|| "The form cannot be read.".to_owned()),
        UrlencodedError::Encoding => "The form must be UTF-8.".to_owned(),
        _ => "The form could not be read.".to_owned(),
    };
    UiError::Refused { status, message }.into()
}

/// A page asked for with a method it does not take; `allow` names the one it does.
pub(super) fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut response = UiError::Refused {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!("This page is opened with {allow} only."),
    }
    .error_response();
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    response
}

/// serde's "duplicate field `x`" and "missing field `x`" said for a person. The field is
/// one the page declares (serde names no other), so no input is echoed.
fn field_problem(what: &str, serde_message: &str) -> Option<String> {
    let field = |prefix: &str| {
        serde_message
            .strip_prefix(prefix)?
            .strip_prefix('`')?
            .split('`')
            .next()
            .filter(|name| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .map(str::to_owned)
    };
    if let Some(name) = field("duplicate field ") {
        return Some(format!("{what} gives the parameter {name} more than once."));
    }
    field("missing field ").map(|name| format!("{what} has no {name} parameter."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_problems_name_the_field_and_nothing_else() {
        let cases = [
            (
                "duplicate field `iss`",
                Some("The address gives the parameter iss more than once."),
            ),
            (
                "missing field `csrf`",
                Some("The address has no csrf parameter."),
            ),
            ("duplicate field `a b`", None),
            ("duplicate field ``", None),
            ("invalid type: map, expected a string", None),
            ("duplicate field iss", None),
            ("", None),
        ];
        for (message, expected) in cases {
            assert_eq!(
                field_problem("The address", message).as_deref(),
                expected,
                "{message}"
            );
        }
    }
}
