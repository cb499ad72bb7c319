//! CEL for rules: one environment, expressions compiled and checked once at load.
//!
//! Expressions see two variables, `person` and `now`. At load every `person.<field>` an
//! expression reads is checked against the known attributes, so a misspelt attribute fails the
//! load instead of silently never matching; the paths read are kept for explanations. At run
//! time an error is a value (`Err(String)`), never a panic.

mod person;

use std::sync::Arc;

use cel::{
    common::ast::{EntryExpr, Expr as Node, IdedEntryExpr, IdedExpr},
    Context, Env, Program, Value,
};
use chrono::{DateTime, Utc};

pub use person::{person_value, render_attribute};

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

const PERSON_REF_FIELDS: [&str; 3] = ["id", "email", "display_name"];

/// Names an expression may use besides `person` and `now`: type names and function namespaces.
const OTHER_NAMES: [&str; 15] = [
    "bool",
    "bytes",
    "double",
    "duration",
    "dyn",
    "int",
    "list",
    "map",
    "null_type",
    "string",
    "timestamp",
    "type",
    "uint",
    "strings",
    "optional",
];

/// Why an expression does not compile; `line` and `column` are 1-based within the expression.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The CEL environment: the standard library plus the strings extension (`lowerAscii`, ...).
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

    /// Parses `source` and checks the names it uses.
    pub fn compile(&self, source: &str) -> Result<Expr, ExprError> {
        let program = self.env.compile(source).map_err(|errors| {
            let first = errors.errors.first();
            let (line, column) = first.map_or((1, 1), |error| error.pos);
            ExprError {
                line: line.max(1) as usize,
                column: column.max(1) as usize,
                message: first.map_or_else(|| errors.to_string(), |error| error.msg.clone()),
            }
        })?;

        let mut names = Names::default();
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
}

/// Walks an expression: collects the `person` paths it reads and the first unknown name.
#[derive(Default)]
struct Names {
    reads: Vec<String>,
    problem: Option<(String, u64)>,
}

impl Names {
    fn walk(&mut self, expr: &IdedExpr, bound: &mut Vec<String>) {
        if let Some(path) = person_path(expr, bound) {
            self.read(path, expr.id);
            return;
        }

        match &expr.expr {
            Node::Ident(name) => self.name(name, expr.id, bound),
            Node::Select(select) => self.walk(&select.operand, bound),
            Node::Call(call) => {
                call.target
                    .iter()
                    .for_each(|target| self.walk(target, bound));
                call.args.iter().for_each(|arg| self.walk(arg, bound));
            }
            Node::List(list) => list.elements.iter().for_each(|item| self.walk(item, bound)),
            Node::Map(map) => map
                .entries
                .iter()
                .for_each(|entry| self.entry(entry, bound)),
            Node::Struct(fields) => fields
                .entries
                .iter()
                .for_each(|entry| self.entry(entry, bound)),
            Node::Comprehension(loop_) => {
                self.walk(&loop_.iter_range, bound);
                self.walk(&loop_.accu_init, bound);
                let depth = bound.len();
                bound.extend([loop_.iter_var.clone(), loop_.accu_var.clone()]);
                bound.extend(loop_.iter_var2.clone());
                for part in [&loop_.loop_cond, &loop_.loop_step, &loop_.result] {
                    self.walk(part, bound);
                }
                bound.truncate(depth);
            }
            Node::Literal(_) | Node::Unspecified => {}
        }
    }

    fn entry(&mut self, entry: &IdedEntryExpr, bound: &mut Vec<String>) {
        match &entry.expr {
            EntryExpr::MapEntry(entry) => {
                self.walk(&entry.key, bound);
                self.walk(&entry.value, bound);
            }
            EntryExpr::StructField(field) => self.walk(&field.value, bound),
        }
    }

    fn name(&mut self, name: &str, id: u64, bound: &[String]) {
        let known = matches!(name, "person" | "now") || OTHER_NAMES.contains(&name);
        if !known && !bound.iter().any(|bound| bound == name) {
            self.problem(
                format!("unknown name `{name}`: use `person.<attribute>` or `now`"),
                id,
            );
        }
    }

    fn read(&mut self, path: Vec<&str>, id: u64) {
        let field = path.get(1).copied().unwrap_or_default();
        if !PERSON_FIELDS.contains(&field) {
            let known = PERSON_FIELDS.join(", ");
            self.problem(
                format!("unknown attribute `person.{field}` (known: {known})"),
                id,
            );
            return;
        }
        let is_ref = matches!(field, "manager" | "sponsor");
        if let (true, Some(sub)) = (is_ref, path.get(2)) {
            if !PERSON_REF_FIELDS.contains(sub) {
                self.problem(format!("unknown attribute `person.{field}.{sub}`"), id);
                return;
            }
        }

        let nested = matches!(field, "manager" | "sponsor" | "custom");
        let depth = if nested { 3 } else { 2 };
        let path = path[..path.len().min(depth)].join(".");
        if !self.reads.contains(&path) {
            self.reads.push(path);
        }
    }

    fn problem(&mut self, message: String, id: u64) {
        self.problem.get_or_insert((message, id));
    }
}

/// `person.a.b` (or `has(person.a.b)`) as `["person", "a", "b"]`, unless `person` is rebound.
fn person_path<'e>(expr: &'e IdedExpr, bound: &[String]) -> Option<Vec<&'e str>> {
    let mut segments = Vec::new();
    let mut node = &expr.expr;
    loop {
        match node {
            Node::Select(select) => {
                segments.push(select.field.as_str());
                node = &select.operand.expr;
            }
            Node::Ident(name) if name == "person" && !bound.iter().any(|b| b == "person") => {
                segments.push("person");
                segments.reverse();
                return (segments.len() > 1).then_some(segments);
            }
            _ => return None,
        }
    }
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
