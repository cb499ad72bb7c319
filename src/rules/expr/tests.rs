//! Compiling and checking expressions, and the `person` value they see.

use chrono::{DateTime, Utc};

use super::{person_value, render_attribute, Cel, ExprError, Scope};
use crate::rules::tests::person;

fn reads(source: &str) -> Vec<String> {
    let compiled = Cel::new().compile(source);
    compiled
        .unwrap_or_else(|error| panic!("{source}: {error:?}"))
        .reads()
        .to_vec()
}

fn refusal(source: &str) -> ExprError {
    match Cel::new().compile(source) {
        Ok(_) => panic!("{source} compiled"),
        Err(error) => error,
    }
}

#[test]
fn compiling_collects_the_person_attributes_read_in_order() {
    let cases: [(&str, &[&str]); 6] = [
        (
            r#"person.department == "Ops" && person.title.contains("M")"#,
            &["person.department", "person.title"],
        ),
        (
            r#"person.title == "a" || person.title == "b""#,
            &["person.title"],
        ),
        (
            r#"person.manager.email.endsWith("@example.com")"#,
            &["person.manager.email"],
        ),
        (
            r#"has(person.custom.flag) && person.custom.flag == "y""#,
            &["person.custom.flag"],
        ),
        (
            r#"person.groups.exists(g, g.startsWith("clickup-"))"#,
            &["person.groups"],
        ),
        ("now < timestamp('2027-01-01T00:00:00Z')", &[]),
    ];
    for (source, expected) in cases {
        assert_eq!(reads(source), expected, "{source}");
    }
}

#[test]
fn unknown_names_and_attributes_are_refused_where_they_are_written() {
    let cases = [
        (
            "person.titel == 'x'",
            1,
            7,
            "unknown attribute `person.titel`",
        ),
        (
            "true &&\n  persn.title == 'x'",
            2,
            3,
            "unknown name `persn`",
        ),
        (
            "person.manager.mail == ''",
            1,
            15,
            "unknown attribute `person.manager.mail`",
        ),
        ("person.title ==", 1, 16, "Syntax error"),
    ];
    for (source, line, column, message) in cases {
        let error = refusal(source);
        assert_eq!(
            (error.line, error.column),
            (line, column),
            "{source}: {error}"
        );
        assert!(error.message.starts_with(message), "{source}: {error}");
    }

    assert!(
        Cel::new().compile("[1, 2].all(person, person > 0)").is_ok(),
        "a bound name shadows"
    );
    assert!(Cel::new().compile("type(person.title) == string").is_ok());
}

#[test]
fn the_person_value_renders_every_kind_of_attribute() {
    let someone = person(&[
        ("title", "Engineer"),
        ("groups", "A,B"),
        ("end_date", "2026-12-31"),
        ("start_date", "2026-03-02"),
        ("manager.email", "m@example.com"),
        ("custom.level", "7"),
    ]);
    let value = person_value(&someone);

    let rendered = |path: &str| render_attribute(&value, path);
    assert_eq!(rendered("person.title"), r#""Engineer""#);
    assert_eq!(rendered("person.department"), r#""""#);
    assert_eq!(rendered("person.groups"), r#"["A", "B"]"#);
    assert_eq!(rendered("person.end_date"), "2026-12-31T23:59:59Z");
    assert_eq!(rendered("person.start_date"), "2026-03-02T00:00:00Z");
    assert_eq!(rendered("person.end_at"), "null");
    assert_eq!(rendered("person.manager.email"), r#""m@example.com""#);
    assert_eq!(
        rendered("person.sponsor"),
        r#"{"display_name": "", "email": "", "id": ""}"#
    );
    assert_eq!(rendered("person.custom.level"), r#""7""#);
    assert_eq!(rendered("person.custom.missing"), "(absent)");
}

#[test]
fn conditions_and_ends_evaluate_against_person_and_now() {
    let cel = Cel::new();
    let now: DateTime<Utc> = "2026-06-01T00:00:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let someone = person(&[("end_date", "2026-12-31"), ("title", "Manager")]);
    let context = cel.context(person_value(&someone), now);
    let compile = |source: &str| {
        cel.compile(source)
            .unwrap_or_else(|e| panic!("{source}: {e}"))
    };

    assert_eq!(compile("person.end_date > now").is_true(&context), Ok(true));
    assert_eq!(
        compile("person.title.lowerAscii() == 'manager'").is_true(&context),
        Ok(true)
    );
    assert_eq!(
        compile("1").is_true(&context),
        Err("gave int, not a bool".into())
    );
    let end = compile("person.end_date").timestamp_or_null(&context);
    assert_eq!(
        end.map(|end| end.map(|end| end.to_rfc3339())),
        Ok(Some("2026-12-31T23:59:59+00:00".into()))
    );
    assert_eq!(
        compile("person.end_at").timestamp_or_null(&context),
        Ok(None)
    );
}

#[test]
fn area_is_a_variable_only_in_the_area_scope() {
    let cel = Cel::new();
    let cases = [
        (
            "area.name == 'Legal'",
            Scope::Person,
            Some("unknown name `area`"),
        ),
        ("area.name == 'Legal'", Scope::Area, None),
        (
            "area.approvers.size() > 0 && person.title != ''",
            Scope::Area,
            None,
        ),
        (
            "area.owner",
            Scope::Area,
            Some("unknown attribute `area.owner`"),
        ),
        (
            "person.titel",
            Scope::Area,
            Some("unknown attribute `person.titel`"),
        ),
        ("[1].all(area, area > 0)", Scope::Person, None),
    ];
    for (source, scope, refused) in cases {
        let compiled = cel.compile_in(source, scope);
        let message = compiled.err().map(|error| error.message);
        let prefix = message
            .as_deref()
            .map(|m| m.split(" (").next().unwrap_or(m));
        let prefix = prefix.map(|m| m.split(':').next().unwrap_or(m));
        assert_eq!(prefix, refused, "{source} in {scope:?}");
    }
}

#[test]
fn string_results_are_a_string_or_lists_of_strings() {
    let cel = Cel::new();
    let now: DateTime<Utc> = "2026-06-01T00:00:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let area = cel::Value::from(std::collections::HashMap::from([(
        "approvers".to_owned(),
        cel::Value::from(vec!["a@example.com".to_owned()]),
    )]));
    let context = cel.area_context(person_value(&person(&[])), area, now);
    let strings = |source: &str| {
        cel.compile_in(source, Scope::Area)
            .unwrap_or_else(|e| panic!("{source}: {e}"))
            .strings(&context)
    };

    let owned = |items: &[&str]| Ok(items.iter().map(|item| item.to_string()).collect());
    assert_eq!(strings("'x'"), owned(&["x"]));
    assert_eq!(
        strings("['x', area.approvers]"),
        owned(&["x", "a@example.com"])
    );
    assert_eq!(strings("[]"), owned(&[]));
    assert_eq!(
        strings("true"),
        Err("gave bool, not a string or a list of strings".to_owned())
    );
}
