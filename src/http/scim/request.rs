//! What the SCIM handlers read from a request: the JSON body (`application/scim+json` or
//! `application/json`, within the receivers' size and time limits), the query parameters of
//! lists and responses, `If-Match`, and the service's base URL for `location` and `$ref`.

use actix_web::{http::header, web, HttpRequest};
use serde_json::Value;

use super::MAX_RESULTS;
use crate::{
    http::{receivers::request as limits, ReceiverError, ReceiverState},
    scim::{
        error::bounded,
        filter::{Filter, Scope},
        resource::{Meta, Projection},
        schema::ResourceType,
        ScimError,
    },
};

/// Reads a request's JSON body.
pub async fn json_body(
    request: &HttpRequest,
    payload: web::Payload,
    state: &ReceiverState,
) -> Result<Value, ScimError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    match limits::essence(content_type).as_str() {
        "application/scim+json" | "application/json" => {}
        other => {
            return Err(ScimError::new(
                415,
                None,
                format!(
                    "content type {:?} is not accepted; send application/scim+json",
                    bounded(other)
                ),
            ))
        }
    }

    let body = limits::read_body(request, payload, state.max_body_bytes, state.body_timeout)
        .await
        .map_err(refused)?;
    limits::check_depth(&body).map_err(refused)?;
    serde_json::from_slice(&body)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not JSON: {e}")))
}

/// A receiver refusal as a SCIM error.
fn refused(error: ReceiverError) -> ScimError {
    let status = match error {
        ReceiverError::TooLarge { .. } => 413,
        ReceiverError::BodyTimeout(_) => 408,
        _ => 400,
    };
    match status {
        400 => ScimError::invalid_syntax(error.to_string()),
        status => ScimError::new(status, None, error.to_string()),
    }
}

/// The query parameters named `name` whatever its case (the last one given).
fn parameter(request: &HttpRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(request.query_string().as_bytes())
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.into_owned())
        .last()
}

/// `attributes` or `excludedAttributes` of the query string.
pub fn projection(request: &HttpRequest) -> Result<Projection, ScimError> {
    let list = |name: &str| parameter(request, name).into_iter().collect();
    Projection::new(list("attributes"), list("excludedAttributes"))
}

/// A list's parameters: filter, page and projection.
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based.
    pub start_index: usize,
    pub count: usize,
    pub projection: Projection,
}

impl ListQuery {
    /// From the query string (`GET`).
    pub fn from_query(request: &HttpRequest) -> Result<Self, ScimError> {
        let number = |name: &str| -> Result<Option<i64>, ScimError> {
            parameter(request, name)
                .map(|text| {
                    text.trim()
                        .parse::<i64>()
                        .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
                })
                .transpose()
        };
        Ok(Self {
            filter: parameter(request, "filter")
                .map(|text| Filter::parse(&text))
                .transpose()?,
            start_index: start_index(number("startIndex")?),
            count: count(number("count")?),
            projection: projection(request)?,
        })
    }

    /// From a `/.search` body (a SearchRequest).
    pub fn from_search(body: &Value) -> Result<Self, ScimError> {
        let Some(body) = body.as_object() else {
            return Err(ScimError::invalid_syntax("the body must be a JSON object"));
        };
        let member = |name: &str| {
            body.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
        };
        let number = |name: &str| -> Result<Option<i64>, ScimError> {
            match member(name) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => value
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| ScimError::invalid_value(format!("{name} must be an integer"))),
            }
        };
        let list = |name: &str| -> Result<Vec<String>, ScimError> {
            match member(name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(text)) => Ok(vec![text.clone()]),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        ScimError::invalid_value(format!("{name} must be a list of strings"))
                    }),
                Some(_) => Err(ScimError::invalid_value(format!(
                    "{name} must be a list of strings"
                ))),
            }
        };
        let filter = match member("filter") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(Filter::parse(text)?),
            Some(_) => return Err(ScimError::invalid_filter("filter must be a string")),
        };
        Ok(Self {
            filter,
            start_index: start_index(number("startIndex")?),
            count: count(number("count")?),
            projection: Projection::new(list("attributes")?, list("excludedAttributes")?)?,
        })
    }

    /// Whether the filter can be asked of `resource_type` (its error otherwise).
    pub fn check(&self, resource_type: ResourceType) -> Result<(), ScimError> {
        match &self.filter {
            Some(filter) => filter.check(Scope::Resource(resource_type)),
            None => Ok(()),
        }
    }
}

/// RFC 7644: below 1 is read as 1.
fn start_index(given: Option<i64>) -> usize {
    given.unwrap_or(1).max(1) as usize
}

/// RFC 7644: negative is read as 0; at most [`MAX_RESULTS`].
fn count(given: Option<i64>) -> usize {
    given
        .map_or(MAX_RESULTS, |count| count.max(0) as usize)
        .min(MAX_RESULTS)
}

/// Refuses a write whose `If-Match` names no entity tag of the resource's current version.
pub fn check_if_match(request: &HttpRequest, meta: &Meta) -> Result<(), ScimError> {
    let Some(value) = request.headers().get(header::IF_MATCH) else {
        return Ok(());
    };
    let wanted = value.to_str().unwrap_or_default();
    let current = meta.etag();
    let matches = wanted
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || opaque(tag) == opaque(&current));
    match matches {
        true => Ok(()),
        false => Err(ScimError::new(
            412,
            None,
            format!("the resource's version is {current}; read it again"),
        )),
    }
}

/// Whether `If-None-Match` names the current version (a GET then answers 304).
pub fn not_modified(request: &HttpRequest, meta: &Meta) -> bool {
    let current = meta.etag();
    request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || opaque(tag) == opaque(&current))
        })
}

/// An entity tag without its weak marker (weak comparison).
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// `…/scim/v2` as the client reached it.
pub fn base_url(request: &HttpRequest) -> String {
    let connection = request.connection_info();
    format!("{}://{}/scim/v2", connection.scheme(), connection.host())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use chrono::Utc;

    use super::*;

    #[test]
    fn pages_are_bounded_as_rfc_7644_says() {
        let cases = [
            ("", 1, MAX_RESULTS),
            ("startIndex=0&count=-3", 1, 0),
            ("STARTINDEX=5&Count=10", 5, 10),
            ("count=100000", 1, MAX_RESULTS),
        ];
        for (query, start, expected_count) in cases {
            let request = TestRequest::with_uri(&format!("/Users?{query}")).to_http_request();
            let list = ListQuery::from_query(&request).unwrap();
            assert_eq!(
                (list.start_index, list.count),
                (start, expected_count),
                "{query}"
            );
        }
        let bad = TestRequest::with_uri("/Users?count=ten").to_http_request();
        assert!(ListQuery::from_query(&bad).is_err());
    }

    #[test]
    fn if_match_compares_versions_weakly() {
        let meta = Meta {
            created: Utc::now(),
            last_modified: Utc::now(),
            version: 4,
        };
        let cases = [
            (None, true),
            (Some("W/\"4\""), true),
            (Some("\"4\""), true),
            (Some("*"), true),
            (Some("W/\"3\", W/\"4\""), true),
            (Some("W/\"3\""), false),
        ];
        for (header, passes) in cases {
            let mut request = TestRequest::default();
            if let Some(value) = header {
                request = request.insert_header(("If-Match", value));
            }
            let verdict = check_if_match(&request.to_http_request(), &meta);
            assert_eq!(verdict.is_ok(), passes, "{header:?}");
        }
    }
}
