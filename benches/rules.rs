//! CEL rule evaluation with the shipped rules (issue #10): a person's whole desired access
//! (`RuleSet::desired`, every mapping's `when` evaluated once, the matched ones merged) for
//! the joiner fixtures.
//!
//! Criterion's throughput is in `when` conditions per second: one element per mapping, since
//! `desired` evaluates each mapping's condition once per call.

use std::{hint::black_box, path::Path};

use chrono::{TimeZone, Utc};
use clickup_iam_router::rules::{Identity, RuleSet};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;

/// The people the shipped rules are evaluated for: an employee and a contractor joiner.
const PEOPLE: [(&str, &str); 2] = [
    ("employee", "iam/01-joiner-employee.json"),
    ("contractor", "iam/02-joiner-contractor-end-date.json"),
];

fn identity(fixture: &str) -> Identity {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let event: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    Identity::from_iam_user(&event["data"]["user"]).unwrap()
}

fn desired(c: &mut Criterion) {
    let rules = RuleSet::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap();
    let mappings = rules.mapping_names().len() as u64;
    // After both start dates and before the contractor's end date: both are active.
    let now = Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap();
    println!("rules: {mappings} mappings in the shipped rules/");

    let mut group = c.benchmark_group("desired");
    group.throughput(Throughput::Elements(mappings));
    for (name, fixture) in PEOPLE {
        let person = identity(fixture);
        let matched = rules.desired(&person, now).unwrap();
        let matched = matched.explanations.iter().filter(|e| e.matched).count();
        println!("rules: {name} matches {matched} of {mappings} mappings");
        group.bench_function(name, |b| {
            b.iter(|| rules.desired(black_box(&person), now).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, desired);
criterion_main!(benches);
