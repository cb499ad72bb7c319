//! Rule files: the YAML model, reading a directory of them, and checking them into mappings,
//! settings, the access-request policy and assignment rules.
//!
//! The YAML is first read into plain structs (unknown fields, roles and levels fail there, with
//! serde_yaml_ng's position); then names, targets and expressions are checked, and a failure
//! is placed on its node with [`locate`]. The first error stops the load.

mod access;
mod assign;
mod locate;
mod mapping;
mod settings;

use std::{collections::HashMap, fmt, fs, path::Path};

use serde::Deserialize;

pub use settings::{parse_duration, BrakeSettings, ReminderSettings, RuleSettings};

use self::{
    access::{check_access, RawAccessRequests},
    assign::{Assignments, RawAssignment},
    locate::{inside_scalar, locate, Step},
    mapping::RawMapping,
    settings::RawSettings,
};
use crate::rules::{
    approval::AccessPolicy,
    assign::AssignmentRule,
    expr::{Cel, Expr, ExprError},
    grant::{Level, ObjectRef, WorkspaceRole},
};

/// A place in a rule file; line and column are 1-based and absent when unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcePos {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        Ok(())
    }
}

/// Why the rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{dir}: no rule files (*.yaml, *.yml)")]
    NoRuleFiles { dir: String },
    /// The text is not YAML, or does not fit the format, or a setting is out of range.
    #[error("{at}: {reason}")]
    Invalid { at: SourcePos, reason: String },
    #[error("{at}: mapping `{mapping}`: {reason}")]
    Mapping {
        at: SourcePos,
        mapping: String,
        reason: String,
    },
    /// An access-request area of `access_requests.areas` is not valid.
    #[error("{at}: area `{area}`: {reason}")]
    Area {
        at: SourcePos,
        area: String,
        reason: String,
    },
    /// A rule of an `assignments:` section is not valid.
    #[error("{at}: assignment `{assignment}`: {reason}")]
    Assignment {
        at: SourcePos,
        assignment: String,
        reason: String,
    },
}

/// A checked access mapping: when `when` holds, the person gets the rest.
#[derive(Debug)]
pub struct Mapping {
    pub name: String,
    pub description: Option<String>,
    pub file: String,
    pub when: Expr,
    pub role: Option<WorkspaceRole>,
    pub custom_role_id: Option<u64>,
    pub groups: Vec<String>,
    pub shares: Vec<Share>,
}

#[derive(Debug)]
pub struct Share {
    pub object: ObjectRef,
    pub level: Level,
    pub until: Option<Expr>,
}

/// Everything the files hold, checked.
pub struct Compiled {
    pub mappings: Vec<Mapping>,
    pub settings: RuleSettings,
    pub access: Option<AccessPolicy>,
    pub assignments: Vec<AssignmentRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    settings: Option<RawSettings>,
    #[serde(default)]
    mappings: Vec<RawMapping>,
    access_requests: Option<RawAccessRequests>,
    #[serde(default)]
    assignments: Vec<RawAssignment>,
}

/// Reads every `*.yaml` and `*.yml` file of `dir` (not its subdirectories), sorted by name.
pub fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, RulesError> {
    let unreadable = |path: &Path| {
        let path = path.display().to_string();
        move |source| RulesError::Read { path, source }
    };
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(unreadable(dir))? {
        let path = entry.map_err(unreadable(dir))?.path();
        let extension = path.extension().and_then(|extension| extension.to_str());
        if matches!(extension, Some("yaml" | "yml")) && path.is_file() {
            paths.push(path);
        }
    }

    paths.sort();
    if paths.is_empty() {
        let dir = dir.display().to_string();
        return Err(RulesError::NoRuleFiles { dir });
    }
    paths
        .iter()
        .map(|path| {
            let text = fs::read_to_string(path).map_err(unreadable(path))?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}

/// Checks `(file name, text)` sources in order; mapping names are unique across all of them.
pub fn compile_sources(sources: &[(&str, &str)], cel: &Cel) -> Result<Compiled, RulesError> {
    let mut mappings: Vec<Mapping> = Vec::new();
    let mut first_use: HashMap<String, (Source, usize)> = HashMap::new();
    let mut settings: Option<(RuleSettings, Source)> = None;
    let mut access: Option<(AccessPolicy, Source)> = None;
    let mut assignments = Assignments::default();

    for &(file, text) in sources {
        let source = Source { file, text };
        let raw = source.parse()?;

        if let Some(raw_settings) = raw.settings {
            let earlier = settings.as_ref().map(|(_, earlier)| earlier);
            let resolved = check_settings(&source, raw_settings, earlier)?;
            settings = Some((resolved, source));
        }

        if let Some(raw_access) = raw.access_requests {
            let earlier = access.as_ref().map(|(_, earlier)| earlier);
            let policy = check_access(&source, raw_access, earlier, cel)?;
            access = Some((policy, source));
        }

        for (index, raw_mapping) in raw.mappings.into_iter().enumerate() {
            let mapping = raw_mapping.check(&source, index, cel)?;
            if let Some((first_source, first_index)) = first_use.get(&mapping.name) {
                let first = first_source.at(&name_path(*first_index));
                let reason = format!("the name is already used at {first}");
                return Err(source.mapping_error(&name_path(index), &mapping.name, reason));
            }
            first_use.insert(mapping.name.clone(), (source, index));
            mappings.push(mapping);
        }

        assignments.add(source, raw.assignments, cel)?;
    }

    let settings = settings.map(|(settings, _)| settings).unwrap_or_default();
    let access = access.map(|(access, _)| access);
    Ok(Compiled {
        mappings,
        settings,
        access,
        assignments: assignments.rules,
    })
}

/// The settings `source` gives, unless an `earlier` file gave some.
fn check_settings(
    source: &Source,
    raw: RawSettings,
    earlier: Option<&Source>,
) -> Result<RuleSettings, RulesError> {
    let here = [Step::Key("settings")];
    if let Some(earlier) = earlier {
        let first = earlier.at(&here);
        let reason = format!("settings are already given at {first}: keep them in one file");
        return Err(source.invalid(&here, reason));
    }

    raw.resolve().map_err(|(path, reason)| {
        let keys = path.iter().map(|key| Step::Key(key));
        let path: Vec<Step> = here.into_iter().chain(keys).collect();
        source.invalid(&path, reason)
    })
}

fn name_path(index: usize) -> [Step<'static>; 3] {
    [Step::Key("mappings"), Step::Index(index), Step::Key("name")]
}

/// One rule file being checked.
#[derive(Clone, Copy)]
struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn parse(&self) -> Result<RawFile, RulesError> {
        let document: Option<RawFile> = serde_yaml_ng::from_str(self.text).map_err(|error| {
            let location = error.location().map(|at| (at.line(), at.column()));
            let mut reason = error.to_string();
            if let Some((line, column)) = location {
                reason = reason.replacen(&format!(" at line {line} column {column}"), "", 1);
            }
            RulesError::Invalid {
                at: self.pos(location),
                reason,
            }
        })?;
        Ok(document.unwrap_or(RawFile {
            settings: None,
            mappings: Vec::new(),
            access_requests: None,
            assignments: Vec::new(),
        }))
    }

    fn pos(&self, location: Option<(usize, usize)>) -> SourcePos {
        SourcePos {
            file: self.file.to_owned(),
            line: location.map(|(line, _)| line),
            column: location.map(|(_, column)| column),
        }
    }

    fn at(&self, path: &[Step]) -> SourcePos {
        self.pos(locate(self.text, path))
    }

    /// The place of `path`, or of the nearest enclosing node written (for absent keys).
    fn nearest(&self, path: &[Step]) -> SourcePos {
        let found = (0..=path.len())
            .rev()
            .find_map(|length| locate(self.text, &path[..length]));
        self.pos(found)
    }

    /// Where in the file an expression error is: inside the expression's scalar when possible.
    fn expr_pos(&self, path: &[Step], error: &ExprError) -> SourcePos {
        let scalar = locate(self.text, path);
        self.pos(scalar.map(|at| inside_scalar(self.text, at, (error.line, error.column))))
    }

    fn invalid(&self, path: &[Step], reason: String) -> RulesError {
        let at = self.at(path);
        RulesError::Invalid { at, reason }
    }

    fn mapping_error(&self, path: &[Step], mapping: &str, reason: String) -> RulesError {
        let at = self.at(path);
        let mapping = mapping.to_owned();
        RulesError::Mapping {
            at,
            mapping,
            reason,
        }
    }
}

#[cfg(test)]
mod tests;
