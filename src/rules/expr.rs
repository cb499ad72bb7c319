//! CEL for rules: one environment, expressions compiled and checked once at load.
//!
//! Mapping expressions see two variables, `person` and `now`; access-request policies also see
//! `area` ([`Scope`]). At load every `person.<field>` (and `area.<field>`) an expression reads
//! is checked against the known attributes, so a misspelt attribute fails the load instead of
//! silently never matching; the paths read are kept for explanations. At run time an error is
//! a value (`Err(String)`), never a panic.

mod names;
mod person;

use std::sync::Arc;

use cel::{Context, Env, Program, Value};
use chrono::{DateTime, Utc};

pub use names::Scope;
pub use person::{person_value, render_attribute};

use self::names::Names;

/// Attributes of `person`; `manager` and `sponsor` have `id`, `email` and `display_name`.
pub const PERSON_FIELDS: [&str; 21] = [
    "id",
    "email",
    "username",
    "display_name",
    "status",
    "employment_type",
    "department",
    "title",
    "location",
    "division",
    "cost_center",
    "organization",
    "company",
    "groups",
    "roles",
    "manager",
    "sponsor",
    "start_date",
    "end_date",
    "end_at",
    "custom",
];

/// Attributes of `area` in access-request policies: its name, its security approvers (a list)
/// and its object (`folder:901100000200`).
pub const AREA_FIELDS: [&str; 3] = ["name", "approvers", "object"];

/// Why an expression does not compile; `line` and `column` are 1-based within the expression.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The CEL environment: the standard library plus the strings extension (`lowerAscii`, ...).
/// Cloning shares the environment.
#[derive(Clone)]
pub struct Cel {
    env: Arc<Env>,
}

/// A compiled expression with its source and the `person` attributes it reads.
pub struct Expr {
    source: String,
    program: Program,
    reads: Vec<String>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expr").field(&self.source).finish()
    }
}

impl Cel {
    pub fn new() -> Cel {
        let mut env = Env::stdlib();
        // Registering a standard extension on a fresh environment cannot conflict.
        let _ = env.add_extension(cel::extensions::strings);
        Cel { env: Arc::new(env) }
    }

    /// Parses `source` and checks the names it uses, with `person` and `now` in scope.
    pub fn compile(&self, source: &str) -> Result<Expr, ExprError> {
        self.compile_in(source, Scope::Person)
    }

    /// Parses `source` and checks the names it uses against the variables of `scope`.
    pub fn compile_in(&self, source: &str, scope: Scope) -> Result<Expr, ExprError> {
        let program = self.env.compile(source).map_err(|errors| {
            let first = errors.errors.first();
            let (line, column) = first.map_or((1, 1), |error| error.pos);
            ExprError {
                line: line.max(1) as usize,
                column: column.max(1) as usize,
                message: first.map_or_else(|| errors.to_string(), |error| error.msg.clone()),
            }
        })?;

        let mut names = Names::new(scope);
        names.walk(program.expression(), &mut Vec::new());
        if let Some((message, id)) = names.problem {
            let offset = program
                .source_info()
                .offset_for(id)
                .map_or(0, |(start, _)| start);
            let (line, column) = line_and_column(source, offset as usize);
            return Err(ExprError {
                line,
                column,
                message,
            });
        }

        Ok(Expr {
            source: source.to_owned(),
            program,
            reads: names.reads,
        })
    }

    /// The variables for one evaluation: `person` (see [`person_value`]) and `now`.
    pub fn context(&self, person: Value, now: DateTime<Utc>) -> Context<'static, 'static> {
        let mut context = Context::with_env(Arc::clone(&self.env));
        context.add_variable_from_value("person", person);
        context.add_variable_from_value("now", Value::Timestamp(now.fixed_offset()));
        context
    }

    /// The variables of [`Scope::Area`]: those of [`Cel::context`] and `area`.
    pub fn area_context(
        &self,
        person: Value,
        area: Value,
        now: DateTime<Utc>,
    ) -> Context<'static, 'static> {
        let mut context = self.context(person, now);
        context.add_variable_from_value("area", area);
        context
    }
}

impl std::fmt::Debug for Cel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cel")
    }
}

impl Default for Cel {
    fn default() -> Cel {
        Cel::new()
    }
}

impl Expr {
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The `person` attributes the expression reads, e.g. `person.title`, first use first.
    pub fn reads(&self) -> &[String] {
        &self.reads
    }

    /// Evaluates a condition; anything but a bool is an error.
    pub fn is_true(&self, context: &Context) -> Result<bool, String> {
        match self.program.execute(context) {
            Ok(Value::Bool(value)) => Ok(value),
            Ok(other) => Err(format!("gave {}, not a bool", other.type_of())),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Evaluates a computed end: a timestamp, or null for "no end".
    pub fn timestamp_or_null(&self, context: &Context) -> Result<Option<DateTime<Utc>>, String> {
        match self.program.execute(context) {
            Ok(Value::Timestamp(at)) => Ok(Some(at.to_utc())),
            Ok(Value::Null) => Ok(None),
            Ok(other) => Err(format!("gave {}, not a timestamp or null", other.type_of())),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Evaluates to strings: a string, or a list of strings (nested lists are flattened).
    pub fn strings(&self, context: &Context) -> Result<Vec<String>, String> {
        let value = self.program.execute(context).map_err(|e| e.to_string())?;
        let mut strings = Vec::new();
        collect_strings(&value, &mut strings)?;
        Ok(strings)
    }
}

fn collect_strings(value: &Value, into: &mut Vec<String>) -> Result<(), String> {
    match value {
        Value::String(text) => into.push(text.as_str().to_owned()),
        Value::List(items) => {
            for item in items.iter() {
                collect_strings(item, into)?;
            }
        }
        other => {
            return Err(format!(
                "gave {}, not a string or a list of strings",
                other.type_of()
            ))
        }
    }
    Ok(())
}

/// 1-based line and column (in characters) of byte `offset` in `source`.
fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests;
