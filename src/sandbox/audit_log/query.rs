//! The audit-log request as ClickUp's v3 spec gives it (`AutoAuditlogAuditLogQueryRequest`):
//! `applicability` (required), `filter` (user ids or emails matching the actor or the
//! target, event types as a string or a list, status, time range) and `pagination`.

use serde_json::Value;

use super::LogEntry;
use crate::sandbox::errors::ApiError;

const APPLICABILITIES: [&str; 6] = [
    "agent-settings-activity",
    "auth-and-security",
    "custom-fields",
    "hierarchy-activity",
    "user-activity",
    "other-activity",
];

/// Rows per page when the request names none, and the most it may ask for.
const DEFAULT_ROWS: usize = 50;
const MAX_ROWS: usize = 1_000;

/// A parsed request.
#[derive(Debug)]
pub(super) struct Query {
    applicability: String,
    user_ids: Vec<String>,
    emails: Vec<String>,
    event_types: Vec<String>,
    status: Option<String>,
    start: Option<u64>,
    end: Option<u64>,
    pub rows: usize,
    page_timestamp: Option<u64>,
    after: bool,
}

impl Query {
    pub fn parse(bytes: &[u8]) -> Result<Query, ApiError> {
        let body: Value =
            serde_json::from_slice(bytes).map_err(|_| ApiError::body_not_an_object())?;
        if !body.is_object() {
            return Err(ApiError::body_not_an_object());
        }

        let applicability = body["applicability"]
            .as_str()
            .ok_or_else(|| ApiError::missing_field("applicability"))?;
        if !APPLICABILITIES.contains(&applicability) {
            return Err(ApiError::invalid_value(format!(
                "applicability must be one of {}",
                APPLICABILITIES.join(", ")
            )));
        }
        let filter = &body["filter"];
        let pagination = &body["pagination"];
        let after = match pagination["pageDirection"].as_str() {
            None | Some("before") => false,
            Some("after") => true,
            Some(_) => {
                return Err(ApiError::invalid_value(
                    "pagination.pageDirection must be before or after",
                ))
            }
        };
        let rows = match &pagination["pageRows"] {
            Value::Null => DEFAULT_ROWS,
            value => value
                .as_u64()
                .filter(|n| (1..=MAX_ROWS as u64).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid_value(format!(
                        "pagination.pageRows must be a number from 1 to {MAX_ROWS}"
                    ))
                })? as usize,
        };

        Ok(Query {
            applicability: applicability.to_owned(),
            user_ids: strings(&filter["userId"], "filter.userId")?,
            emails: strings(&filter["userEmail"], "filter.userEmail")?
                .into_iter()
                .map(|e| e.to_ascii_lowercase())
                .collect(),
            event_types: strings(&filter["eventType"], "filter.eventType")?,
            status: filter["eventStatus"].as_str().map(str::to_owned),
            start: time(&filter["startTime"], "filter.startTime")?,
            end: time(&filter["endTime"], "filter.endTime")?,
            rows,
            page_timestamp: time(&pagination["pageTimestamp"], "pagination.pageTimestamp")?,
            after,
        })
    }

    pub fn newest_first(&self) -> bool {
        !self.after
    }

    pub fn direction(&self) -> &'static str {
        if self.after {
            "after"
        } else {
            "before"
        }
    }

    pub fn matches(&self, entry: &LogEntry) -> bool {
        let page = match (self.page_timestamp, self.after) {
            (None, _) => true,
            (Some(t), true) => entry.at >= t,
            (Some(t), false) => entry.at <= t,
        };
        let users = self.user_ids.is_empty()
            || entry
                .user_ids()
                .any(|id| self.user_ids.contains(&id.to_string()));
        let emails = self.emails.is_empty()
            || entry
                .emails()
                .any(|e| self.emails.contains(&e.to_ascii_lowercase()));
        let types =
            self.event_types.is_empty() || self.event_types.iter().any(|t| t == entry.event_type);

        entry.applicability() == self.applicability
            && page
            && users
            && emails
            && types
            && self.status.as_deref().is_none_or(|s| s == "success")
            && self.start.is_none_or(|start| entry.at >= start)
            && self.end.is_none_or(|end| entry.at <= end)
    }
}

/// A string or a list of strings (the spec's example sends lists; its schema says string).
fn strings(value: &Value, field: &str) -> Result<Vec<String>, ApiError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) if n.is_u64() => Ok(n.to_string()),
                _ => Err(ApiError::wrong_type(field, "a list of strings")),
            })
            .collect(),
        _ => Err(ApiError::wrong_type(field, "a list of strings")),
    }
}

/// A time in ms since the epoch.
fn time(value: &Value, field: &str) -> Result<Option<u64>, ApiError> {
    match value {
        Value::Null => Ok(None),
        value => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| ApiError::wrong_type(field, "a number of milliseconds")),
    }
}
