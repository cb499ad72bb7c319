//! What operators type: the object a timeline or a point-in-time question is about
//! (`space:ID`, `folder:ID`, `list:ID`, `workspace:ID` or `group:NAME`), and times (RFC 3339,
//! or a date and time without a zone, read as UTC; a date alone, a relative time or a zone
//! name is refused). ClickUp ids (space, folder, list, workspace) are decimal digits that fit
//! in a u64, so a longer one is refused here rather than sent to ClickUp.

use std::{fmt, str::FromStr};

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::rules::{is_numeric_id, ObjectRef};

/// An object access can be granted on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectKey {
    /// A space, folder or list (shares; folders and lists inherit from above).
    Shared(ObjectRef),
    /// The workspace (roles), by team id.
    Workspace(String),
    /// A user group, by name.
    Group(String),
}

/// An object named in a way the record cannot answer for.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ObjectKeyError {
    #[error("{0:?} is a bare id: say which object it is, as space:{0}, folder:{0} or list:{0}")]
    BareId(String),
    #[error("{0:?} is not an object: name it as space:ID, folder:ID, list:ID, workspace:ID or group:NAME")]
    Unknown(String),
    #[error("{0:?} is not a ClickUp id: ClickUp ids are decimal numbers below 2^64")]
    IdTooLarge(String),
}

impl ObjectKey {
    /// The object as the grants table writes it.
    pub fn grant_object(&self) -> String {
        match self {
            ObjectKey::Shared(object) => object.to_string(),
            ObjectKey::Workspace(team) => format!("workspace:{team}"),
            ObjectKey::Group(name) => name.clone(),
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectKey::Group(name) => write!(f, "group:{name}"),
            other => f.write_str(&other.grant_object()),
        }
    }
}

impl FromStr for ObjectKey {
    type Err = ObjectKeyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if is_numeric_id(text) {
            return Err(ObjectKeyError::BareId(text.to_owned()));
        }
        let unknown = || ObjectKeyError::Unknown(text.to_owned());
        let (kind, rest) = text.split_once(':').ok_or_else(unknown)?;
        let clickup_id = matches!(kind, "space" | "folder" | "list" | "workspace");
        if clickup_id && is_numeric_id(rest) && rest.parse::<u64>().is_err() {
            return Err(ObjectKeyError::IdTooLarge(rest.to_owned()));
        }
        match kind {
            "group" if !rest.trim().is_empty() => Ok(ObjectKey::Group(rest.trim().to_owned())),
            "workspace" if is_numeric_id(rest) => Ok(ObjectKey::Workspace(rest.to_owned())),
            "space" | "folder" | "list" => {
                text.parse().map(ObjectKey::Shared).map_err(|_| unknown())
            }
            _ => Err(unknown()),
        }
    }
}

/// Checks an object of the audit log as a filter: one that names a ClickUp space, folder, list
/// or workspace (`list:ID`, ...) must carry an id ClickUp can hold, as [`ObjectKey`] asks;
/// anything else (`task:ID`, `clickup:user:ID`, a group's name) passes as written.
pub fn check_audit_object(text: &str) -> Result<(), ObjectKeyError> {
    let kind = text.trim().split_once(':').map(|(kind, _)| kind);
    match kind {
        Some("space" | "folder" | "list" | "workspace") => text.parse::<ObjectKey>().map(|_| ()),
        _ => Ok(()),
    }
}

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
