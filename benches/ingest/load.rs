//! Keep-alive HTTP/1.1 load: one connection per sender (hyper's client connection, no pool
//! between), either closed loop (each sender sends its next request when the last one is
//! answered) or open loop at a fixed rate (requests start on a schedule, whatever the
//! answers; latency counts from the scheduled start, so a slow answer is never hidden).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{client::conn::http1, Request};
use hyper_util::rt::TokioIo;
use tokio::{
    net::TcpStream,
    sync::{Mutex, Semaphore},
};

/// One request: the path, its headers and body.
pub struct Call {
    pub path: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

/// Makes the next request (unique and freshly signed) each time it is called.
pub type MakeCall = Arc<dyn Fn() -> Call + Send + Sync>;

/// What a run measured: answers with the expected status, others, transport errors, and
/// the latencies (µs) of the expected answers within the measured window.
#[derive(Default)]
pub struct Outcome {
    pub ok: u64,
    pub other: u64,
    pub errors: u64,
    pub latencies_us: Vec<u64>,
    pub window: Duration,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    /// The `q` quantile of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        match sorted.len() {
            0 => f64::NAN,
            n => sorted[((n as f64 * q) as usize).min(n - 1)] as f64 / 1000.0,
        }
    }

    pub fn merge(&mut self, other: Outcome) {
        self.ok += other.ok;
        self.other += other.other;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
    }

    /// Counts one answer: `expect` is the status (or code) of a success.
    pub fn note(&mut self, answer: Result<u16, ()>, expect: u16, took: Duration) {
        match answer {
            Ok(status) if status == expect => {
                self.ok += 1;
                self.latencies_us.push(took.as_micros() as u64);
            }
            Ok(_) => self.other += 1,
            Err(()) => self.errors += 1,
        }
    }
}

type Sender = http1::SendRequest<Full<Bytes>>;

/// A keep-alive connection to `addr`.
pub async fn connect(addr: &str) -> Sender {
    let stream = TcpStream::connect(addr)
        .await
        .expect("connect to the server");
    stream.set_nodelay(true).unwrap();
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(connection);
    sender
}

/// Sends `call` on `sender` and reads the whole answer; the status, or `Err` when the
/// connection failed (the caller connects again).
pub async fn send(sender: &mut Sender, addr: &str, call: Call) -> Result<u16, ()> {
    sender.ready().await.map_err(drop)?;
    let mut request = Request::post(call.path).header("host", addr);
    for (name, value) in call.headers {
        request = request.header(name, value);
    }
    let request = request.body(Full::new(call.body)).unwrap();
    let response = sender.send_request(request).await.map_err(drop)?;
    let status = response.status().as_u16();
    response.into_body().collect().await.map_err(drop)?;
    Ok(status)
}

/// `concurrency` senders, each on its own connection, send back to back for `warmup` and
/// then `measure`; only answers that started and ended inside the measured window count.
pub async fn closed_loop(
    addr: &str,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
    expect: u16,
    make: MakeCall,
) -> Outcome {
    let from = Instant::now() + warmup;
    let until = from + measure;
    let mut senders = Vec::with_capacity(concurrency);

    for _ in 0..concurrency {
        let (addr, make) = (addr.to_owned(), make.clone());
        senders.push(tokio::spawn(async move {
            let mut outcome = Outcome::default();
            let mut sender = connect(&addr).await;
            loop {
                let call = make();
                let started = Instant::now();
                if started >= until {
                    return outcome;
                }
                let answer = send(&mut sender, &addr, call).await;
                if answer.is_err() {
                    sender = connect(&addr).await;
                }
                if started >= from && Instant::now() <= until {
                    outcome.note(answer, expect, started.elapsed());
                }
            }
        }));
    }

    let mut outcome = Outcome {
        window: measure,
        ..Outcome::default()
    };
    for sender in senders {
        outcome.merge(sender.await.unwrap());
    }
    outcome
}

/// `rate` requests a second for `duration`, over at most `connections` keep-alive
/// connections; each latency runs from the request's scheduled start to its whole answer.
pub async fn fixed_rate(
    addr: &str,
    rate: u64,
    duration: Duration,
    connections: usize,
    expect: u16,
    make: MakeCall,
) -> Outcome {
    let mut pool = Vec::with_capacity(connections);
    for _ in 0..connections {
        pool.push(connect(addr).await);
    }
    let pool = Arc::new(Mutex::new(pool));
    let free = Arc::new(Semaphore::new(connections));
    let total = rate * duration.as_secs();
    let started = Instant::now();
    let mut requests = Vec::with_capacity(total as usize);

    for n in 0..total {
        let due = started + Duration::from_nanos(n * 1_000_000_000 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (addr, make, pool, free) = (addr.to_owned(), make.clone(), pool.clone(), free.clone());
        requests.push(tokio::spawn(async move {
            let _permit = free.acquire().await.unwrap();
            let mut sender = pool.lock().await.pop().expect("a free connection");
            let answer = send(&mut sender, &addr, make()).await;
            let took = due.elapsed();
            if answer.is_err() {
                sender = connect(&addr).await;
            }
            pool.lock().await.push(sender);
            (answer, took)
        }));
    }

    let mut outcome = Outcome {
        window: duration,
        ..Outcome::default()
    };
    for request in requests {
        let (answer, took) = request.await.unwrap();
        outcome.note(answer, expect, took);
    }
    outcome
}

/// Sends every call once over `concurrency` keep-alive connections; the statuses, in no
/// particular order (`0` for a transport error).
pub async fn send_all(addr: &str, calls: Vec<Call>, concurrency: usize) -> Vec<u16> {
    let queue = Arc::new(Mutex::new(calls));
    let mut senders = Vec::with_capacity(concurrency);

    for _ in 0..concurrency {
        let (addr, queue) = (addr.to_owned(), queue.clone());
        senders.push(tokio::spawn(async move {
            let mut sender = connect(&addr).await;
            let mut statuses = Vec::new();
            loop {
                let Some(call) = queue.lock().await.pop() else {
                    return statuses;
                };
                match send(&mut sender, &addr, call).await {
                    Ok(status) => statuses.push(status),
                    Err(()) => {
                        statuses.push(0);
                        sender = connect(&addr).await;
                    }
                }
            }
        }));
    }

    let mut statuses = Vec::new();
    for sender in senders {
        statuses.extend(sender.await.unwrap());
    }
    statuses
}
