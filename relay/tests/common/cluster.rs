//! Relays in cluster mode for a test: nodes in this process (and, for crash tests,
//! the `porchlight` binary as a process of its own) on one PostgreSQL schema and one
//! NATS server, under a cluster name of the test's own.

use porchlight_relay::store::Durability;

use super::nats::TestNats;
use super::postgres::TestPostgres;
use super::{PATIENCE, TestRelay, Ws, agent_in, start_configured};

pub(crate) struct Cluster {
    pub(crate) nodes: Vec<TestRelay>,
    pub(crate) nats: TestNats,
    /// The schema's URL, and the cluster's name on the NATS server.
    pub(crate) postgres_url: String,
    pub(crate) name: String,
    _postgres: TestPostgres,
}

impl Cluster {
    pub(crate) async fn start(count: usize) -> Self {
        Self::start_losing(count, 0).await
    }

    /// As [`Cluster::start`], each node leaving every `lose_every`-th op unsent.
    pub(crate) async fn start_losing(count: usize, lose_every: u32) -> Self {
        let postgres = TestPostgres::start();
        let postgres_url = postgres.schema().await;
        let nats = TestNats::start();
        let name = nats.cluster_name();
        let mut cluster = Self {
            nodes: Vec::new(),
            nats,
            postgres_url,
            name,
            _postgres: postgres,
        };
        for _ in 0..count {
            cluster.add_node(lose_every).await;
        }
        cluster
    }

    async fn add_node(&mut self, lose_every: u32) {
        let (url, nats_url) = (self.postgres_url.clone(), self.nats.url().to_owned());
        let name = self.name.clone();
        let node = start_configured(tempfile::tempdir().unwrap(), move |config| {
            config.postgres = Some(url);
            config.nats = Some(nats_url);
            config.cluster = name;
            config.durability = Durability::Normal;
            // Every visitor of these tests comes from one address.
            config.limits.chats_per_address = 0;
            config.lose_every_nth_op = lose_every;
        })
        .await;
        self.nodes.push(node);
    }

    /// An agent of the Support team with a console on `node`; returns it and their id.
    pub(crate) async fn console(&self, node: usize, name: &str) -> (Ws, i64) {
        let email = format!("{}@example.com", name.to_lowercase());
        let (ws, _) = agent_in(&self.nodes[node], &email, name, &["Support"]).await;
        let store = &self.nodes[node].state.store;
        let id = store.agent_by_email(&email).await.unwrap().unwrap().id;
        (ws, id)
    }

    /// Waits until every node counts `agents` online (each node says so within
    /// seconds, and at once when a console comes or goes).
    pub(crate) async fn until_online(&self, agents: &[i64]) {
        for node in &self.nodes {
            let hub = &node.state.hub;
            let mut heard = hub.presence_heard().expect("a cluster node");
            tokio::time::timeout(PATIENCE, async {
                while !agents
                    .iter()
                    .all(|agent| hub.online_agents().contains(agent))
                {
                    heard.changed().await.unwrap();
                }
            })
            .await
            .expect("every node hears who is online");
        }
    }

    pub(crate) async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
        drop(self.nats);
    }
}

/// A visitor on `node` whose first message queued a chat; returns it and the chat.
pub(crate) async fn waiting_visitor(node: &TestRelay, text: &str) -> (Ws, i64) {
    let mut visitor = node.visitor().await;
    visitor.hello(None, None).await;
    let ack = visitor.say("v-0", text).await;
    let chat = ack["conversation_id"].as_i64().unwrap();
    (visitor, chat)
}

/// The `porchlight` binary as a node of `cluster`, its own process over `data`;
/// returns it and its address.
pub(crate) async fn spawn_node(
    cluster: &Cluster,
    data: &std::path::Path,
) -> (tokio::process::Child, String) {
    std::fs::create_dir_all(data).unwrap();
    let config = data.join("node.toml");
    std::fs::write(&config, "[limits]\nchats_per_address = 0\n").unwrap();
    let args = [
        "--durability",
        "normal",
        "--postgres",
        &cluster.postgres_url,
        "--nats",
        cluster.nats.url(),
        "--cluster",
        &cluster.name,
    ];
    let mut more: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    more.extend([std::ffi::OsStr::new("--config"), config.as_os_str()]);
    super::process::spawn_relay(data, &more).await
}
