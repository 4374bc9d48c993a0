//! Cluster mode: several relays on one PostgreSQL store share their live state over
//! core NATS. Every hub op a node decides (a ring, a chat-list line, a dropped
//! console) goes to every other node, which applies it to its own sockets; a
//! conversation's messages go on a subject of its own, heard by the nodes whose
//! sockets follow it ([`follow`]). Each node says every few seconds, and at once on a
//! change, which agents it has online.
//!
//! NATS may drop what a slow subscriber does not read, and a node can die between a
//! COMMIT and its publish, so PostgreSQL stays the history: a node that sees a gap in
//! a conversation's seqs reads the missing messages from the store, and now and then
//! asks the store whether the conversations it follows got anything it never heard.

mod changes;
mod follow;
mod recover;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::hub::{Frame, Hub, LinkEnds, NodeId, Op};
use crate::state::AppState;

/// How often a node says which agents it has online (others count it gone after ten
/// seconds of silence).
const PRESENCE_EVERY: Duration = Duration::from_secs(2);
/// How long a stopping node waits for its last word to reach NATS.
const GOODBYE_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot reach NATS at the --nats URL: {0}")]
    Connect(String),
    #[error("cannot subscribe to the cluster's subjects on NATS: {0}")]
    Subscribe(String),
    #[error("the hub was joined to a cluster already")]
    Linked,
}

/// A node's connection to the others, made at start so a wrong URL stops the relay.
pub struct Cluster {
    node: NodeId,
    /// The cluster's name: the first part of its subjects.
    name: String,
    client: async_nats::Client,
    ops_subject: String,
    presence_subject: String,
    ops: async_nats::Subscriber,
    presence: async_nats::Subscriber,
}

impl Cluster {
    /// Connects to NATS and subscribes to the subjects of the cluster `name` (each
    /// cluster on one NATS server has its own).
    pub async fn connect(url: &str, name: &str) -> Result<Self, ClusterError> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the OS random number generator is unavailable");
        let node = NodeId::from_le_bytes(bytes);
        let client = async_nats::ConnectOptions::new()
            .name(format!("porchlight {name} {node:016x}"))
            .no_echo()
            .connection_timeout(Duration::from_secs(5))
            // NATS back after an outage is found within a second.
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(100 * attempts.min(10) as u64)
            })
            .connect(url)
            .await
            .map_err(|err| ClusterError::Connect(err.to_string()))?;
        let ops_subject = format!("{name}.hub");
        let presence_subject = format!("{name}.presence");
        let subscribe = |subject: String| {
            let client = client.clone();
            async move {
                client
                    .subscribe(subject)
                    .await
                    .map_err(|err| ClusterError::Subscribe(err.to_string()))
            }
        };
        let ops = subscribe(ops_subject.clone()).await?;
        let presence = subscribe(presence_subject.clone()).await?;
        Ok(Self {
            node,
            name: name.to_owned(),
            client,
            ops_subject,
            presence_subject,
            ops,
            presence,
        })
    }

    /// Joins the relay's hub to the cluster and keeps it joined until shutdown.
    pub fn run(self, state: &AppState) -> Result<(), ClusterError> {
        let hub = Arc::clone(&state.hub);
        let store = Arc::clone(&state.store);
        let (tracker, shutdown) = (&state.tracker, state.shutdown.clone());
        let ends = hub.link().ok_or(ClusterError::Linked)?;
        let LinkEnds {
            outgoing,
            interest,
            fills,
        } = ends;
        let node = self.node;
        tracker.spawn(send_ops(
            Sending {
                node,
                client: self.client.clone(),
                name: self.name.clone(),
                ops_subject: self.ops_subject,
                lose_every: state.config.lose_every_nth_op,
            },
            outgoing,
            shutdown.clone(),
        ));
        tracker.spawn(follow::hear_followed(
            state.clone(),
            self.client.clone(),
            self.name,
            interest,
        ));
        tracker.spawn(receive_ops(state.clone(), self.ops));
        tracker.spawn(say_presence(
            node,
            Arc::clone(&hub),
            self.client,
            self.presence_subject,
            shutdown.clone(),
        ));
        let listener = Arc::clone(&hub);
        tracker.spawn(each_message(
            self.presence,
            shutdown.clone(),
            move |bytes| match wire::decode_presence(bytes) {
                Ok(heard) => listener.peer_presence(heard.node, heard.agents),
                Err(err) => tracing::warn!(error = %err, "ignored"),
            },
        ));
        tracker.spawn(recover::fill_gaps(
            Arc::clone(&hub),
            Arc::clone(&store),
            fills,
            shutdown.clone(),
        ));
        tracker.spawn(recover::catch_up(hub, store, shutdown));
        Ok(())
    }
}

struct Sending {
    node: NodeId,
    client: async_nats::Client,
    /// The cluster's name, for a conversation's subject.
    name: String,
    /// The subject of every op but a conversation's messages.
    ops_subject: String,
    /// See [`crate::config::Config::lose_every_nth_op`].
    lose_every: u32,
}

async fn send_ops(
    sending: Sending,
    mut outgoing: mpsc::Receiver<(Op, Frame)>,
    shutdown: CancellationToken,
) {
    let Sending {
        node,
        client,
        name,
        ops_subject,
        lose_every,
    } = sending;
    let ops_subject = async_nats::Subject::from(ops_subject);
    let mut sent: u32 = 0;
    let publish = async |op: Op, frame: Frame, sent: u32| {
        if lose_every > 0 && sent.is_multiple_of(lose_every) {
            return;
        }
        // A conversation's frames go only to the nodes that follow it, and in the
        // order they were decided with the sockets it no longer lets see it.
        let subject = match &op {
            Op::Publish { conversation, .. } | Op::UnfollowUnseeing { conversation, .. } => {
                follow::subject(&name, *conversation)
            }
            _ => ops_subject.clone(),
        };
        let payload = wire::encode_op(node, op, &frame);
        if let Err(err) = client.publish(subject, payload.into()).await {
            tracing::warn!(error = %err, "cannot share an op with the cluster");
        }
    };
    loop {
        let (op, frame) = tokio::select! {
            next = outgoing.recv() => match next {
                Some(next) => next,
                None => return,
            },
            () = shutdown.cancelled() => break,
        };
        sent = sent.wrapping_add(1);
        publish(op, frame, sent).await;
    }
    // What was decided before the stop still reaches the others.
    while let Ok((op, frame)) = outgoing.try_recv() {
        sent = sent.wrapping_add(1);
        publish(op, frame, sent).await;
    }
    let _ = tokio::time::timeout(GOODBYE_WAIT, client.flush()).await;
}

/// Applies the other nodes' ops here, in the order they were sent: a change to what
/// nodes keep in memory is applied before the ops after it.
async fn receive_ops(state: AppState, mut ops: async_nats::Subscriber) {
    loop {
        let message = tokio::select! {
            next = ops.next() => match next {
                Some(message) => message,
                None => return deaf(),
            },
            () = state.shutdown.cancelled() => return,
        };
        match wire::decode_op(&message.payload) {
            Ok((_, Op::Changed { change }, _)) => changes::apply(&state, change).await,
            Ok((_, op, frame)) => state.hub.apply_shared(&op, &frame),
            Err(err) => tracing::warn!(error = %err, "ignored"),
        }
    }
}

/// A subscription ended (the NATS client closed for good): this node no longer hears
/// the others, so the operator must know.
fn deaf() {
    tracing::error!(
        "the cluster's NATS subscription ended: this node no longer hears the others; restart it"
    );
}

/// Hands each message of `subscriber` to `handle` until shutdown.
async fn each_message(
    mut subscriber: async_nats::Subscriber,
    shutdown: CancellationToken,
    handle: impl Fn(&[u8]),
) {
    loop {
        tokio::select! {
            next = subscriber.next() => match next {
                Some(message) => handle(&message.payload),
                None => return deaf(),
            },
            () = shutdown.cancelled() => return,
        }
    }
}

async fn say_presence(
    node: NodeId,
    hub: Arc<Hub>,
    client: async_nats::Client,
    subject: String,
    shutdown: CancellationToken,
) {
    let mut every = tokio::time::interval(PRESENCE_EVERY);
    loop {
        let stopping = tokio::select! {
            _ = every.tick() => false,
            () = hub.presence_changes() => false,
            () = shutdown.cancelled() => true,
        };
        // A node that stops says it has nobody, rather than being counted until it
        // goes stale.
        let agents = match stopping {
            false => hub.local_agents(),
            true => Default::default(),
        };
        let payload = wire::encode_presence(&wire::Presence { node, agents });
        if let Err(err) = client.publish(subject.clone(), payload.into()).await {
            tracing::warn!(error = %err, "cannot tell the cluster who is online");
        }
        if stopping {
            let _ = tokio::time::timeout(GOODBYE_WAIT, client.flush()).await;
            return;
        }
    }
}
