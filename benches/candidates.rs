//! Choosing task assignees among 100,000 synthetic identities (issue #5): `Directory::select`
//! with one, two and group conditions, select then least-loaded, and building the directory.
//!
//! Criterion gives the mean; `tails` also times 20,000 single choices of each kind and prints
//! their p50, p99 and max (a choice is one `select`, then least loaded where named).
//!
//! The people are generated from a fixed seed: 100 departments (~1% each), 25 locations,
//! 60 titles, 3 of 40 groups and 2 of 30 roles each; 90% active with a ClickUp account.

use std::{
    collections::HashMap,
    hint::black_box,
    time::{Duration, Instant},
};

use clickup_iam_router::{
    directory::{Attribute, Condition, Directory, Person},
    store::IdentityRecord,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::json;

const PEOPLE: u64 = 100_000;

/// A well-mixed number from `n` and a salt (splitmix64), so every draw is reproducible.
fn draw(n: u64, salt: u64) -> u64 {
    let mut z = n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn person(n: u64) -> IdentityRecord {
    let id = format!("{:032x}", draw(n, 0));
    let groups: Vec<_> = (1..=3)
        .map(|salt| json!({ "name": format!("group-{:02}", draw(n, 10 + salt) % 40) }))
        .collect();
    let roles: Vec<_> = (1..=2)
        .map(|salt| json!({ "name": format!("Role {:02}", draw(n, 20 + salt) % 30) }))
        .collect();
    let kind = ["employee", "employee", "employee", "contractor", "intern"];
    let profile = json!({
        "department": format!("Department {:03}", draw(n, 1) % 100),
        "location": format!("Location {:02}", draw(n, 2) % 25),
        "title": format!("Title {:02}", draw(n, 3) % 60),
        "employment_type": kind[(draw(n, 4) % 5) as usize],
        "division": format!("Division {}", draw(n, 5) % 8),
        "cost_center": format!("CC-{:03}", draw(n, 6) % 300),
        "groups": groups,
        "roles": roles,
    });

    // One in ten is out of reach: half of them disabled, half without an account.
    let (status, account) = match draw(n, 7) % 20 {
        0 => ("disabled", Some(n as i64 + 1)),
        1 => ("active", None),
        _ => ("active", Some(n as i64 + 1)),
    };
    IdentityRecord {
        iam_id: id.clone(),
        email: None,
        status: status.into(),
        attributes: json!({ "id": id, "profile": profile }),
        clickup_user_id: account,
        event_time: 1,
        enabled_at: None,
    }
}

fn records() -> Vec<IdentityRecord> {
    (0..PEOPLE).map(person).collect()
}

/// The candidate with the fewest open tasks; the first in `iam_id` order on a tie.
fn least_loaded<'a>(candidates: &[&'a Person], loads: &HashMap<u64, u32>) -> Option<&'a Person> {
    candidates
        .iter()
        .copied()
        .min_by_key(|person| loads.get(&person.clickup_user_id).copied().unwrap_or(0))
}

fn selections(c: &mut Criterion) {
    let directory = Directory::from_records(records());
    let loads: HashMap<u64, u32> = (1..=PEOPLE)
        .map(|account| (account, (draw(account, 99) % 20) as u32))
        .collect();
    let department = [Condition::new(Attribute::Department, "department 042")];
    let department_and_location = [
        Condition::new(Attribute::Department, "Department 042"),
        Condition::new(Attribute::Location, "Location 07"),
    ];
    let group = [Condition::new(Attribute::Group, "GROUP-13")];

    println!(
        "candidates: department {}, department and location {}, group {}, active {}",
        directory.select(&department).len(),
        directory.select(&department_and_location).len(),
        directory.select(&group).len(),
        directory.active().count()
    );
    let mut group_bench = c.benchmark_group("select");
    group_bench.bench_function("department", |b| {
        b.iter(|| directory.select(black_box(&department)).len())
    });
    group_bench.bench_function("department_and_location", |b| {
        b.iter(|| directory.select(black_box(&department_and_location)).len())
    });
    group_bench.bench_function("group", |b| {
        b.iter(|| directory.select(black_box(&group)).len())
    });
    group_bench.bench_function("department_then_least_loaded", |b| {
        b.iter(|| {
            let candidates = directory.select(black_box(&department));
            least_loaded(&candidates, &loads).map(|person| person.clickup_user_id)
        })
    });
    group_bench.finish();
}

/// One kind of choice, made again on each call.
type Choose<'a> = Box<dyn FnMut() -> usize + 'a>;

/// Single choices timed one by one: the tail criterion's mean hides.
const TIMED: usize = 20_000;

/// p50, p99 and max of `TIMED` calls of `choose`, after as many warm-up calls.
fn tail(mut choose: impl FnMut() -> usize) -> [Duration; 3] {
    for _ in 0..TIMED {
        black_box(choose());
    }
    let mut took: Vec<Duration> = (0..TIMED)
        .map(|_| {
            let started = Instant::now();
            black_box(choose());
            started.elapsed()
        })
        .collect();
    took.sort_unstable();
    let at = |q: f64| took[((TIMED as f64 * q) as usize).min(TIMED - 1)];
    [at(0.50), at(0.99), took[TIMED - 1]]
}

fn tails(_: &mut Criterion) {
    let directory = Directory::from_records(records());
    let loads: HashMap<u64, u32> = (1..=PEOPLE)
        .map(|account| (account, (draw(account, 99) % 20) as u32))
        .collect();
    let department = [Condition::new(Attribute::Department, "department 042")];
    let department_and_location = [
        Condition::new(Attribute::Department, "Department 042"),
        Condition::new(Attribute::Location, "Location 07"),
    ];
    let group = [Condition::new(Attribute::Group, "GROUP-13")];
    let rows: [(&str, Choose); 4] = [
        (
            "department",
            Box::new(|| directory.select(&department).len()),
        ),
        (
            "department_and_location",
            Box::new(|| directory.select(&department_and_location).len()),
        ),
        ("group", Box::new(|| directory.select(&group).len())),
        (
            "department_then_least_loaded",
            Box::new(|| {
                let candidates = directory.select(&department);
                least_loaded(&candidates, &loads).map_or(0, |p| p.clickup_user_id as usize)
            }),
        ),
    ];

    println!("candidate choice among {PEOPLE} identities, {TIMED} single calls each:");
    for (name, choose) in rows {
        let [p50, p99, max] = tail(choose);
        println!("  {name:<30} p50 {p50:>10.1?}  p99 {p99:>10.1?}  max {max:>10.1?}");
    }
}

fn building(c: &mut Criterion) {
    let records = records();
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.bench_function("from_records_100k", |b| {
        b.iter_batched(
            || records.clone(),
            // Returned, so dropping the directory is not timed; dropping the consumed
            // records is, as it is when the worker loads them.
            Directory::from_records,
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, tails, selections, building);
criterion_main!(benches);
