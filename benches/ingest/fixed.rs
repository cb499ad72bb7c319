//! Parts 2 and 4: latency at a fixed rate and the memory of `run`. `run` (receivers and
//! worker in one process, RabbitMQ engine) takes signed unique ClickUp deliveries at a fixed
//! rate for a fixed time, open loop over keep-alive connections; its peak resident set
//! (`VmHWM`) is read at the end, with what its worker left queued.

use std::sync::Arc;

use crate::{
    deliveries::ClickUpTemplate,
    load::{self, MakeCall, Outcome},
    router::Setup,
    Bench,
};

/// Keep-alive connections the fixed-rate sender may use at once.
const CONNECTIONS: usize = 64;

/// What the fixed-rate run measured.
pub struct Fixed {
    pub rate: u64,
    pub outcome: Outcome,
    pub rss_at_start_mib: f64,
    pub peak_rss_mib: f64,
    pub queued_after: u64,
}

pub async fn run(bench: &Bench, setup: &Setup) -> Fixed {
    let run = setup.start("run").await;
    let rss_at_start_mib = run.rss_mib();
    let template = Arc::new(ClickUpTemplate::priority(bench.author));
    let make: MakeCall =
        Arc::new(move || template.call(&format!("86b{}", uuid::Uuid::new_v4().simple())));

    let outcome = load::fixed_rate(
        &run.addr,
        bench.rate,
        bench.fixed_for,
        CONNECTIONS,
        202,
        make,
    )
    .await;
    let peak_rss_mib = run.peak_rss_mib();
    let queued_after = bench.queued(&setup.prefix).await;
    let fixed = Fixed {
        rate: bench.rate,
        outcome,
        rss_at_start_mib,
        peak_rss_mib,
        queued_after,
    };
    println!("{}", row(&fixed, bench));
    fixed
}

pub const HEADER: &str = "| rate/s | for | accepted | other/errors | p50 ms | p99 ms | p99.9 ms | max ms | RSS of run when ready | peak RSS of run | queued after |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

pub fn row(fixed: &Fixed, bench: &Bench) -> String {
    let o = &fixed.outcome;
    format!(
        "| {} | {} s | {} | {}/{} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} MiB | {:.1} MiB | {} |",
        fixed.rate,
        bench.fixed_for.as_secs(),
        o.ok,
        o.other,
        o.errors,
        o.quantile_ms(0.50),
        o.quantile_ms(0.99),
        o.quantile_ms(0.999),
        o.quantile_ms(1.0),
        fixed.rss_at_start_mib,
        fixed.peak_rss_mib,
        fixed.queued_after,
    )
}
