//! A TCP forwarder in front of the broker that a test can cut and restore, or stall and
//! resume, to stage a broker outage or a link that hangs without stopping the broker other
//! tests share.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

pub struct BrokerProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    up: AtomicBool,
    /// Connections accepted so far.
    accepted: Arc<AtomicUsize>,
    /// While `true`, connections stay open but no byte passes in either direction.
    stalled: watch::Sender<bool>,
}

impl BrokerProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let proxy = Self {
            addr,
            upstream,
            tasks: Arc::new(Mutex::new(Vec::new())),
            up: AtomicBool::new(true),
            accepted: Arc::new(AtomicUsize::new(0)),
            stalled: watch::channel(false).0,
        };
        proxy.accept(listener);
        proxy
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections the proxy has accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Drops every connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Accepts connections again on the same port (no-op when already up).
    pub async fn restore(&self) {
        if self.up.swap(true, Ordering::SeqCst) {
            return;
        }
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.accept(listener);
    }

    /// Holds every byte in both directions, connections left open (a link that hangs).
    pub fn stall(&self) {
        self.stalled.send_replace(true);
    }

    /// Lets the held bytes through, in order.
    pub fn resume(&self) {
        self.stalled.send_replace(false);
    }

    fn accept(&self, listener: TcpListener) {
        let upstream = self.upstream;
        let tasks = self.tasks.clone();
        let stalled = self.stalled.clone();
        let accepted = self.accepted.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let stalled = stalled.clone();
                let connection = tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        let (client_in, client_out) = client.into_split();
                        let (server_in, server_out) = server.into_split();
                        tokio::join!(
                            forward(client_in, server_out, stalled.subscribe()),
                            forward(server_in, client_out, stalled.subscribe()),
                        );
                    }
                });
                tasks.lock().unwrap().push(connection);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }
}

/// Copies `from` to `to`, holding what was read while the proxy is stalled.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut stalled: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if stalled.wait_for(|stalled| !stalled).await.is_err() {
            break;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
