//! The hub in cluster mode: every op decided here goes to the other nodes too (the
//! cluster module carries it over NATS), the ops they send are applied here, and the
//! agents online on them count as online.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use porchlight_protocol::{AgentId, ConversationId, Seq};
use tokio::sync::{Notify, mpsc, watch};

use super::apply::publish_to;
use super::op::Op;
use super::order::{Next, Order, Pending};
use super::{Audience, ConnId, Frame, Hub, HubState};

/// A relay process in the cluster: random, new at every start.
pub type NodeId = u64;

/// Ops waiting to go to the other nodes; past this, ops are dropped (and stored
/// messages among them recovered by the receivers from the store).
const OUTGOING_OPS: usize = 65_536;
/// A node not heard from for this long is gone: its agents are offline.
const PEER_STALE: Duration = Duration::from_secs(10);

/// What the hub hands the cluster module, and what it hears back.
pub struct Link {
    outgoing: mpsc::Sender<(Op, Frame)>,
    fills: mpsc::UnboundedSender<(ConversationId, Seq)>,
    presence: Notify,
    peers: Mutex<HashMap<NodeId, Peer>>,
    /// Counts what other nodes said of their agents.
    heard: watch::Sender<u64>,
    /// Ops not shared because the link was behind.
    unshared: AtomicU64,
}

struct Peer {
    agents: HashSet<AgentId>,
    heard: Instant,
}

/// A conversation got its first follower here, or lost its last: the node starts or
/// stops hearing its messages from the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    Follow(ConversationId),
    Unfollow(ConversationId),
}

/// The cluster module's ends of a link.
pub struct LinkEnds {
    /// Ops decided here, for the other nodes.
    pub outgoing: mpsc::Receiver<(Op, Frame)>,
    /// Which conversations are followed here, as that changes (starting with those
    /// followed when the link was made).
    pub interest: mpsc::UnboundedReceiver<Interest>,
    /// Conversations with a gap: the messages after the seq are to be read from the
    /// store and handed to [`Hub::filled`].
    pub fills: mpsc::UnboundedReceiver<(ConversationId, Seq)>,
}

impl Link {
    fn lock_peers(&self) -> std::sync::MutexGuard<'_, HashMap<NodeId, Peer>> {
        self.peers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The agents online on nodes heard from lately.
    pub fn peer_agents(&self) -> HashSet<AgentId> {
        let mut peers = self.lock_peers();
        peers.retain(|_, peer| peer.heard.elapsed() < PEER_STALE);
        peers
            .values()
            .flat_map(|peer| peer.agents.iter().copied())
            .collect()
    }
}

impl Hub {
    /// Joins the hub to a cluster: from now on it shares its ops. Returns `None`
    /// when it was joined already.
    pub fn link(&self) -> Option<LinkEnds> {
        let (outgoing, outgoing_ends) = mpsc::channel(OUTGOING_OPS);
        let (fills, fill_ends) = mpsc::unbounded_channel();
        let link = Link {
            outgoing,
            fills,
            presence: Notify::new(),
            peers: Mutex::new(HashMap::new()),
            heard: watch::Sender::new(0),
            unshared: AtomicU64::new(0),
        };
        self.link.set(link).ok()?;
        let (interest, interest_ends) = mpsc::unbounded_channel();
        let mut state = self.lock();
        for conversation in state.followers.keys() {
            let _ = interest.send(Interest::Follow(*conversation));
        }
        state.interest = Some(interest);
        Some(LinkEnds {
            outgoing: outgoing_ends,
            interest: interest_ends,
            fills: fill_ends,
        })
    }

    /// Applies `op` here and, in cluster mode, sends it to the other nodes.
    pub(super) fn run(&self, op: Op, skip: Option<ConnId>, frame: Frame) {
        self.apply(&op, skip, &frame);
        if let Some(link) = self.link.get()
            && let Err(mpsc::error::TrySendError::Full(_)) = link.outgoing.try_send((op, frame))
        {
            // Said at the 1st, 2nd, 4th, 8th… so an outage does not flood the log.
            let unshared = link.unshared.fetch_add(1, Ordering::Relaxed) + 1;
            if unshared.is_power_of_two() {
                tracing::warn!(unshared, "the cluster link is behind: ops were not shared");
            }
        }
    }

    /// Applies an op another node decided.
    pub fn apply_shared(&self, op: &Op, frame: &Frame) {
        self.apply(op, None, frame);
    }

    /// Records which agents `node` has online (it said so just now).
    pub fn peer_presence(&self, node: NodeId, agents: HashSet<AgentId>) {
        if let Some(link) = self.link.get() {
            let heard = Instant::now();
            link.lock_peers().insert(node, Peer { agents, heard });
            link.heard.send_modify(|count| *count += 1);
        }
    }

    /// Changes each time another node says which agents it has online (cluster mode).
    pub fn presence_heard(&self) -> Option<watch::Receiver<u64>> {
        self.link.get().map(|link| link.heard.subscribe())
    }

    /// Resolves when this node's online agents may have changed (cluster mode only).
    pub async fn presence_changes(&self) {
        match self.link.get() {
            Some(link) => link.presence.notified().await,
            None => std::future::pending().await,
        }
    }

    pub(super) fn presence_changed(&self) {
        if let Some(link) = self.link.get() {
            link.presence.notify_one();
        }
    }

    /// Passes stored message `seq` on to the conversation's followers here, in seq
    /// order and once, asking the store for what a gap is missing.
    pub(super) fn pass_on_in_order(
        &self,
        conversation: ConversationId,
        seq: Seq,
        skip: Option<ConnId>,
        frame: &Frame,
    ) {
        let mut state = self.lock();
        if !state.followers.contains_key(&conversation) {
            return;
        }
        let pending = Pending {
            skip,
            frame: Frame::clone(frame),
        };
        let (ready, next) = state
            .order
            .entry(conversation)
            .or_insert_with(|| Order::after(seq.saturating_sub(1)))
            .offer(seq, pending);
        self.pass_on(state, conversation, ready, next);
    }

    /// The store's messages for a gap in `conversation` (asked for by
    /// [`LinkEnds::fills`]), in seq order.
    pub fn filled(&self, conversation: ConversationId, found: Vec<(Seq, Frame)>) {
        let mut state = self.lock();
        let Some(order) = state.order.get_mut(&conversation) else {
            return;
        };
        let (ready, next) = order.filled(found);
        self.pass_on(state, conversation, ready, next);
    }

    fn pass_on(
        &self,
        mut state: MutexGuard<'_, HubState>,
        conversation: ConversationId,
        ready: Vec<Pending>,
        next: Next,
    ) {
        for pending in ready {
            publish_to(
                &mut state,
                conversation,
                Audience::Everyone,
                pending.skip,
                &pending.frame,
            );
        }
        drop(state);
        if let (Next::Fill(after), Some(link)) = (next, self.link.get()) {
            let _ = link.fills.send((conversation, after));
        }
    }

    /// The followed conversations with the last seq each passed on: the cluster
    /// module checks them against the store now and then, for a message whose op
    /// never arrived and nothing came after.
    pub fn passed_on(&self) -> Vec<(ConversationId, Seq)> {
        self.lock()
            .order
            .iter()
            .map(|(conversation, order)| (*conversation, order.delivered()))
            .collect()
    }

    /// Messages the store has that `conversation` may not have passed on yet.
    pub fn caught_up(&self, conversation: ConversationId, found: Vec<(Seq, Frame)>) {
        for (seq, frame) in found {
            self.pass_on_in_order(conversation, seq, None, &frame);
        }
    }
}
