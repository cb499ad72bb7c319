//! Assignment rules, table-driven: loading and its refusals, which tasks a rule covers, the
//! conditions and filter for candidates, the pick, and the explanation.

mod choosing;
mod covering;
mod facts;
mod loading;

use crate::rules::{AssignmentRule, FieldValue, RuleSet, TaskFacts};

/// Loads one rule file, `a.yaml`, or fails the test.
fn load(text: &str) -> RuleSet {
    RuleSet::from_sources(&[("a.yaml", text)])
        .unwrap_or_else(|error| panic!("rules do not load: {error}\n{text}"))
}

/// The rule called `name`, or fails the test.
fn rule<'r>(rules: &'r RuleSet, name: &str) -> &'r AssignmentRule {
    let found = rules.assignments().iter().find(|rule| rule.name == name);
    found.unwrap_or_else(|| panic!("no assignment rule `{name}`"))
}

/// A task created in list 901100000950 of folder 901100000900 and space 901100000100, named
/// "Q3 Compliance Review: payments", open, tagged Compliance and SOX, with two fields.
fn task() -> TaskFacts {
    TaskFacts {
        event: "taskCreated".into(),
        task_id: "86abc0001".into(),
        name: "Q3 Compliance Review: payments".into(),
        status: "Open".into(),
        list_id: Some("901100000950".into()),
        folder_id: Some("901100000900".into()),
        space_id: Some("901100000100".into()),
        tags: vec!["Compliance".into(), "SOX".into()],
        fields: vec![
            field(
                "5c69d237-0000-4000-8000-00000000f00a",
                "Region",
                Some("EMEA"),
            ),
            field(
                "1f3cc395-0000-4000-8000-00000000000a",
                "Ticket Number",
                Some("1234"),
            ),
        ],
    }
}

fn field(id: &str, name: &str, value: Option<&str>) -> FieldValue {
    FieldValue {
        id: id.into(),
        name: name.into(),
        value: value.map(str::to_owned),
    }
}
