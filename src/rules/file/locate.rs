//! Where a node of a rule file was written, for errors found after the YAML was read.
//!
//! serde_yaml_ng attaches a position only to errors it raises while deserializing, so to find
//! a node the text is read again with a visitor that walks the path and fails at its end: the
//! failure carries the node's line and column. Only used when reporting an error.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a path into a YAML document.
#[derive(Clone, Copy, Debug)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The 1-based line and column of the node at `path` in `text`, if it exists.
pub fn locate(text: &str, path: &[Step]) -> Option<(usize, usize)> {
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    let error = Walk { path }.deserialize(deserializer).err()?;
    error
        .location()
        .map(|location| (location.line(), location.column()))
}

/// The 1-based line and column where the text of the scalar written at (`line`, `column`)
/// reaches its own (`inner_line`, `inner_column`): exact for plain and quoted one-line scalars
/// and for block scalars (`|`, `>`), else the scalar's start.
pub fn inside_scalar(
    text: &str,
    (line, column): (usize, usize),
    (inner_line, inner_column): (usize, usize),
) -> (usize, usize) {
    let first = text.lines().nth(line.saturating_sub(1)).unwrap_or_default();
    let opener = first.chars().nth(column.saturating_sub(1));

    match opener {
        Some('|' | '>') => {
            // The block's indentation is its first content line's.
            let content = text.lines().nth(line).unwrap_or_default();
            let indent = content.chars().take_while(|c| *c == ' ').count();
            (line + inner_line, indent + inner_column)
        }
        Some('"' | '\'') if inner_line == 1 => (line, column + inner_column),
        Some(_) if inner_line == 1 => (line, column + inner_column - 1),
        _ => (line, column),
    }
}

/// Walks `path`, failing at its end (any visit of the target node is a type error).
struct Walk<'p, 'a> {
    path: &'p [Step<'a>],
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.path.is_empty() {
            true => deserializer.deserialize_any(Target),
            false => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping or a sequence")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match self.path.first() {
                Some(Step::Key(wanted)) if *wanted == key => {
                    return map.next_value_seed(Walk {
                        path: &self.path[1..],
                    });
                }
                _ => map.next_value::<IgnoredAny>()?,
            };
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            let more = match self.path.first() {
                Some(Step::Index(wanted)) if *wanted == index => {
                    return seq
                        .next_element_seed(Walk {
                            path: &self.path[1..],
                        })
                        .map(|_| ());
                }
                _ => seq.next_element::<IgnoredAny>()?.is_some(),
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }

    // Scalars on the way are not the path: the node does not exist.
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The node at the end of the path: every visit fails, which marks its position.
struct Target;

impl Visitor<'_> for Target {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("nothing (locating a node)")
    }
}
