//! Times as operators type them: RFC 3339, or a date and time without a zone, read as UTC.
//! Anything else (a date alone, a relative time, a zone name) is refused.

use chrono::{DateTime, NaiveDateTime, Utc};

/// A time that could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a time: give RFC 3339 (2026-12-03T12:00:00Z, 2026-12-03T13:00:00+01:00) or a date and time without zone, read as UTC (2026-12-03 12:00 or 2026-12-03T12:00:00)")]
pub struct TimeError(pub String);

const WITHOUT_ZONE: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Reads `text` as RFC 3339, or as a date-time without zone in UTC.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, TimeError> {
    let trimmed = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok(time.with_timezone(&Utc));
    }
    WITHOUT_ZONE
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(trimmed, format).ok())
        .map(|naive| naive.and_utc())
        .ok_or_else(|| TimeError(text.to_owned()))
}
