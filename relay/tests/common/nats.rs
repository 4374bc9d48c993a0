//! A NATS server for a test: the one `PORCHLIGHT_TEST_NATS` names (a `nats://` URL;
//! never stopped), or a private `nats-server` on a free port, stopped when dropped
//! (and stoppable and startable again on the same port, for outage tests). Each test
//! takes a cluster name of its own, so tests sharing a server never hear each other.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub(crate) struct TestNats {
    url: String,
    /// The server this test started, if it did: its process and port.
    own: Option<(Child, u16)>,
}

impl TestNats {
    pub(crate) fn start() -> Self {
        if let Ok(url) = std::env::var("PORCHLIGHT_TEST_NATS") {
            return Self { url, own: None };
        }
        let (child, port) = serve("-1");
        Self {
            url: format!("nats://127.0.0.1:{port}"),
            own: Some((child, port)),
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A cluster name no other test in this process uses.
    pub(crate) fn cluster_name(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        format!(
            "test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Stops this test's own server (never one it did not start).
    pub(crate) fn stop(&mut self) {
        let (child, _) = self
            .own
            .as_mut()
            .expect("only a server the test started is stopped");
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts this test's own server again on its port.
    pub(crate) fn restart(&mut self) {
        let (child, port) = self
            .own
            .as_mut()
            .expect("only a server the test started is restarted");
        *child = serve(&port.to_string()).0;
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        if let Some((child, _)) = self.own.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `nats-server` on `port` (-1: a free one) and waits until it says where it
/// listens.
fn serve(port: &str) -> (Child, u16) {
    // Debian puts it in /usr/sbin, which a user's PATH may lack.
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|folder| folder.join("nats-server").exists())
    });
    let program = if on_path {
        "nats-server"
    } else {
        "/usr/sbin/nats-server"
    };
    let mut child = Command::new(program)
        .args(["-a", "127.0.0.1", "-p", port])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start nats-server ({err}): `make test-tools` installs it, or set \
                 PORCHLIGHT_TEST_NATS to a server's URL"
            )
        });
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_once("Listening for client connections on ")
                .and_then(|(_, addr)| addr.rsplit_once(':'))
                .and_then(|(_, port)| port.trim().parse::<u16>().ok())
        })
        .expect("nats-server says where it listens");
    // Keep reading its log, so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, port)
}
