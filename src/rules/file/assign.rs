//! The `assignments:` sections: rules that route tasks to people, checked into
//! [`AssignmentRule`]s.
//!
//! The YAML shape (unknown keys, strategies) is checked by serde with its position; every other
//! refusal is placed on its node, or on the nearest node written when the key is absent. The
//! section may appear in several files; rule names are unique across all of them.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::{locate::Step, RulesError, Source};
use crate::rules::{
    approval::FieldRef,
    assign::{
        lower, same_value, AssignmentRule, ByField, Fallback, Strategy, TaskMatch,
        ASSIGNMENT_ATTRIBUTES, TASK_EVENTS,
    },
    expr::Cel,
    file::mapping::object_of,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAssignment {
    name: String,
    description: Option<String>,
    #[serde(rename = "match")]
    matching: RawMatch,
    #[serde(default)]
    candidates: RawCandidates,
    strategy: Strategy,
    by_field: Option<RawByField>,
    fallback: Option<RawFallback>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    events: Option<Vec<String>>,
    space: Option<String>,
    folder: Option<String>,
    list: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    name: Option<String>,
    status: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCandidates {
    #[serde(rename = "where", default)]
    conditions: BTreeMap<String, String>,
    filter: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawByField {
    field: String,
    attribute: String,
    map: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFallback {
    email: Option<String>,
    group: Option<String>,
}

/// The assignment rules checked so far, and where each name was first used.
#[derive(Default)]
pub struct Assignments<'a> {
    pub rules: Vec<AssignmentRule>,
    first_use: HashMap<String, (Source<'a>, usize)>,
}

impl<'a> Assignments<'a> {
    /// Checks the `assignments:` of `source` and adds them, in order.
    pub fn add(
        &mut self,
        source: Source<'a>,
        raw: Vec<RawAssignment>,
        cel: &Cel,
    ) -> Result<(), RulesError> {
        for (index, raw_rule) in raw.into_iter().enumerate() {
            let rule = raw_rule.check(&source, index, cel)?;
            if let Some((first_source, first_index)) = self.first_use.get(&rule.name) {
                let first = first_source.at(&name_path(*first_index));
                let reason = format!("the name is already used at {first}");
                let checker = Checker::new(&source, index, &rule.name);
                return Err(checker.fail(&[Step::Key("name")], reason));
            }
            self.first_use.insert(rule.name.clone(), (source, index));
            self.rules.push(rule);
        }
        Ok(())
    }
}

fn name_path(index: usize) -> [Step<'static>; 3] {
    [
        Step::Key("assignments"),
        Step::Index(index),
        Step::Key("name"),
    ]
}

impl RawAssignment {
    /// Checks the rule written at `assignments[index]` of `source`.
    fn check(self, source: &Source, index: usize, cel: &Cel) -> Result<AssignmentRule, RulesError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            let reason = "an assignment rule needs a non-empty `name`".to_owned();
            return Err(source.invalid(&name_path(index), reason));
        }
        let checker = Checker::new(source, index, &name);

        let matching = checker.matching(self.matching)?;
        let conditions = checker.conditions(&self.candidates.conditions)?;
        let filter = self.candidates.filter.map(|text| {
            let path = checker.path(&[Step::Key("candidates"), Step::Key("filter")]);
            cel.compile(&text).map_err(|error| RulesError::Assignment {
                at: source.expr_pos(&path, &error),
                assignment: name.clone(),
                reason: format!("`filter` does not compile: {error}"),
            })
        });
        let filter = filter.transpose()?;

        let by_field = match (self.strategy, self.by_field) {
            (Strategy::ByField, Some(raw)) => Some(checker.by_field(raw, &conditions)?),
            (Strategy::ByField, None) => {
                let reason = "`strategy: by_field` needs a `by_field`";
                return Err(checker.fail(&[Step::Key("strategy")], reason));
            }
            (_, Some(_)) => {
                let reason = "`by_field` is only for `strategy: by_field`";
                return Err(checker.fail(&[Step::Key("by_field")], reason));
            }
            (_, None) => None,
        };
        if conditions.is_empty() && by_field.is_none() {
            let reason = "the candidates need a condition in `where` (or `strategy: by_field`): \
                          a rule does not pick among everyone";
            return Err(checker.fail(&[Step::Key("candidates")], reason));
        }

        let fallback = self.fallback.map(|raw| checker.fallback(raw)).transpose()?;
        Ok(AssignmentRule {
            name,
            description: self.description,
            file: source.file.to_owned(),
            strategy: self.strategy,
            fallback,
            matching,
            conditions,
            filter,
            by_field,
        })
    }
}

/// Checks the parts of one rule, placing each failure on its node.
struct Checker<'s, 'a> {
    source: &'s Source<'a>,
    index: usize,
    name: &'s str,
}

impl<'s, 'a> Checker<'s, 'a> {
    fn new(source: &'s Source<'a>, index: usize, name: &'s str) -> Checker<'s, 'a> {
        Checker {
            source,
            index,
            name,
        }
    }

    /// The path of `rest` inside this rule.
    fn path<'p>(&self, rest: &[Step<'p>]) -> Vec<Step<'p>> {
        let rule = [Step::Key("assignments"), Step::Index(self.index)];
        rule.into_iter().chain(rest.iter().copied()).collect()
    }

    fn fail(&self, rest: &[Step], reason: impl Into<String>) -> RulesError {
        RulesError::Assignment {
            at: self.source.nearest(&self.path(rest)),
            assignment: self.name.to_owned(),
            reason: reason.into(),
        }
    }

    fn matching(&self, raw: RawMatch) -> Result<TaskMatch, RulesError> {
        let at = |key| [Step::Key("match"), Step::Key(key)];
        let events = raw.events.unwrap_or_else(|| vec!["taskCreated".to_owned()]);
        if events.is_empty() {
            return Err(self.fail(&at("events"), "`events` needs at least one task event"));
        }
        for (index, event) in events.iter().enumerate() {
            if !TASK_EVENTS.contains(&event.as_str()) {
                let reason = format!(
                    "`{event}` is not a task event (one of {})",
                    TASK_EVENTS.join(", ")
                );
                let path = [Step::Key("match"), Step::Key("events"), Step::Index(index)];
                return Err(self.fail(&path, reason));
            }
        }

        let ids = [&raw.space, &raw.folder, &raw.list].map(Option::as_deref);
        let place = match ids.iter().all(Option::is_none) {
            true => None,
            false => Some(object_of("a match", ids).map_err(|(key, reason)| {
                let path = [Step::Key("match")].into_iter().chain(key.map(Step::Key));
                self.fail(&path.collect::<Vec<_>>(), reason)
            })?),
        };

        let tags = raw.tags.iter().map(|tag| lower(tag));
        let tags: Vec<String> = tags.collect();
        if let Some(index) = tags.iter().position(String::is_empty) {
            let path = [Step::Key("match"), Step::Key("tags"), Step::Index(index)];
            return Err(self.fail(&path, "a tag must not be empty"));
        }
        let name = self.text(&at("name"), raw.name)?;
        let status = self.text(&at("status"), raw.status)?;

        let mut fields = Vec::with_capacity(raw.fields.len());
        for (field, value) in &raw.fields {
            let path = [Step::Key("match"), Step::Key("fields"), Step::Key(field)];
            let Some(reference) = FieldRef::parse(field) else {
                return Err(self.fail(&path, "a field needs its name or its UUID"));
            };
            if value.trim().is_empty() {
                let reason = format!("the value of field `{reference}` must not be empty");
                return Err(self.fail(&path, reason));
            }
            fields.push((reference, value.trim().to_owned()));
        }
        Ok(TaskMatch {
            events,
            place,
            tags,
            name,
            status,
            fields,
        })
    }

    /// An optional text compared case-insensitively: lowercase, and not empty.
    fn text(&self, path: &[Step], text: Option<String>) -> Result<Option<String>, RulesError> {
        let text = text.map(|text| lower(&text));
        if text.as_deref() == Some("") {
            let key = match path.last() {
                Some(Step::Key(key)) => *key,
                _ => "it",
            };
            return Err(self.fail(path, format!("`{key}` must not be empty")));
        }
        Ok(text)
    }

    /// `where`: known attributes, values not empty.
    fn conditions(
        &self,
        raw: &BTreeMap<String, String>,
    ) -> Result<Vec<(String, String)>, RulesError> {
        let mut conditions = Vec::with_capacity(raw.len());
        for (attribute, value) in raw {
            let path = [
                Step::Key("candidates"),
                Step::Key("where"),
                Step::Key(attribute),
            ];
            self.attribute(&path, attribute)?;
            if value.trim().is_empty() {
                let reason = format!("the value of `{attribute}` must not be empty");
                return Err(self.fail(&path, reason));
            }
            conditions.push((attribute.trim().to_owned(), value.trim().to_owned()));
        }
        Ok(conditions)
    }

    fn attribute(&self, path: &[Step], attribute: &str) -> Result<(), RulesError> {
        if ASSIGNMENT_ATTRIBUTES.contains(&attribute.trim()) {
            return Ok(());
        }
        let known = ASSIGNMENT_ATTRIBUTES.join(", ");
        let reason = format!("unknown attribute `{}` (known: {known})", attribute.trim());
        Err(self.fail(path, reason))
    }

    fn by_field(
        &self,
        raw: RawByField,
        conditions: &[(String, String)],
    ) -> Result<ByField, RulesError> {
        let at = |key| [Step::Key("by_field"), Step::Key(key)];
        let Some(field) = FieldRef::parse(&raw.field) else {
            let reason = "`field` needs the field's name or its UUID";
            return Err(self.fail(&at("field"), reason));
        };
        let attribute = raw.attribute.trim().to_owned();
        self.attribute(&at("attribute"), &attribute)?;
        if conditions.iter().any(|(known, _)| *known == attribute) {
            let reason = format!("`{attribute}` is also in `where`: give it in one place");
            return Err(self.fail(&at("attribute"), reason));
        }

        let Some(raw_map) = raw.map else {
            return Ok(ByField {
                field,
                attribute,
                map: None,
            });
        };
        if raw_map.is_empty() {
            let reason = "`map` is empty: leave it out to use the field's value itself";
            return Err(self.fail(&at("map"), reason));
        }
        let mut map: Vec<(String, String)> = Vec::with_capacity(raw_map.len());
        for (key, value) in &raw_map {
            let path = [Step::Key("by_field"), Step::Key("map"), Step::Key(key)];
            if key.trim().is_empty() || value.trim().is_empty() {
                return Err(self.fail(&path, "a `map` entry needs a key and a value"));
            }
            if map.iter().any(|(known, _)| same_value(known, key)) {
                let reason = format!(
                    "`{}` is mapped twice (keys compare in any case)",
                    key.trim()
                );
                return Err(self.fail(&path, reason));
            }
            map.push((key.trim().to_owned(), value.trim().to_owned()));
        }
        Ok(ByField {
            field,
            attribute,
            map: Some(map),
        })
    }

    fn fallback(&self, raw: RawFallback) -> Result<Fallback, RulesError> {
        let at = |key| [Step::Key("fallback"), Step::Key(key)];
        let trimmed = |text: Option<String>| text.map(|text| text.trim().to_owned());
        match (trimmed(raw.email), trimmed(raw.group)) {
            (Some(email), None) if email.contains('@') => Ok(Fallback::Email(email)),
            (Some(_), None) => {
                let reason = "`email` must be an email address (with an `@`)";
                Err(self.fail(&at("email"), reason))
            }
            (None, Some(group)) if !group.is_empty() => Ok(Fallback::Group(group)),
            (None, Some(_)) => Err(self.fail(&at("group"), "`group` must not be empty")),
            _ => {
                let reason = "a fallback names one of `email` or `group`";
                Err(self.fail(&[Step::Key("fallback")], reason))
            }
        }
    }
}
