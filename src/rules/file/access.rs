//! The `access_requests:` section: the intake list and the areas, checked into an
//! [`AccessPolicy`].
//!
//! The YAML shape (unknown keys, `decide_in`, `then`, levels) is checked by serde with its
//! position; every other refusal is placed on its node, or on the nearest node written when
//! the key is absent. The section may appear in one file only.

mod area;

use serde::Deserialize;

use self::area::RawArea;
use super::{locate::Step, RulesError, Source, SourcePos};
use crate::rules::{
    approval::{AccessPolicy, Area, DecisionStatuses, FieldRef, Intake, IntakeFields},
    expr::Cel,
    grant::is_numeric_id,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccessRequests {
    intake: RawIntake,
    #[serde(default)]
    areas: Vec<RawArea>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntake {
    list: String,
    fields: RawFields,
    statuses: RawStatuses,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFields {
    area: String,
    level: String,
    duration: Option<String>,
    justification: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatuses {
    pending: String,
    approved: String,
    denied: String,
    closed: String,
}

const HERE: Step<'static> = Step::Key("access_requests");

/// The policy `source` gives, unless an `earlier` file gave one.
pub fn check_access(
    source: &Source,
    raw: RawAccessRequests,
    earlier: Option<&Source>,
    cel: &Cel,
) -> Result<AccessPolicy, RulesError> {
    if let Some(earlier) = earlier {
        let first = earlier.at(&[HERE]);
        let reason = format!("access_requests are already given at {first}: keep them in one file");
        return Err(source.invalid(&[HERE], reason));
    }

    let intake = raw.intake.check(source)?;
    if raw.areas.is_empty() {
        let reason = "access_requests need at least one area in `areas`".to_owned();
        return Err(invalid(source, &[HERE, Step::Key("areas")], reason));
    }

    let mut areas: Vec<Area> = Vec::with_capacity(raw.areas.len());
    for (index, raw_area) in raw.areas.into_iter().enumerate() {
        let area = raw_area.check(source, index, cel)?;
        let same = |known: &&Area| known.name.to_lowercase() == area.name.to_lowercase();
        if let Some(first) = areas.iter().position(|known| same(&known)) {
            let first = nearest(source, &area::name_path(first));
            let reason = format!("the name is already used at {first}");
            return Err(area::error(
                source,
                index,
                &area.name,
                &[Step::Key("name")],
                reason,
            ));
        }
        areas.push(area);
    }

    let cel = cel.clone();
    Ok(AccessPolicy { intake, areas, cel })
}

impl RawIntake {
    fn check(self, source: &Source) -> Result<Intake, RulesError> {
        let at = |rest: &[Step<'static>]| -> Vec<Step<'static>> {
            [HERE, Step::Key("intake")]
                .into_iter()
                .chain(rest.iter().copied())
                .collect()
        };

        let list_id = self.list.trim().to_owned();
        if !is_numeric_id(&list_id) {
            let reason = format!("`list` must be a numeric ClickUp id, not `{list_id}`");
            return Err(invalid(source, &at(&[Step::Key("list")]), reason));
        }

        let field = |key: &'static str, text: &str| {
            FieldRef::parse(text).ok_or_else(|| {
                let reason = format!("`{key}` must name a field (its name or its UUID)");
                invalid(source, &at(&[Step::Key("fields"), Step::Key(key)]), reason)
            })
        };
        let optional = |key, text: Option<String>| text.map(|text| field(key, &text)).transpose();
        let fields = IntakeFields {
            area: field("area", &self.fields.area)?,
            level: field("level", &self.fields.level)?,
            duration: optional("duration", self.fields.duration)?,
            justification: optional("justification", self.fields.justification)?,
        };

        let statuses = self.statuses;
        let named = [
            ("pending", statuses.pending),
            ("approved", statuses.approved),
            ("denied", statuses.denied),
            ("closed", statuses.closed),
        ];
        let mut seen: Vec<String> = Vec::new();
        for (key, status) in &named {
            let path = at(&[Step::Key("statuses"), Step::Key(key)]);
            let status = status.trim().to_lowercase();
            if status.is_empty() {
                return Err(invalid(
                    source,
                    &path,
                    format!("status `{key}` must not be empty"),
                ));
            }
            if seen.contains(&status) {
                let reason = format!("status `{key}` is the same as another: each must differ");
                return Err(invalid(source, &path, reason));
            }
            seen.push(status);
        }
        let [pending, approved, denied, closed] = named.map(|(_, status)| status.trim().to_owned());

        Ok(Intake {
            list_id,
            fields,
            statuses: DecisionStatuses {
                pending,
                approved,
                denied,
                closed,
            },
        })
    }
}

/// The place of `path` in `source`, or of the nearest enclosing node written there.
fn nearest(source: &Source, path: &[Step]) -> SourcePos {
    source.nearest(path)
}

fn invalid(source: &Source, path: &[Step], reason: String) -> RulesError {
    let at = nearest(source, path);
    RulesError::Invalid { at, reason }
}
