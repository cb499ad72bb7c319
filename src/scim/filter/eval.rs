//! Evaluating a checked filter over a resource: a comparison matches when any value of the
//! attribute does (multi-valued attributes, the `value` of complex ones); strings follow the
//! attribute's `caseExact`, times compare as times, booleans and numbers as such.

use std::cmp::Ordering;

use serde_json::Value;

use super::{boolean_text, parse_time, AttrPath, Filter, Literal, Op, Scope};
use crate::scim::schema::{Attribute, Kind};

pub fn matches(filter: &Filter, scope: Scope, value: &Value) -> bool {
    match filter {
        Filter::And(left, right) => matches(left, scope, value) && matches(right, scope, value),
        Filter::Or(left, right) => matches(left, scope, value) || matches(right, scope, value),
        Filter::Not(inner) => !matches(inner, scope, value),
        Filter::Present(path) => candidates(scope, path, value)
            .is_some_and(|(_, values)| values.into_iter().any(present)),
        Filter::Compare {
            path,
            op,
            value: literal,
        } => {
            let Some((attribute, values)) = candidates(scope, path, value) else {
                return false;
            };
            match (op, literal) {
                (Op::Eq, Literal::Null) => values.is_empty(),
                (Op::Ne, Literal::Null) => !values.is_empty(),
                (Op::Ne, _) => !values.iter().any(|v| test(attribute, v, Op::Eq, literal)),
                (op, _) => values.iter().any(|v| test(attribute, v, *op, literal)),
            }
        }
        Filter::ValuePath { path, filter } => {
            let Some((resolved, _)) = scope.resolve(path) else {
                return false;
            };
            let inner = Scope::Complex(resolved.attribute);
            container(value, resolved.extension)
                .and_then(|container| container.get(resolved.attribute.name))
                .map(flatten)
                .unwrap_or_default()
                .into_iter()
                .any(|element| matches(filter, inner, element))
        }
    }
}

/// The values a path reads, with the definition they follow; `None` when it names nothing.
fn candidates<'v>(
    scope: Scope,
    path: &AttrPath,
    value: &'v Value,
) -> Option<(&'static Attribute, Vec<&'v Value>)> {
    let (resolved, sub) = scope.resolve(path)?;
    let (attribute, sub) = match (sub, resolved.attribute.kind) {
        (Some(sub), _) => (sub, Some(sub.name)),
        (None, Kind::Complex) => (resolved.attribute.sub("value")?, Some("value")),
        (None, _) => (resolved.attribute, None),
    };

    let values = container(value, resolved.extension)
        .and_then(|container| container.get(resolved.attribute.name))
        .map(flatten)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|element| match sub {
            Some(sub) => element.get(sub),
            None => Some(element),
        })
        .flat_map(flatten)
        .filter(|value| !value.is_null())
        .collect();
    Some((attribute, values))
}

fn container<'v>(value: &'v Value, extension: Option<&str>) -> Option<&'v Value> {
    match extension {
        Some(urn) => value.get(urn),
        None => Some(value),
    }
}

/// The values of an array, or the value itself.
fn flatten(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// RFC 7644: present when the value is not empty (string, array, complex).
fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => members.values().any(present),
        _ => true,
    }
}

fn test(attribute: &Attribute, actual: &Value, op: Op, literal: &Literal) -> bool {
    match attribute.kind {
        Kind::Boolean => {
            let wanted = match literal {
                Literal::Bool(wanted) => Some(*wanted),
                Literal::String(text) => boolean_text(text),
                _ => None,
            };
            op == Op::Eq && wanted.is_some() && actual.as_bool() == wanted
        }
        Kind::Integer | Kind::Decimal => match literal {
            Literal::Number(wanted) => {
                numeric_order(actual, wanted).is_some_and(|order| ordered(op, order))
            }
            _ => false,
        },
        Kind::DateTime if !op.substring() => {
            let (Some(actual), Literal::String(wanted)) = (actual.as_str(), literal) else {
                return false;
            };
            match (parse_time(actual), parse_time(wanted)) {
                (Some(actual), Some(wanted)) => ordered(op, actual.cmp(&wanted)),
                _ => false,
            }
        }
        _ => {
            let (Some(actual), Literal::String(wanted)) = (actual.as_str(), literal) else {
                return false;
            };
            match attribute.case_exact {
                true => text_test(actual, wanted, op),
                false => text_test(&actual.to_lowercase(), &wanted.to_lowercase(), op),
            }
        }
    }
}

fn text_test(actual: &str, wanted: &str, op: Op) -> bool {
    match op {
        Op::Co => actual.contains(wanted),
        Op::Sw => actual.starts_with(wanted),
        Op::Ew => actual.ends_with(wanted),
        op => ordered(op, actual.cmp(wanted)),
    }
}

fn numeric_order(actual: &Value, wanted: &serde_json::Number) -> Option<Ordering> {
    let actual = actual.as_number()?;
    match (actual.as_i64(), wanted.as_i64()) {
        (Some(actual), Some(wanted)) => Some(actual.cmp(&wanted)),
        _ => actual.as_f64()?.partial_cmp(&wanted.as_f64()?),
    }
}

fn ordered(op: Op, order: Ordering) -> bool {
    match op {
        Op::Eq => order == Ordering::Equal,
        Op::Gt => order == Ordering::Greater,
        Op::Ge => order != Ordering::Less,
        Op::Lt => order == Ordering::Less,
        Op::Le => order != Ordering::Greater,
        Op::Ne | Op::Co | Op::Sw | Op::Ew => false,
    }
}
