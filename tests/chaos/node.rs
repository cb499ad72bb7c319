//! A private RabbitMQ node for the chaos suite, from the Debian `rabbitmq-server` install:
//! its own node name, loopback-only AMQP and distribution ports, data and logs in the run's
//! folder and no plugins, so it can be stopped and started again without touching the broker
//! the other tests share. Dropping the guard stops it.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

const SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const CTL: &str = "/usr/lib/rabbitmq/bin/rabbitmqctl";

/// The node, running until [`Node::stop`] or drop.
pub struct Node {
    name: String,
    amqp_port: u16,
    dist_port: u16,
    dir: PathBuf,
    running: bool,
}

/// A free loopback port (free when asked; the node binds it a moment later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Node {
    /// Starts a node whose data and logs live under `dir`, and waits until it serves.
    pub fn start(dir: &Path) -> Node {
        std::fs::write(dir.join("enabled_plugins"), "[].\n").unwrap();
        std::fs::write(dir.join("rabbitmq.conf"), "# the chaos node: defaults\n").unwrap();
        let mut node = Node {
            name: format!("chaos-{}@localhost", std::process::id()),
            amqp_port: free_port(),
            dist_port: free_port(),
            dir: dir.to_owned(),
            running: false,
        };
        node.boot();
        node
    }

    /// `amqp://guest:guest@127.0.0.1:PORT/%2f`
    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.amqp_port)
    }

    /// Stops the whole node (the Erlang VM too), keeping its data.
    pub fn stop(&mut self) {
        let output = self.ctl(&["stop", &self.pid_file().display().to_string()]);
        assert!(
            output.status.success(),
            "rabbitmqctl stop: {}",
            text(&output)
        );
        self.running = false;
    }

    /// Starts the node again on the same ports and data, and waits until it serves.
    pub fn boot(&mut self) {
        let output = self
            .command(SERVER)
            .arg("-detached")
            .output()
            .expect("rabbitmq-server (apt-get install rabbitmq-server)");
        assert!(
            output.status.success(),
            "rabbitmq-server: {}",
            text(&output)
        );
        self.running = true;

        // A detached node takes a moment to register with epmd; `await_startup` fails at
        // once until it has, so poll.
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let output = self.ctl(&["await_startup", "--timeout", "10"]);
            if output.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the chaos node did not start (logs in {}): {}",
                self.dir.join("log").display(),
                text(&output)
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Messages (ready and unacknowledged) per queue whose name starts with `prefix`.
    pub fn queues(&self, prefix: &str) -> Vec<(String, u64)> {
        let output = self.ctl(&["list_queues", "name", "messages", "--no-table-headers"]);
        assert!(output.status.success(), "list_queues: {}", text(&output));
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let name = words.next()?;
                let messages = words.next()?.parse().ok()?;
                name.starts_with(prefix)
                    .then(|| (name.to_owned(), messages))
            })
            .collect()
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("node.pid")
    }

    fn ctl(&self, args: &[&str]) -> Output {
        self.command(CTL)
            .args(["-q", "-n", &self.name])
            .args(args)
            .output()
            .expect("rabbitmqctl")
    }

    /// The server's and the CLI's environment: the node's name, ports bound to loopback
    /// (AMQP and distribution alike), files under the run's folder, no plugins. The Erlang
    /// cookie is the running user's (`~/.erlang.cookie`).
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.dir)
            .env("RABBITMQ_NODENAME", &self.name)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.amqp_port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env(
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-kernel inet_dist_use_interface {127,0,0,1}",
            )
            .env("RABBITMQ_MNESIA_BASE", self.dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", self.dir.join("log"))
            .env("RABBITMQ_PID_FILE", self.pid_file())
            .env(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                self.dir.join("enabled_plugins"),
            )
            .env("RABBITMQ_CONFIG_FILE", self.dir.join("rabbitmq.conf"));
        command
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        let stopped = self.ctl(&["stop", &self.pid_file().display().to_string()]);
        if stopped.status.success() {
            return;
        }
        // The CLI could not reach it: end the VM by the pid it wrote.
        if let Ok(pid) = std::fs::read_to_string(self.pid_file()) {
            let _ = Command::new("kill").arg("-9").arg(pid.trim()).status();
        }
    }
}

fn text(output: &Output) -> String {
    format!(
        "{} {}",
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr).trim()
    )
}
