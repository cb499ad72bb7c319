//! The pick among candidates (round robin, least loaded, by field) and the explanation.

use super::{load, rule};
use crate::rules::{choose, explain_assignment, Candidate, Strategy};

fn candidate(user_id: u64, iam_id: &str, load: u32) -> Candidate {
    Candidate {
        user_id,
        iam_id: iam_id.into(),
        load,
    }
}

#[test]
fn round_robin_takes_turns_in_user_id_order() {
    // Given out of order: the turn follows the user ids, 7, 42, 900.
    let candidates = [
        candidate(900, "c", 0),
        candidate(7, "a", 5),
        candidate(42, "b", 1),
    ];

    let mut counts = [0; 3];
    for cursor in 0..30 {
        let chosen = choose(Strategy::RoundRobin, &candidates, cursor);
        let index = chosen.unwrap_or_else(|| panic!("nobody at cursor {cursor}"));
        counts[index] += 1;
    }
    assert_eq!(counts, [10, 10, 10]);

    let turns: Vec<Option<usize>> = (0..4)
        .map(|cursor| choose(Strategy::RoundRobin, &candidates, cursor))
        .collect();
    assert_eq!(turns, [Some(1), Some(2), Some(0), Some(1)]);
    assert_eq!(choose(Strategy::RoundRobin, &candidates, u64::MAX), Some(1));
}

#[test]
fn by_field_takes_turns_like_round_robin() {
    let candidates = [candidate(3, "c", 9), candidate(1, "a", 9)];
    let by_field: Vec<Option<usize>> = (0..4)
        .map(|cursor| choose(Strategy::ByField, &candidates, cursor))
        .collect();
    let round_robin: Vec<Option<usize>> = (0..4)
        .map(|cursor| choose(Strategy::RoundRobin, &candidates, cursor))
        .collect();
    assert_eq!(by_field, [Some(1), Some(0), Some(1), Some(0)]);
    assert_eq!(by_field, round_robin);
}

#[test]
fn least_loaded_picks_the_lightest_and_breaks_ties_by_user_id() {
    let cases: [(&[Candidate], Option<usize>); 4] = [
        (
            &[
                candidate(1, "a", 4),
                candidate(2, "b", 1),
                candidate(3, "c", 2),
            ],
            Some(1),
        ),
        (
            &[
                candidate(9, "a", 1),
                candidate(4, "b", 1),
                candidate(6, "c", 3),
            ],
            Some(1),
        ),
        (&[candidate(5, "z", 0), candidate(5, "y", 0)], Some(1)),
        (&[candidate(8, "a", 0)], Some(0)),
    ];
    for (candidates, expected) in cases {
        for cursor in [0, 1, 17] {
            let chosen = choose(Strategy::LeastLoaded, candidates, cursor);
            assert_eq!(chosen, expected, "{candidates:?} at {cursor}");
        }
    }
}

#[test]
fn nobody_to_choose_from_gives_none() {
    for strategy in [
        Strategy::RoundRobin,
        Strategy::LeastLoaded,
        Strategy::ByField,
    ] {
        assert_eq!(choose(strategy, &[], 3), None, "{strategy:?}");
    }
}

#[test]
fn the_explanation_names_the_rule_each_candidate_and_the_choice() {
    let rules = load(
        r#"
assignments:
  - name: compliance-reviews
    description: Compliance reviews go to the risk function
    match: { list: "901100000950" }
    candidates: { where: { department: Risk }, filter: 'person.title.contains("Analyst")' }
    strategy: round_robin
    fallback: { email: risk-lead@example.com }
  - name: regional
    match: {}
    strategy: by_field
    by_field: { field: Region, attribute: location, map: { EMEA: London } }
    fallback: { group: Operations }
  - { name: bare, match: {}, candidates: { where: { group: sec } }, strategy: least_loaded }
"#,
    );
    let considered = [
        ("Ann".to_owned(), Ok(true)),
        ("Bob".to_owned(), Ok(false)),
        (
            "Cy".to_owned(),
            Err("`filter` No such key: level".to_owned()),
        ),
    ];
    let text = explain_assignment(rule(&rules, "compliance-reviews"), &considered, Some("Ann"));
    assert_eq!(
        text,
        "Assignment rule `compliance-reviews` (a.yaml): Compliance reviews go to the risk function
  candidates where department = \"Risk\"
  filter: person.title.contains(\"Analyst\")
  strategy: round_robin
  fallback: email risk-lead@example.com

Considered:
  kept      Ann
  filtered  Bob: the filter is false, or the person is not active
  filtered  Cy: the filter failed: `filter` No such key: level
Chosen: Ann (round_robin)
"
    );

    let text = explain_assignment(rule(&rules, "regional"), &[], None);
    assert_eq!(
        text,
        "Assignment rule `regional` (a.yaml)
  location from field `Region`: EMEA → London
  strategy: by_field
  fallback: group \"Operations\"

Considered: nobody met the conditions
Chosen: nobody qualified; falls back to group \"Operations\"
"
    );

    let considered = [("Dee".to_owned(), Ok(false))];
    let text = explain_assignment(rule(&rules, "bare"), &considered, None);
    assert!(
        text.contains("  filtered  Dee: the person is not active\n"),
        "{text}"
    );
    assert!(
        text.ends_with("Chosen: nobody qualified; no fallback: the task stays unassigned\n"),
        "{text}"
    );
}
