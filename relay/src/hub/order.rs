//! In cluster mode a conversation's messages reach a node from several places (its
//! own sockets, other nodes over NATS, the store when something went missing) and not
//! always in seq order. Each followed conversation passes them on in seq order, each
//! once: a message after a gap waits while the store is asked for what is missing.

use std::collections::BTreeMap;

use porchlight_protocol::Seq;

use super::{ConnId, Frame};

/// A message frame on its way to a conversation's followers (never to `skip`).
pub(super) struct Pending {
    pub skip: Option<ConnId>,
    pub frame: Frame,
}

/// What one followed conversation has passed on, and what waits behind a gap.
pub(super) struct Order {
    /// Every seq up to here has been passed on (or was before this node followed).
    delivered: Seq,
    held: BTreeMap<Seq, Pending>,
    /// The store has been asked for the messages after `delivered`.
    filling: bool,
}

/// What a node does after offering a message.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Nothing more than passing on what `offer` returned.
    Nothing,
    /// Ask the store for the messages after this seq (a gap opened).
    Fill(Seq),
}

impl Order {
    /// A conversation followed from the message after `seq`: up to it, its followers
    /// read the store.
    pub(super) fn after(seq: Seq) -> Self {
        Self {
            delivered: seq,
            held: BTreeMap::new(),
            filling: false,
        }
    }

    /// Takes message `seq`: returns what may be passed on now, in order (nothing when
    /// it was passed on already or must wait behind a gap).
    pub(super) fn offer(&mut self, seq: Seq, pending: Pending) -> (Vec<Pending>, Next) {
        if seq <= self.delivered || self.held.contains_key(&seq) {
            return (Vec::new(), Next::Nothing);
        }
        self.held.insert(seq, pending);
        let ready = self.release();
        let next = if self.held.is_empty() || self.filling {
            Next::Nothing
        } else {
            self.filling = true;
            Next::Fill(self.delivered)
        };
        (ready, next)
    }

    /// The store answered a fill with `found`: everything it had after `delivered`,
    /// in seq order. A seq below the newest of them that it does not have was erased
    /// since, and is skipped, so one missing message never holds the rest back; a
    /// message held beyond the newest may have been stored after the read: ask again.
    pub(super) fn filled(&mut self, found: Vec<(Seq, Frame)>) -> (Vec<Pending>, Next) {
        self.filling = false;
        let newest = found.last().map(|(seq, _)| *seq);
        for (seq, frame) in found {
            if seq > self.delivered {
                self.held
                    .entry(seq)
                    .or_insert(Pending { skip: None, frame });
            }
        }
        let mut ready = self.release();
        while let Some(first) = self.held.keys().next().copied() {
            if newest.is_some_and(|newest| first > newest) {
                self.filling = true;
                return (ready, Next::Fill(self.delivered));
            }
            self.delivered = first - 1;
            ready.extend(self.release());
        }
        (ready, Next::Nothing)
    }

    /// The highest seq passed on.
    pub(super) fn delivered(&self) -> Seq {
        self.delivered
    }

    fn release(&mut self) -> Vec<Pending> {
        let mut ready = Vec::new();
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != self.delivered + 1 {
                break;
            }
            self.delivered += 1;
            ready.push(entry.remove());
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn pending(text: &str) -> Pending {
        Pending {
            skip: None,
            frame: Arc::from(text),
        }
    }

    fn texts(ready: &[Pending]) -> Vec<&str> {
        ready.iter().map(|pending| &*pending.frame).collect()
    }

    #[test]
    fn messages_in_order_pass_straight_on_and_repeats_are_dropped() {
        let mut order = Order::after(4);
        assert_eq!(texts(&order.offer(5, pending("5")).0), ["5"]);
        assert_eq!(texts(&order.offer(6, pending("6")).0), ["6"]);
        let (again, next) = order.offer(6, pending("6 again"));
        assert!(again.is_empty());
        assert_eq!(next, Next::Nothing);
        assert_eq!(order.delivered(), 6);
    }

    #[test]
    fn a_message_after_a_gap_waits_for_the_one_before_it() {
        let mut order = Order::after(0);
        order.offer(1, pending("1"));
        let (ready, next) = order.offer(3, pending("3"));
        assert!(ready.is_empty(), "3 waits for 2");
        assert_eq!(next, Next::Fill(1), "the store is asked after 1");
        let (ready, next) = order.offer(4, pending("4"));
        assert!(ready.is_empty());
        assert_eq!(next, Next::Nothing, "one fill at a time");
        let (ready, _) = order.offer(2, pending("2"));
        assert_eq!(texts(&ready), ["2", "3", "4"]);
        let (ready, _) = order.filled(vec![(2, Arc::from("2 stored")), (3, Arc::from("3"))]);
        assert!(
            ready.is_empty(),
            "the fill's messages were passed on already"
        );
        assert_eq!(order.delivered(), 4);
    }

    #[test]
    fn a_fill_closes_the_gap_when_the_message_never_comes() {
        let mut order = Order::after(0);
        order.offer(1, pending("1"));
        order.offer(3, pending("3"));
        let (ready, _) = order.filled(vec![(2, Arc::from("2 stored")), (3, Arc::from("3"))]);
        assert_eq!(texts(&ready), ["2 stored", "3"]);
        let (late, _) = order.offer(2, pending("2 late"));
        assert!(late.is_empty(), "passed on once");
    }

    #[test]
    fn a_seq_the_store_no_longer_has_is_skipped() {
        let mut order = Order::after(0);
        order.offer(1, pending("1"));
        order.offer(4, pending("4"));
        let (ready, next) = order.filled(vec![(2, Arc::from("2")), (4, Arc::from("4"))]);
        assert_eq!(
            texts(&ready),
            ["2", "4"],
            "3 was erased: 4 does not wait for it"
        );
        assert_eq!(next, Next::Nothing);
        assert_eq!(order.delivered(), 4);
    }

    #[test]
    fn a_message_held_beyond_what_the_store_had_asks_again() {
        let mut order = Order::after(0);
        order.offer(1, pending("1"));
        order.offer(3, pending("3"));
        order.offer(5, pending("5"));
        let (ready, next) = order.filled(vec![(2, Arc::from("2")), (3, Arc::from("3"))]);
        assert_eq!(texts(&ready), ["2", "3"]);
        assert_eq!(next, Next::Fill(3), "4 may have been stored after the read");
        let (ready, next) = order.filled(vec![(4, Arc::from("4")), (5, Arc::from("5"))]);
        assert_eq!(texts(&ready), ["4", "5"]);
        assert_eq!(next, Next::Nothing);
    }
}
