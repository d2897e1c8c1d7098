//! A `nats-server -js` process for one test: its own free loopback port and store
//! directory, stopped and removed when dropped. Shared by the transport and node tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `nats-server -js` of this test alone, with its own store directory.
pub struct Broker {
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl Broker {
    /// Starts a broker on a free port.
    pub fn start() -> Broker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store =
            std::env::temp_dir().join(format!("mpc-nats-test-{}-{port}", std::process::id()));
        let mut b = Broker {
            port,
            store,
            child: None,
        };
        b.run();
        b
    }

    /// Starts the broker process (again, on the same port and store).
    pub fn run(&mut self) {
        let bin = ["nats-server", "/usr/sbin/nats-server"]
            .into_iter()
            .find(|b| Command::new(b).arg("--version").output().is_ok())
            .expect("nats-server is not installed (apt-get install nats-server)");
        let child = Command::new(bin)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("nats-server did not start on port {}", self.port);
    }

    /// Stops the broker process.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The broker's URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// A client connected to the broker.
    pub async fn client(&self) -> async_nats::Client {
        async_nats::connect(self.url()).await.unwrap()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}
