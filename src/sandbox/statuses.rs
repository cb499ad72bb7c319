//! Task statuses: the set a List offers (ClickUp's three defaults unless a test sets its
//! own), the status types, and the `status` objects that task, List and Space reads show.
//!
//! Invariants: a status set is non-empty and its names are unique ignoring case; a request
//! names a status ignoring case, as ClickUp matches them, and reads show the stored spelling.

use anyhow::{bail, ensure};
use serde_json::{json, Value};

/// The group a status belongs to; `open` starts a workflow and `closed` ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusType {
    Open,
    Custom,
    Done,
    Closed,
}

impl StatusType {
    const ALL: [StatusType; 4] = [
        StatusType::Open,
        StatusType::Custom,
        StatusType::Done,
        StatusType::Closed,
    ];

    /// The `type` ClickUp shows on a status.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusType::Open => "open",
            StatusType::Custom => "custom",
            StatusType::Done => "done",
            StatusType::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

    /// Whether a task in a status of this type counts as closed (`date_closed` is set).
    pub fn closes(self) -> bool {
        matches!(self, StatusType::Done | StatusType::Closed)
    }

    /// The colour ClickUp gives its default status of this type.
    fn color(self) -> &'static str {
        match self {
            StatusType::Open => "#d3d3d3",
            StatusType::Custom => "#4194f6",
            StatusType::Done => "#02bcd4",
            StatusType::Closed => "#6bc950",
        }
    }
}

/// One status of a List.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Status {
    pub name: String,
    pub kind: StatusType,
}

impl Status {
    fn new(name: &str, kind: StatusType) -> Self {
        Status {
            name: name.to_owned(),
            kind,
        }
    }
}

/// The statuses of a new Space or List in ClickUp: `to do`, `in progress`, `complete`.
pub(crate) fn default_statuses() -> Vec<Status> {
    vec![
        Status::new("to do", StatusType::Open),
        Status::new("in progress", StatusType::Custom),
        Status::new("complete", StatusType::Closed),
    ]
}

/// A status set from `(name, type)` pairs, in workflow order; `type` is `open`, `custom`,
/// `done` or `closed`. Fails on an empty set, an empty or repeated name, or an unknown type.
pub(crate) fn parse_statuses(pairs: &[(&str, &str)]) -> anyhow::Result<Vec<Status>> {
    ensure!(!pairs.is_empty(), "a List needs at least one status");
    let mut statuses: Vec<Status> = Vec::with_capacity(pairs.len());

    for &(name, kind) in pairs {
        let name = name.trim();
        ensure!(!name.is_empty(), "status names must not be empty");
        if find(&statuses, name).is_some() {
            bail!("status {name:?} is listed twice");
        }
        let Some(kind) = StatusType::parse(kind) else {
            bail!("status type {kind:?} is not open, custom, done or closed");
        };
        statuses.push(Status::new(name, kind));
    }
    Ok(statuses)
}

/// The position and status named `name`, ignoring case and surrounding spaces.
pub(crate) fn find<'a>(statuses: &'a [Status], name: &str) -> Option<(usize, &'a Status)> {
    let name = name.trim();
    statuses
        .iter()
        .enumerate()
        .find(|(_, status)| status.name.eq_ignore_ascii_case(name))
}

/// A `status` object. Ids are `p{owner id}_{position}`: ClickUp's start with `p`, the
/// owning List or Space id and `_`, then a random suffix the sandbox does not imitate.
pub(crate) fn status_json(owner_id: &str, status: &Status, orderindex: usize) -> Value {
    json!({
        "id": format!("p{owner_id}_{orderindex}"),
        "status": status.name,
        "color": status.kind.color(),
        "orderindex": orderindex,
        "type": status.kind.as_str()
    })
}

/// The `statuses` array of a Space, Folder or List.
pub(crate) fn statuses_json(owner_id: &str, statuses: &[Status]) -> Value {
    let items = statuses
        .iter()
        .enumerate()
        .map(|(orderindex, status)| status_json(owner_id, status, orderindex));
    Value::Array(items.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(name, type)` pairs, then the `name:type` list parsed or a fragment of the error.
    type Case<'a> = (&'a [(&'a str, &'a str)], Result<&'a [&'a str], &'a str>);

    #[test]
    fn status_sets_parse_in_order_or_say_what_is_wrong() {
        let cases: [Case; 6] = [
            (
                &[("new", "open"), ("review", "custom"), ("granted", "closed")],
                Ok(&["new:open", "review:custom", "granted:closed"]),
            ),
            (&[(" Shipped ", "done")], Ok(&["Shipped:done"])),
            (&[], Err("at least one status")),
            (&[("new", "open"), ("NEW", "custom")], Err("listed twice")),
            (&[("new", "started")], Err("status type \"started\"")),
            (&[("  ", "open")], Err("must not be empty")),
        ];

        for (pairs, expected) in cases {
            let outcome = parse_statuses(pairs).map(|statuses| {
                statuses
                    .iter()
                    .map(|s| format!("{}:{}", s.name, s.kind.as_str()))
                    .collect::<Vec<_>>()
            });
            match (outcome, expected) {
                (Ok(names), Ok(expected)) => assert_eq!(names, expected, "{pairs:?}"),
                (Err(error), Err(expected)) => {
                    assert!(error.to_string().contains(expected), "{pairs:?}: {error}")
                }
                (outcome, expected) => panic!("{pairs:?}: {outcome:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn statuses_are_found_ignoring_case_and_shown_as_stored() {
        let statuses = default_statuses();

        let cases = [
            ("to do", Some(0)),
            ("In Progress", Some(1)),
            (" COMPLETE ", Some(2)),
            ("done", None),
        ];
        for (name, position) in cases {
            assert_eq!(find(&statuses, name).map(|(i, _)| i), position, "{name}");
        }

        let shown = statuses_json("901100000001", &statuses);
        assert_eq!(
            shown[1],
            json!({
                "id": "p901100000001_1",
                "status": "in progress",
                "color": "#4194f6",
                "orderindex": 1,
                "type": "custom"
            })
        );
        assert_eq!(shown[2]["type"], "closed");
        assert!(StatusType::Closed.closes() && !StatusType::Custom.closes());
    }
}
