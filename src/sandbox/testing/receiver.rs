//! A webhook receiver on loopback for tests: it checks `X-Signature` itself (hex-decode,
//! then a constant-time HMAC comparison over the raw body), answers a status the test
//! chooses, can hold requests until released, and keeps every request it got.
//!
//! The secret is looked up by the body's `webhook_id` among the secrets the test gave with
//! [`Receiver::expect`], falling back to the one of [`Receiver::set_secret`]; a body signed
//! with any other secret gets 403, as our own receiver will answer.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU16, Ordering},
        Arc, Mutex,
    },
};

use actix_web::{
    dev::ServerHandle, http::StatusCode, web, App, HttpRequest, HttpResponse, HttpServer,
};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::watch;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub signature: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub signature_valid: bool,
}

impl Seen {
    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON delivery")
    }
}

/// What the receiver shares with the test: the secrets it checks with, the status it
/// answers valid deliveries with, whether it holds requests, and what it saw.
#[derive(Clone)]
struct Inbox {
    secret: Arc<Mutex<String>>,
    secrets: Arc<Mutex<HashMap<String, String>>>,
    status: Arc<AtomicU16>,
    open: Arc<watch::Sender<bool>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A webhook receiver on loopback that checks `X-Signature` itself.
pub(crate) struct Receiver {
    pub url: String,
    inbox: Inbox,
    handle: ServerHandle,
}

impl Receiver {
    /// The secret for deliveries whose webhook the receiver was not told about.
    pub fn set_secret(&self, secret: &str) {
        *self.inbox.secret.lock().expect("secret lock") = secret.to_owned();
    }

    /// The secret for deliveries of this webhook.
    pub fn expect(&self, webhook_id: &str, secret: &str) {
        let mut secrets = self.inbox.secrets.lock().expect("secrets lock");
        secrets.insert(webhook_id.to_owned(), secret.to_owned());
    }

    pub fn answer_with(&self, status: u16) {
        self.inbox.status.store(status, Ordering::SeqCst);
    }

    /// Makes requests wait, unanswered, until [`Receiver::release`].
    pub fn hold(&self) {
        self.inbox.open.send_replace(false);
    }

    pub fn release(&self) {
        self.inbox.open.send_replace(true);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inbox.seen.lock().expect("seen lock").clone()
    }

    /// The bodies seen so far, parsed.
    pub fn bodies(&self) -> Vec<Value> {
        self.seen().iter().map(Seen::json).collect()
    }

    pub async fn stop(self) {
        self.release();
        self.handle.stop(false).await;
    }
}

async fn receive(inbox: web::Data<Inbox>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let mut open = inbox.open.subscribe();
    // An error means the receiver was dropped; answering at once is then fine.
    let _ = open.wait_for(|open| *open).await;

    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let signature = header("x-signature");
    let webhook_id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|json| json["webhook_id"].as_str().map(str::to_owned));
    let known = webhook_id.and_then(|id| {
        inbox
            .secrets
            .lock()
            .expect("secrets lock")
            .get(&id)
            .cloned()
    });
    let secret = known.unwrap_or_else(|| inbox.secret.lock().expect("secret lock").clone());

    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&body);
    let signature_valid =
        hex::decode(&signature).is_ok_and(|bytes| mac.verify_slice(&bytes).is_ok());
    inbox.seen.lock().expect("seen lock").push(Seen {
        signature,
        content_type: header("content-type"),
        body: body.to_vec(),
        signature_valid,
    });

    let status = if signature_valid {
        inbox.status.load(Ordering::SeqCst)
    } else {
        403
    };
    HttpResponse::build(StatusCode::from_u16(status).expect("test status")).finish()
}

/// Starts a receiver on `127.0.0.1:0` that answers 200 to correctly signed deliveries.
pub(crate) async fn start_receiver() -> Receiver {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().expect("receiver address");
    let inbox = Inbox {
        secret: Arc::default(),
        secrets: Arc::default(),
        status: Arc::new(AtomicU16::new(200)),
        open: Arc::new(watch::channel(true).0),
        seen: Arc::default(),
    };

    let data = web::Data::new(inbox.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hooks/clickup", web::post().to(receive))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("receiver listens")
    .run();
    let handle = server.handle();
    tokio::spawn(server);

    Receiver {
        url: format!("http://{address}/hooks/clickup"),
        inbox,
        handle,
    }
}
