use super::*;
use crate::store::GrantKind;

#[test]
fn durations_read_in_days_hours_and_minutes() {
    let cases = [
        (0, "under a minute"),
        (59_000, "under a minute"),
        (60_000, "1 min"),
        (90 * 60_000, "1 h 30 min"),
        (7 * 24 * 3_600_000, "7 d"),
        (26 * 3_600_000 + 5 * 60_000, "1 d 2 h 5 min"),
    ];
    for (ms, expected) in cases {
        assert_eq!(duration(ms), expected, "{ms} ms");
    }
}

#[test]
fn times_are_written_in_utc() {
    assert_eq!(time(millis(1_764_763_200_000)), "2025-12-03 12:00:00 UTC");
}

#[test]
fn every_value_a_page_shows_is_escaped() {
    let hostile = "<script>alert(\"x\")</script>&'";
    let page = PersonPage {
        nav: Some(Nav {
            display: hostile.into(),
            roles: "auditor".into(),
            csrf: "\"><b>".into(),
            audit: true,
            requests: true,
            admin: false,
        }),
        who: hostile.into(),
        person: Some(PersonView {
            heading: hostile.into(),
            iam_id: hostile.into(),
            status: "active".into(),
            rows: vec![IntervalRow {
                object: hostile.into(),
                kind: GrantKind::Share.as_str(),
                level: "edit".into(),
                from: String::new(),
                to: String::new(),
                until: String::new(),
                granted_by: hostile.into(),
                ended: String::new(),
            }],
        }),
    }
    .render()
    .unwrap();

    assert!(!page.contains("<script>"), "{page}");
    assert!(!page.contains("\"><b>"), "{page}");
    assert!(
        page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"),
        "{page}"
    );
    assert!(
        !page.contains("Dead letters"),
        "an auditor is not offered the admin page"
    );
}

#[test]
fn the_message_page_escapes_its_text() {
    let page = message("Not allowed", "<img src=x onerror=alert(1)>").unwrap();

    assert!(!page.contains("<img"), "{page}");
    assert!(page.contains("Not allowed"));
}
