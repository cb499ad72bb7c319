//! Query parameters of the admin API: only known names, each at most once, with typed
//! readers whose errors name the parameter.

use std::collections::HashMap;

use chrono::DateTime;

use super::error::AdminError;
use crate::timeline::{check_audit_object, ObjectKey, ObjectKeyError};

/// Largest page; the default is 100.
pub const MAX_LIMIT: u32 = 500;

pub struct Params(HashMap<String, String>);

impl Params {
    /// Refuses unknown and repeated parameters.
    pub fn parse(query: &str, known: &[&str]) -> Result<Params, AdminError> {
        let mut params = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()).into_owned() {
            if !known.contains(&name.as_str()) {
                return Err(AdminError::bad(
                    &name,
                    format!("unknown parameter; known: {}", known.join(", ")),
                ));
            }
            if params.insert(name.clone(), value).is_some() {
                return Err(AdminError::bad(&name, "given more than once"));
            }
        }
        Ok(Params(params))
    }

    /// A non-empty text value.
    pub fn text(&self, name: &str) -> Result<Option<String>, AdminError> {
        match self.0.get(name) {
            Some(value) if value.trim().is_empty() => Err(AdminError::bad(name, "is empty")),
            value => Ok(value.map(|v| v.trim().to_owned())),
        }
    }

    /// `object` named as the timeline names it (`space:ID`, `folder:ID`, `list:ID`,
    /// `workspace:ID`, `group:NAME`), in the grants table's spelling (a group by its name).
    pub fn grant_object(&self) -> Result<Option<String>, AdminError> {
        self.text("object")?
            .map(|text| {
                text.parse::<ObjectKey>()
                    .map(|key| key.grant_object())
                    .map_err(|e: ObjectKeyError| AdminError::bad("object", e.to_string()))
            })
            .transpose()
    }

    /// `object` of the audit log: as written, unless it names a ClickUp object with an id
    /// ClickUp cannot hold.
    pub fn audit_object(&self) -> Result<Option<String>, AdminError> {
        let object = self.text("object")?;
        if let Some(text) = &object {
            check_audit_object(text).map_err(|e| AdminError::bad("object", e.to_string()))?;
        }
        Ok(object)
    }

    /// An RFC 3339 time, as epoch milliseconds.
    pub fn time(&self, name: &str) -> Result<Option<i64>, AdminError> {
        self.text(name)?
            .map(|value| {
                DateTime::parse_from_rfc3339(&value)
                    .map(|t| t.timestamp_millis())
                    .map_err(|_| AdminError::bad(name, "expected an RFC 3339 time"))
            })
            .transpose()
    }

    /// `true` or `false`.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, AdminError> {
        match self.text(name)?.as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(AdminError::bad(name, "expected true or false")),
        }
    }

    /// The keyset cursor: a positive integer from a previous page's `next`.
    pub fn cursor(&self) -> Result<Option<i64>, AdminError> {
        self.text("after")?
            .map(|value| {
                value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| AdminError::bad("after", "expected a cursor from `next`"))
            })
            .transpose()
    }

    /// Page size, 1 to [`MAX_LIMIT`], 100 by default.
    pub fn limit(&self) -> Result<u32, AdminError> {
        match self.text("limit")? {
            None => Ok(100),
            Some(value) => value
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| AdminError::bad("limit", format!("expected 1 to {MAX_LIMIT}"))),
        }
    }
}

/// The `next` cursor: the last key when the page is full, else none.
pub fn next_cursor(
    keys: impl DoubleEndedIterator<Item = i64>,
    count: usize,
    limit: u32,
) -> Option<String> {
    (count == limit as usize)
        .then(|| keys.last())
        .flatten()
        .map(|k| k.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_parameters_are_named() {
        let known = ["limit", "after", "from", "open"];
        // query, the parameter named in the error (None: accepted)
        let cases = [
            ("limit=10&after=3&from=2026-01-01T00:00:00Z&open=true", None),
            ("limt=10", Some("limt")),
            ("limit=0", Some("limit")),
            ("limit=501", Some("limit")),
            ("limit=abc", Some("limit")),
            ("after=-1", Some("after")),
            ("after=1&after=2", Some("after")),
            ("from=yesterday", Some("from")),
            ("open=yes", Some("open")),
            ("open=", Some("open")),
        ];
        for (query, named) in cases {
            let outcome = Params::parse(query, &known).and_then(|p| {
                p.limit()?;
                p.cursor()?;
                p.time("from")?;
                p.flag("open")?;
                Ok(())
            });
            let got = match outcome {
                Ok(()) => None,
                Err(AdminError::BadParameter { name, .. }) => Some(name),
                Err(other) => panic!("{query}: {other}"),
            };
            assert_eq!(got.as_deref(), named, "{query}");
        }
    }

    #[test]
    fn a_full_page_has_a_next_cursor() {
        assert_eq!(next_cursor([4, 7].into_iter(), 2, 2), Some("7".into()));
        assert_eq!(next_cursor([4].into_iter(), 1, 2), None);
    }
}
