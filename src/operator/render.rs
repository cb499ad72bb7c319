//! How operator commands print: aligned text tables, times in UTC, and the words for how
//! access began and ended. Output on stdout is the product of these commands, so emails
//! appear there (never in logs).

use std::io::{self, Write};

use chrono::{DateTime, Utc};

use crate::timeline::{Access, Interval, Via};

/// Output formats of the read-only commands.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// A table printed with its columns aligned.
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&'static str]) -> Table {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub(crate) fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|column| {
                self.rows
                    .iter()
                    .map(|row| row[column].chars().count())
                    .chain([self.header[column].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            format!("  {}", padded.join("  ").trim_end())
        };
        writeln!(out, "{}", line(self.header.clone()))?;
        for row in &self.rows {
            writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
        }
        Ok(())
    }
}

/// A time as the tables show it.
pub(super) fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// The end of an interval: its time, or `held` while open.
pub(super) fn to(interval: &Interval) -> String {
    interval.to.map_or_else(|| "held".to_owned(), time)
}

pub(super) fn ended(interval: &Interval) -> String {
    match &interval.ended {
        // The raw reason only when it says more than the cause.
        Some(ended) if ended.describe().contains(&ended.reason) => ended.describe(),
        Some(ended) => format!("{} [{}]", ended.describe(), ended.reason),
        None => match interval.until {
            Some(until) => format!("(ends {})", time(until)),
            None => String::new(),
        },
    }
}

pub(super) fn via(access: &Access) -> String {
    match &access.via {
        Via::Direct => "direct".to_owned(),
        Via::Inherited { from } => format!("inherited from {from}"),
        Via::WorkspaceAdmin => "workspace admin".to_owned(),
    }
}

/// A person's intervals, one line each.
pub(super) fn intervals_table(intervals: &[Interval]) -> Table {
    let mut table = Table::new(&[
        "from",
        "to",
        "object",
        "kind",
        "level",
        "granted by",
        "ended by",
    ]);
    for interval in intervals {
        table.push(vec![
            time(interval.from),
            to(interval),
            interval.object.clone(),
            interval.kind.as_str().to_owned(),
            interval.level.clone(),
            interval.granted_by.describe(),
            ended(interval),
        ]);
    }
    table
}
