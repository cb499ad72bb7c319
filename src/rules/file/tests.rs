//! Loading rule files: every refusal names file:line:column and the reason; settings default.

use std::time::Duration;

use super::{parse_duration, RuleSettings};
use crate::rules::{RuleSet, RulesError};

const GOOD: &str = r#"
mappings:
  - name: staff
    when: person.employment_type == "employee"
    role: member
"#;

/// Loads `sources` and compares the error's text with `expected`.
fn check_refusal(sources: &[(&str, &str)], expected: &str) {
    match RuleSet::from_sources(sources) {
        Ok(_) => panic!("loaded, expected {expected}"),
        Err(error) => assert_eq!(error.to_string(), expected),
    }
}

#[test]
fn malformed_files_are_refused_at_the_offending_node() {
    let cases = [
        ("mappings:\n  - name: a\n    when: 'true'\n    rolle: member\n",
         "a.yaml:4:5: mappings[0]: unknown field `rolle`, expected one of `name`, `description`, `when`, `role`, `custom_role_id`, `groups`, `shares`"),
        ("mappings:\n  - name: a\n    when: 'true'\n    role: owner\n",
         "a.yaml:4:11: mappings[0].role: unknown variant `owner`, expected one of `guest`, `member`, `admin`"),
        ("mappings:\n  - name: a\n    when: 'true'\n    shares:\n      - { list: \"1\", level: write }\n",
         "a.yaml:5:29: mappings[0].shares[0].level: unknown variant `write`, expected one of `read`, `comment`, `edit`, `create`"),
        ("mappings:\n  - name: a\n    role: guest\n",
         "a.yaml:2:5: mappings[0]: missing field `when`"),
        ("mapping:\n  - name: a\n",
         "a.yaml:1:1: unknown field `mapping`, expected one of `settings`, `mappings`, `access_requests`, `assignments`"),
        ("mappings:\n\t- name: a\n",
         "a.yaml:2:1: found character that cannot start any token, while scanning for the next token"),
    ];
    for (text, expected) in cases {
        check_refusal(&[("a.yaml", text)], expected);
    }
}

#[test]
fn invalid_mappings_are_refused_with_their_name() {
    let cases = [
        ("mappings:\n  - name: a\n    when: 'true'\n    shares:\n      - { level: edit }\n",
         "a.yaml:5:9: mapping `a`: a share needs one of `space`, `folder` or `list`"),
        ("mappings:\n  - name: a\n    when: 'true'\n    shares:\n      - { list: \"\", level: edit }\n",
         "a.yaml:5:17: mapping `a`: the `list` id is empty"),
        ("mappings:\n  - name: a\n    when: 'true'\n    shares:\n      - { list: abc, level: edit }\n",
         "a.yaml:5:17: mapping `a`: `abc` is not a numeric ClickUp id"),
        ("mappings:\n  - name: a\n    when: 'true'\n    shares:\n      - { list: \"1\", folder: \"2\", level: edit }\n",
         "a.yaml:5:9: mapping `a`: a share names only one of `space`, `folder` or `list`"),
        ("mappings:\n  - name: a\n    when: 'true'\n    shares:\n      - { list: \"1\", level: edit }\n      - { list: \"1\", level: read }\n",
         "a.yaml:6:9: mapping `a`: shares list:1 twice"),
        ("mappings:\n  - name: a\n    when: 'true'\n    custom_role_id: 5\n    groups: [x]\n",
         "a.yaml:4:21: mapping `a`: `custom_role_id` needs a `role`"),
        ("mappings:\n  - name: a\n    when: 'true'\n    groups: [\" \"]\n",
         "a.yaml:4:14: mapping `a`: a group name must not be empty"),
        ("mappings:\n  - name: a\n    when: 'true'\n",
         "a.yaml:2:5: mapping `a`: grants nothing: give it a `role`, `groups` or `shares`"),
        ("mappings:\n  - name: \"\"\n    when: 'true'\n    role: guest\n",
         "a.yaml:2:11: a mapping needs a non-empty `name`"),
    ];
    for (text, expected) in cases {
        check_refusal(&[("a.yaml", text)], expected);
    }
}

#[test]
fn expressions_that_do_not_compile_are_placed_inside_the_expression() {
    let syntax = "Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}";
    let cases = [
        ("mappings:\n  - name: x\n    when: person.title ==\n    role: guest\n".to_owned(),
         format!("rules/access.yaml:3:26: mapping `x`: `when` does not compile: {syntax}")),
        ("mappings:\n  - name: x\n    when: \"person.titel == 'a'\"\n    role: guest\n".to_owned(),
         "rules/access.yaml:3:18: mapping `x`: `when` does not compile: unknown attribute `person.titel` (known: id, email, username, display_name, status, employment_type, department, title, location, division, cost_center, organization, company, groups, roles, manager, sponsor, start_date, end_date, end_at, custom)".to_owned()),
        ("mappings:\n  - name: x\n    when: |\n      person.title == 'a' &&\n        persn.department == 'b'\n    role: guest\n".to_owned(),
         "rules/access.yaml:5:9: mapping `x`: `when` does not compile: unknown name `persn`: use `person.<attribute>` or `now`".to_owned()),
        ("mappings:\n  - name: x\n    when: 'true'\n    shares:\n      - { list: \"1\", level: read, until: \"now +\" }\n".to_owned(),
         format!("rules/access.yaml:5:48: mapping `x`: `until` does not compile: {syntax}")),
    ];
    for (text, expected) in &cases {
        check_refusal(&[("rules/access.yaml", text)], expected);
    }
}

#[test]
fn names_are_unique_across_files_and_settings_live_in_one_file() {
    let duplicate = "mappings:\n  - name: other\n    when: 'true'\n    role: guest\n  - name: staff\n    when: 'true'\n    role: guest\n";
    check_refusal(
        &[("a.yaml", GOOD), ("b.yaml", duplicate)],
        "b.yaml:5:11: mapping `staff`: the name is already used at a.yaml:3:11",
    );

    let settings = "settings:\n  brake: { max_people: 3 }\n";
    check_refusal(
        &[("a.yaml", settings), ("b.yaml", settings)],
        "b.yaml:2:3: settings are already given at a.yaml:2:3: keep them in one file",
    );
}

#[test]
fn settings_default_parse_and_refuse_out_of_range_values() {
    let defaults = RuleSet::from_sources(&[("a.yaml", GOOD)]).map(|rules| rules.settings().clone());
    assert_eq!(defaults.ok(), Some(RuleSettings::default()));
    let default = RuleSettings::default();
    assert_eq!(
        (default.brake.max_people, default.brake.max_percent),
        (10, 5.0)
    );
    assert_eq!(default.brake.window, Duration::from_secs(600));
    assert_eq!(
        (default.reminder.before, default.reminder.list_id),
        (Duration::from_secs(604_800), None)
    );

    let text =
        "settings:\n  brake: { max_percent: 2.5, window: 1h30m }\n  reminder: { before: 2d }\n";
    let rules = RuleSet::from_sources(&[("a.yaml", text)]).unwrap_or_else(|e| panic!("{e}"));
    let settings = rules.settings();
    assert_eq!(
        (settings.brake.max_people, settings.brake.max_percent),
        (10, 2.5)
    );
    assert_eq!(settings.brake.window, Duration::from_secs(5400));
    assert_eq!(settings.reminder.before, Duration::from_secs(2 * 86_400));

    let cases = [
        (
            "settings:\n  brake: { window: 10 }\n",
            "a.yaml:2:20: `10` is not a duration such as 30s, 10m, 12h, 7d or 1h30m",
        ),
        (
            "settings:\n  brake: { max_percent: 150 }\n",
            "a.yaml:2:25: `max_percent` must be more than 0 and at most 100",
        ),
        (
            "settings:\n  reminder: { list_id: inbox }\n",
            "a.yaml:2:24: `list_id` must be a numeric ClickUp id, not `inbox`",
        ),
        (
            "settings:\n  brakes: {}\n",
            "a.yaml:2:3: settings: unknown field `brakes`, expected `brake` or `reminder`",
        ),
    ];
    for (text, expected) in cases {
        check_refusal(&[("a.yaml", text)], expected);
    }
}

#[test]
fn durations_take_units_and_sums() {
    let cases = [
        ("30s", Some(30)),
        ("10m", Some(600)),
        ("12h", Some(43_200)),
        ("7d", Some(604_800)),
        ("2w", Some(1_209_600)),
        ("1h30m", Some(5_400)),
        (" 5m ", Some(300)),
        ("10", None),
        ("0m", None),
        ("m", None),
        ("5y", None),
        ("", None),
    ];
    for (text, seconds) in cases {
        let parsed = parse_duration(text).ok().map(|duration| duration.as_secs());
        assert_eq!(parsed, seconds, "{text:?}");
    }
}

#[test]
fn a_directory_loads_its_yaml_files_by_name_and_refuses_when_there_are_none() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"));
    };

    let empty = RuleSet::load_dir(dir.path());
    assert!(
        matches!(empty, Err(RulesError::NoRuleFiles { .. })),
        "{empty:?}"
    );
    let missing = RuleSet::load_dir(&dir.path().join("nope"));
    assert!(
        matches!(missing, Err(RulesError::Read { .. })),
        "{missing:?}"
    );

    write(
        "b.yml",
        "mappings:\n  - { name: second, when: 'true', role: guest }\n",
    );
    write("a.yaml", GOOD);
    write("notes.md", "not rules");
    write("c.yaml", "# nothing yet\n");
    let rules = RuleSet::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rules.mapping_names(), ["staff", "second"]);

    write(
        "d.yaml",
        "mappings:\n  - { name: staff, when: 'true', role: guest }\n",
    );
    let error = RuleSet::load_dir(dir.path())
        .map(|_| ())
        .unwrap_err()
        .to_string();
    let d = dir.path().join("d.yaml").display().to_string();
    assert!(
        error.starts_with(&format!(
            "{d}:2:13: mapping `staff`: the name is already used at "
        )),
        "{error}"
    );
}
