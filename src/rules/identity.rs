//! The person rules see: built from an IAM event's `data.user`, merged across partial events.
//!
//! Profiles may be partial, so an identity remembers which fields its event carried
//! (`present`); merging overlays only those, and an explicit `null` clears a field. Errors name
//! the field and never echo its value, which is personal data.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Employment types that get a guest account when a rule grants access without naming a role.
pub const EXTERNAL_EMPLOYMENT_TYPES: [&str; 6] = [
    "contractor",
    "vendor",
    "partner",
    "agency",
    "supplier",
    "external",
];

/// A manager or sponsor, as the IAM names them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

/// The attributes rules see; field names are the CEL names under `person`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub id: String,
    pub email: Option<String>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// `profile.status`, lowercased; `active` when the event does not carry it.
    pub status: String,
    pub employment_type: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    pub location: Option<String>,
    pub division: Option<String>,
    pub cost_center: Option<String>,
    pub organization: Option<String>,
    pub company: Option<String>,
    /// Group names (a group without a name is listed by its id).
    pub groups: Vec<String>,
    /// Role names (a role without a name is listed by its id).
    pub roles: Vec<String>,
    pub manager: Option<PersonRef>,
    pub sponsor: Option<PersonRef>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub end_at: Option<DateTime<Utc>>,
    pub custom: Map<String, Value>,
    /// The fields the source event carried, by the names above. [`Identity::merged_with`]
    /// overlays only these; when empty (an identity built by hand) it overlays every field
    /// that has a value, and `status`.
    #[serde(default)]
    pub present: BTreeSet<String>,
}

/// Why `data.user` could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("`user` is not a JSON object")]
    NotAnObject,
    #[error("`user.id` is missing or empty")]
    MissingId,
    #[error("`{field}` should be {expected}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    #[error("`{field}` is not a date (YYYY-MM-DD)")]
    InvalidDate { field: &'static str },
    #[error("`{field}` is not an RFC 3339 timestamp")]
    InvalidTimestamp { field: &'static str },
}

impl Default for Identity {
    fn default() -> Identity {
        Identity {
            id: String::new(),
            email: None,
            username: None,
            display_name: None,
            status: "active".into(),
            employment_type: None,
            department: None,
            title: None,
            location: None,
            division: None,
            cost_center: None,
            organization: None,
            company: None,
            groups: Vec::new(),
            roles: Vec::new(),
            manager: None,
            sponsor: None,
            start_date: None,
            end_date: None,
            end_at: None,
            custom: Map::new(),
            present: BTreeSet::new(),
        }
    }
}

impl Identity {
    /// From `data.user` of an IAM event (profile fields may be partial; the email is
    /// `user.email` or `profile.email`, the display name likewise).
    pub fn from_iam_user(user: &Value) -> Result<Identity, IdentityError> {
        let user = user.as_object().ok_or(IdentityError::NotAnObject)?;
        let id = match user.get("id") {
            Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_owned(),
            _ => return Err(IdentityError::MissingId),
        };
        let empty = Map::new();
        let profile = match user.get("profile") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(profile)) => profile,
            Some(_) => return Err(wrong_type("profile", "an object")),
        };

        let mut reader = Reader::default();
        let text = |reader: &mut Reader, field| reader.text(field, &[profile.get(field)]);
        let identity = Identity {
            id,
            email: reader.text("email", &[user.get("email"), profile.get("email")])?,
            username: reader.text("username", &[user.get("username")])?,
            display_name: reader.text(
                "display_name",
                &[user.get("display_name"), profile.get("display_name")],
            )?,
            status: text(&mut reader, "status")?
                .map(|status| status.to_lowercase())
                .unwrap_or_else(|| "active".into()),
            employment_type: text(&mut reader, "employment_type")?.map(|kind| kind.to_lowercase()),
            department: text(&mut reader, "department")?,
            title: text(&mut reader, "title")?,
            location: text(&mut reader, "location")?,
            division: text(&mut reader, "division")?,
            cost_center: text(&mut reader, "cost_center")?,
            organization: text(&mut reader, "organization")?,
            company: text(&mut reader, "company")?,
            groups: reader.names("groups", profile.get("groups"))?,
            roles: reader.names("roles", profile.get("roles"))?,
            manager: reader.person("manager", profile.get("manager"))?,
            sponsor: reader.person("sponsor", profile.get("sponsor"))?,
            start_date: reader.date("start_date", profile.get("start_date"))?,
            end_date: reader.date("end_date", profile.get("end_date"))?,
            end_at: reader.timestamp("end_at", profile.get("end_at"))?,
            custom: reader.custom(profile.get("custom"))?,
            present: BTreeSet::new(),
        };
        Ok(Identity {
            present: reader.present,
            ..identity
        })
    }

    /// Overlays a partial profile (a mover or update event) onto a stored full identity.
    /// `custom` is merged key by key; a `null` custom value removes the key.
    pub fn merged_with(&self, newer: &Identity) -> Identity {
        let mut merged = self.clone();
        let takes = |field: &str, has_value: bool| match newer.present.is_empty() {
            true => has_value,
            false => newer.present.contains(field),
        };
        macro_rules! overlay {
            ($($field:ident),*) => {$(
                if takes(stringify!($field), newer.$field.has_value()) {
                    merged.$field = newer.$field.clone();
                }
            )*};
        }

        merged.id = newer.id.clone();
        overlay!(
            email,
            username,
            display_name,
            status,
            employment_type,
            department,
            title,
            location,
            division,
            cost_center,
            organization,
            company,
            groups,
            roles,
            manager,
            sponsor,
            start_date,
            end_date,
            end_at
        );

        if takes("custom", newer.custom.has_value()) {
            for (key, value) in &newer.custom {
                match value {
                    Value::Null => merged.custom.remove(key),
                    _ => merged.custom.insert(key.clone(), value.clone()),
                };
            }
        }
        merged.present.extend(newer.present.iter().cloned());
        merged
    }

    /// Whether the employment type is an external one (see [`EXTERNAL_EMPLOYMENT_TYPES`]).
    pub fn is_external(&self) -> bool {
        let kind = self.employment_type.as_deref().unwrap_or_default();
        EXTERNAL_EMPLOYMENT_TYPES
            .iter()
            .any(|external| external.eq_ignore_ascii_case(kind))
    }

    /// When the identity's access ends: the earlier of `end_at` and the end of `end_date`.
    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        let end_of_end_date = self.end_date.map(end_of_day);
        match (self.end_at, end_of_end_date) {
            (Some(at), Some(date)) => Some(at.min(date)),
            (at, date) => at.or(date),
        }
    }
}

/// The last second of `date` in UTC (IAM dates carry no time zone).
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default())
        .and_utc()
}

/// The first second of `date` in UTC.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

/// Reads profile fields, remembering which ones the event carried.
#[derive(Default)]
struct Reader {
    present: BTreeSet<String>,
}

impl Reader {
    /// The first non-null of `values`; `field` is present if any of them is carried.
    fn carried<'v>(&mut self, field: &str, values: &[Option<&'v Value>]) -> Option<&'v Value> {
        let mut carried = values.iter().flatten().peekable();
        carried.peek()?;
        self.present.insert(field.to_owned());
        carried.copied().find(|value| !value.is_null())
    }

    fn text(
        &mut self,
        field: &'static str,
        values: &[Option<&Value>],
    ) -> Result<Option<String>, IdentityError> {
        match self.carried(field, values) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(non_empty(text)),
            Some(_) => Err(wrong_type(field, "a string")),
        }
    }

    /// Names of group or role references (objects with `name` or `id`, or plain strings).
    fn names(
        &mut self,
        field: &'static str,
        value: Option<&Value>,
    ) -> Result<Vec<String>, IdentityError> {
        let Some(value) = self.carried(field, &[value]) else {
            return Ok(Vec::new());
        };
        let items = value
            .as_array()
            .ok_or_else(|| wrong_type(field, "an array"))?;
        let name = |item: &Value| match item {
            Value::String(name) => non_empty(name),
            Value::Object(reference) => [reference.get("name"), reference.get("id")]
                .into_iter()
                .flatten()
                .find_map(|name| name.as_str().and_then(non_empty)),
            _ => None,
        };
        items
            .iter()
            .map(|item| name(item).ok_or_else(|| wrong_type(field, "named references")))
            .collect()
    }

    fn person(
        &mut self,
        field: &'static str,
        value: Option<&Value>,
    ) -> Result<Option<PersonRef>, IdentityError> {
        let Some(value) = self.carried(field, &[value]) else {
            return Ok(None);
        };
        let reference = value
            .as_object()
            .ok_or_else(|| wrong_type(field, "an object"))?;
        let text = |key: &str| match reference.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(non_empty(text)),
            Some(_) => Err(wrong_type(field, "an object of strings")),
        };
        Ok(Some(PersonRef {
            id: text("id")?,
            email: text("email")?,
            display_name: text("display_name")?,
        }))
    }

    fn date(
        &mut self,
        field: &'static str,
        value: Option<&Value>,
    ) -> Result<Option<NaiveDate>, IdentityError> {
        match self.text(field, &[value])? {
            None => Ok(None),
            Some(text) => NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| IdentityError::InvalidDate { field }),
        }
    }

    fn timestamp(
        &mut self,
        field: &'static str,
        value: Option<&Value>,
    ) -> Result<Option<DateTime<Utc>>, IdentityError> {
        match self.text(field, &[value])? {
            None => Ok(None),
            Some(text) => DateTime::parse_from_rfc3339(&text)
                .map(|at| Some(at.to_utc()))
                .map_err(|_| IdentityError::InvalidTimestamp { field }),
        }
    }

    fn custom(&mut self, value: Option<&Value>) -> Result<Map<String, Value>, IdentityError> {
        match self.carried("custom", &[value]) {
            None => Ok(Map::new()),
            Some(Value::Object(custom)) => Ok(custom.clone()),
            Some(_) => Err(wrong_type("custom", "an object")),
        }
    }
}

/// Whether a field of an identity built by hand carries something to overlay.
trait HasValue {
    fn has_value(&self) -> bool;
}

impl<T> HasValue for Option<T> {
    fn has_value(&self) -> bool {
        self.is_some()
    }
}

impl<T> HasValue for Vec<T> {
    fn has_value(&self) -> bool {
        !self.is_empty()
    }
}

impl HasValue for String {
    fn has_value(&self) -> bool {
        true
    }
}

impl HasValue for Map<String, Value> {
    fn has_value(&self) -> bool {
        !self.is_empty()
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn wrong_type(field: &'static str, expected: &'static str) -> IdentityError {
    IdentityError::WrongType { field, expected }
}

#[cfg(test)]
mod tests;
