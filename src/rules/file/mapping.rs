//! One mapping of a rule file, checked: its name, expressions, groups and shares.

use serde::Deserialize;

use super::{locate::Step, Mapping, RulesError, Share, Source};
use crate::rules::{
    expr::{Cel, Expr},
    grant::{is_numeric_id, Level, ObjectKind, ObjectRef, WorkspaceRole},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMapping {
    name: String,
    description: Option<String>,
    when: String,
    role: Option<WorkspaceRole>,
    custom_role_id: Option<u64>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    shares: Vec<RawShare>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShare {
    space: Option<String>,
    folder: Option<String>,
    list: Option<String>,
    level: Level,
    until: Option<String>,
}

impl RawMapping {
    /// Checks the mapping written at `mappings[index]` of `source`.
    pub fn check(self, source: &Source, index: usize, cel: &Cel) -> Result<Mapping, RulesError> {
        let name = self.name.trim().to_owned();
        let checker = Checker {
            source,
            index,
            name,
            cel,
        };
        if checker.name.is_empty() {
            let reason = "a mapping needs a non-empty `name`".to_owned();
            return Err(source.invalid(&checker.path(&[Step::Key("name")]), reason));
        }

        let when = checker.compile(&[Step::Key("when")], &self.when)?;
        if self.custom_role_id.is_some() && self.role.is_none() {
            let reason = "`custom_role_id` needs a `role`";
            return Err(checker.fail(&[Step::Key("custom_role_id")], reason));
        }
        let groups = checker.groups(&self.groups)?;
        let shares = checker.shares(self.shares)?;

        if self.role.is_none() && groups.is_empty() && shares.is_empty() {
            let reason = "grants nothing: give it a `role`, `groups` or `shares`";
            return Err(checker.fail(&[], reason));
        }
        Ok(Mapping {
            name: checker.name,
            description: self.description,
            file: source.file.to_owned(),
            when,
            role: self.role,
            custom_role_id: self.custom_role_id,
            groups,
            shares,
        })
    }
}

/// Checks the parts of one mapping, placing each failure on its node.
struct Checker<'s, 'a> {
    source: &'s Source<'a>,
    index: usize,
    name: String,
    cel: &'s Cel,
}

impl Checker<'_, '_> {
    /// The path of `rest` inside this mapping.
    fn path(&self, rest: &[Step<'static>]) -> Vec<Step<'static>> {
        let mapping = [Step::Key("mappings"), Step::Index(self.index)];
        mapping.into_iter().chain(rest.iter().copied()).collect()
    }

    fn fail(&self, rest: &[Step<'static>], reason: impl Into<String>) -> RulesError {
        let path = self.path(rest);
        self.source.mapping_error(&path, &self.name, reason.into())
    }

    /// Compiles the expression at `rest`, whose last step names it (`when`, `until`).
    fn compile(&self, rest: &[Step<'static>], text: &str) -> Result<Expr, RulesError> {
        let key = match rest.last() {
            Some(Step::Key(key)) => key,
            _ => "expression",
        };
        self.cel.compile(text).map_err(|error| RulesError::Mapping {
            at: self.source.expr_pos(&self.path(rest), &error),
            mapping: self.name.clone(),
            reason: format!("`{key}` does not compile: {error}"),
        })
    }

    /// Group names, trimmed, each once.
    fn groups(&self, raw: &[String]) -> Result<Vec<String>, RulesError> {
        let mut groups: Vec<String> = Vec::new();
        for (index, group) in raw.iter().enumerate() {
            let group = group.trim();
            if group.is_empty() {
                let reason = "a group name must not be empty";
                return Err(self.fail(&[Step::Key("groups"), Step::Index(index)], reason));
            }
            if !groups.iter().any(|known| known == group) {
                groups.push(group.to_owned());
            }
        }
        Ok(groups)
    }

    /// Shares, each naming one object, once per mapping, with a compiled `until`.
    fn shares(&self, raw: Vec<RawShare>) -> Result<Vec<Share>, RulesError> {
        let mut shares: Vec<Share> = Vec::new();
        for (index, share) in raw.into_iter().enumerate() {
            let here = [Step::Key("shares"), Step::Index(index)];
            let object = share.object().map_err(|(key, reason)| {
                let at: Vec<Step> = here.into_iter().chain(key.map(Step::Key)).collect();
                self.fail(&at, reason)
            })?;
            if shares.iter().any(|known| known.object == object) {
                return Err(self.fail(&here, format!("shares {object} twice")));
            }

            let until_path = [here[0], here[1], Step::Key("until")];
            let until = share.until.map(|text| self.compile(&until_path, &text));
            shares.push(Share {
                object,
                level: share.level,
                until: until.transpose()?,
            });
        }
        Ok(shares)
    }
}

impl RawShare {
    /// The one object the share names, or the key at fault (none: the share itself) and why.
    fn object(&self) -> Result<ObjectRef, (Option<&'static str>, String)> {
        let ids = [&self.space, &self.folder, &self.list].map(Option::as_deref);
        object_of("a share", ids)
    }
}

/// The one object of `space`, `folder` and `list` (`ids`, in that order) that `what` names, or
/// the key at fault (none: `what` itself) and why.
pub(super) fn object_of(
    what: &str,
    [space, folder, list]: [Option<&str>; 3],
) -> Result<ObjectRef, (Option<&'static str>, String)> {
    let named: Vec<(ObjectKind, &'static str, &str)> = [
        (ObjectKind::Space, "space", space),
        (ObjectKind::Folder, "folder", folder),
        (ObjectKind::List, "list", list),
    ]
    .into_iter()
    .filter_map(|(kind, key, id)| id.map(|id| (kind, key, id.trim())))
    .collect();

    let targets = "`space`, `folder` or `list`";
    match named.as_slice() {
        [(kind, _, id)] if is_numeric_id(id) => Ok(ObjectRef::new(*kind, *id)),
        [(_, key, "")] => Err((Some(key), format!("the `{key}` id is empty"))),
        [(_, key, id)] => Err((Some(key), format!("`{id}` is not a numeric ClickUp id"))),
        [] => Err((None, format!("{what} needs one of {targets}"))),
        _ => Err((None, format!("{what} names only one of {targets}"))),
    }
}
