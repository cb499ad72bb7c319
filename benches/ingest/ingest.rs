//! Part 1, ingest: unique signed ClickUp deliveries over keep-alive connections at increasing
//! concurrency to `serve`, and in the same run, at the same concurrency and message size, the
//! raw lapin publisher with confirms (the limit) and the receivers' actix stack with a no-op
//! handler (the HTTP ceiling). Once on RabbitMQ and once on the embedded engine; the raw
//! publisher publishes to a topology of its own prefix on the bench node (the same quorum
//! queues the router declares), so both engines' rows name the same limit.

use std::{net::TcpListener, sync::Arc, time::Duration};

use clickup_iam_router::{
    bus::{topology::Names, Lane},
    http::ceiling,
    ingest::clickup,
};
use tokio_util::sync::CancellationToken;

use crate::{
    deliveries::ClickUpTemplate,
    load::{self, MakeCall, Outcome},
    raw::{self, Target},
    router::Setup,
    Bench,
};

/// One concurrency level: the router, the raw publisher and the ceiling, measured one
/// after the other.
pub struct Level {
    pub engine: &'static str,
    pub concurrency: usize,
    pub router: Outcome,
    pub raw: Outcome,
    pub ceiling: Outcome,
}

/// Runs every level against `serve` on the engine `setup` names.
pub async fn run(bench: &Bench, setup: &Setup, engine: &'static str) -> Vec<Level> {
    let serve = setup.start("serve").await;
    let template = Arc::new(ClickUpTemplate::priority(bench.author));
    let make: MakeCall = {
        let template = template.clone();
        Arc::new(move || template.call(&format!("86b{}", uuid::Uuid::new_v4().simple())))
    };
    let names = Names::new(&bench.raw_prefix);
    // The envelope the router publishes for one delivery: the raw publisher's message.
    let mut envelope = clickup::normalise(&template.body("86bsize"), chrono::Utc::now())
        .unwrap()
        .remove(0);
    envelope.acceptedat = Some(chrono::Utc::now().timestamp_millis());
    let message = envelope.to_bytes();
    let target = Target {
        amqp_url: bench.node.amqp_url(),
        exchange: names.events_exchange(),
        routing_key: envelope.routingkey.clone(),
        queue: names.queue(Lane::ClickUp),
    };
    let router_queue = Target {
        exchange: String::new(),
        queue: Names::new(&setup.prefix).queue(Lane::ClickUp),
        ..Target::clone(&target)
    };
    let (ceiling_addr, stop_ceiling) = start_ceiling();
    println!(
        "ingest[{engine}]: serve pid {} (for `perf record -p`), delivery {} bytes, \
         published envelope {} bytes, routing key {}",
        serve.pid(),
        template.body("86bsize").len(),
        message.len(),
        target.routing_key
    );

    let mut levels = Vec::new();
    for &concurrency in &bench.levels {
        let (warmup, measure) = (bench.warmup, bench.measure);
        if setup.amqp_url.is_some() {
            raw::purge(&router_queue).await;
        }
        let router =
            load::closed_loop(&serve.addr, concurrency, warmup, measure, 202, make.clone()).await;
        raw::purge(&target).await;
        let raw = raw::publish_loop(&target, &message, concurrency, warmup, measure).await;
        let ceiling = load::closed_loop(
            &ceiling_addr,
            concurrency,
            warmup,
            measure,
            202,
            make.clone(),
        )
        .await;
        let level = Level {
            engine,
            concurrency,
            router,
            raw,
            ceiling,
        };
        println!("{}", row(&level));
        levels.push(level);
    }
    if setup.amqp_url.is_some() {
        raw::purge(&router_queue).await;
    }
    raw::purge(&target).await;
    stop_ceiling.cancel();
    levels
}

/// The no-op server on a free loopback port, in this process.
fn start_ceiling() -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let stop = CancellationToken::new();
    let server = ceiling::serve(listener, 1_048_576, Duration::from_secs(10), stop.clone())
        .expect("the ceiling server");
    tokio::spawn(server);
    (addr, stop)
}

pub const HEADER: &str = "| engine | conc. | router/s | p50 ms | p99 ms | p99.9 ms | raw publisher/s | raw p99 ms | ceiling/s | ceiling p99 ms | router ÷ raw | router ÷ ceiling |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

/// One Markdown table row.
pub fn row(level: &Level) -> String {
    let (r, p, c) = (&level.router, &level.raw, &level.ceiling);
    format!(
        "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {:.2} | {:.0} | {:.2} | {:.2} | {:.2} |{}",
        level.engine,
        level.concurrency,
        r.per_second(),
        r.quantile_ms(0.50),
        r.quantile_ms(0.99),
        r.quantile_ms(0.999),
        p.per_second(),
        p.quantile_ms(0.99),
        c.per_second(),
        c.quantile_ms(0.99),
        r.per_second() / p.per_second(),
        r.per_second() / c.per_second(),
        failures(level),
    )
}

/// Anything but the expected answers, so a fast wrong answer never passes for throughput.
fn failures(level: &Level) -> String {
    let all = [&level.router, &level.raw, &level.ceiling];
    let bad: u64 = all.iter().map(|o| o.other + o.errors).sum();
    match bad {
        0 => String::new(),
        _ => format!(
            " other answers/errors: router {}/{}, raw {}, ceiling {}/{}",
            level.router.other,
            level.router.errors,
            level.raw.other,
            level.ceiling.other,
            level.ceiling.errors
        ),
    }
}
