//! The names an expression uses, checked at load: variables of its [`Scope`], attributes of
//! `person` (and of `area` where it is in scope), type names, namespaces and loop variables.
//!
//! Invariant: an expression that compiles reads no attribute that does not exist, so a
//! misspelt attribute fails the load instead of never matching.

use cel::common::ast::{EntryExpr, Expr as Node, IdedEntryExpr, IdedExpr};

use super::{AREA_FIELDS, PERSON_FIELDS};

const PERSON_REF_FIELDS: [&str; 3] = ["id", "email", "display_name"];

/// Names an expression may use besides its variables: type names and function namespaces.
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

/// The variables an expression sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Mappings: `person` and `now`.
    #[default]
    Person,
    /// Access-request policies: `person`, `area` and `now`.
    Area,
}

/// Walks an expression: collects the `person` paths it reads and the first unknown name.
#[derive(Default)]
pub struct Names {
    pub scope: Scope,
    pub reads: Vec<String>,
    pub problem: Option<(String, u64)>,
}

impl Names {
    pub fn new(scope: Scope) -> Names {
        Names {
            scope,
            ..Names::default()
        }
    }

    pub fn walk(&mut self, expr: &IdedExpr, bound: &mut Vec<String>) {
        if let Some(path) = variable_path(expr, "person", bound) {
            self.read(path, expr.id);
            return;
        }
        if self.scope == Scope::Area {
            if let Some(path) = variable_path(expr, "area", bound) {
                self.area(&path, expr.id);
                return;
            }
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
        let variable = match self.scope {
            Scope::Person => matches!(name, "person" | "now"),
            Scope::Area => matches!(name, "person" | "area" | "now"),
        };
        let known = variable || OTHER_NAMES.contains(&name);
        if !known && !bound.iter().any(|bound| bound == name) {
            let hint = match self.scope {
                Scope::Person => "use `person.<attribute>` or `now`",
                Scope::Area => "use `person.<attribute>`, `area.<attribute>` or `now`",
            };
            self.problem(format!("unknown name `{name}`: {hint}"), id);
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

    /// `area.<field>`: the field must exist; what follows it is the value's own business.
    fn area(&mut self, path: &[&str], id: u64) {
        let field = path.get(1).copied().unwrap_or_default();
        if !AREA_FIELDS.contains(&field) {
            let known = AREA_FIELDS.join(", ");
            self.problem(
                format!("unknown attribute `area.{field}` (known: {known})"),
                id,
            );
        }
    }

    fn problem(&mut self, message: String, id: u64) {
        self.problem.get_or_insert((message, id));
    }
}

/// `var.a.b` (or `has(var.a.b)`) as `[var, "a", "b"]`, unless `var` is rebound.
fn variable_path<'e>(expr: &'e IdedExpr, var: &str, bound: &[String]) -> Option<Vec<&'e str>> {
    let mut segments = Vec::new();
    let mut node = &expr.expr;
    loop {
        match node {
            Node::Select(select) => {
                segments.push(select.field.as_str());
                node = &select.operand.expr;
            }
            Node::Ident(name) if name == var && !bound.iter().any(|b| b == var) => {
                segments.push(name.as_str());
                segments.reverse();
                return (segments.len() > 1).then_some(segments);
            }
            _ => return None,
        }
    }
}
