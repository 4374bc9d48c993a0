//! The hub: following, publishing, rings, and slow sockets dropped.

use super::*;

fn frame(text: &str) -> Frame {
    Arc::from(text)
}

#[test]
fn followers_get_frames_for_their_conversations_only() {
    let hub = Hub::default();
    let (visitor, mut visitor_rx) = hub.connect(ConnKind::Visitor);
    let (agent, mut agent_rx) = hub.connect(ConnKind::Agent(1));
    let (_other, mut other_rx) = hub.connect(ConnKind::Visitor);
    hub.follow(visitor, 7, 0);
    hub.follow(agent, 7, 0);
    hub.publish(7, Audience::Everyone, None, frame("a"));
    hub.publish(7, Audience::Visitors, None, frame("v"));
    hub.publish(7, Audience::Agents, None, frame("g"));
    hub.publish(8, Audience::Everyone, None, frame("elsewhere"));
    hub.publish(7, Audience::Everyone, Some(visitor), frame("not-echoed"));
    assert_eq!(&*visitor_rx.try_next().unwrap(), "a");
    assert_eq!(&*visitor_rx.try_next().unwrap(), "v");
    assert!(visitor_rx.try_next().is_none());
    assert_eq!(&*agent_rx.try_next().unwrap(), "a");
    assert_eq!(&*agent_rx.try_next().unwrap(), "g");
    assert_eq!(&*agent_rx.try_next().unwrap(), "not-echoed");
    assert!(other_rx.try_next().is_none());
}

#[test]
fn a_socket_that_falls_behind_is_dropped_and_others_still_get_frames() {
    let hub = Hub::default();
    let (slow, mut slow_rx) = hub.connect(ConnKind::Visitor);
    let (fast, mut fast_rx) = hub.connect(ConnKind::Visitor);
    hub.follow(slow, 7, 0);
    hub.follow(fast, 7, 0);
    for n in 0..=OUTBOX_FRAMES {
        hub.publish(7, Audience::Everyone, None, frame(&n.to_string()));
        assert_eq!(&*fast_rx.try_next().unwrap(), n.to_string());
    }
    assert_eq!(hub.counts(), (1, 0), "the slow visitor was dropped");
    assert!(
        slow_rx.is_dropped(),
        "its task is told, so it closes the socket"
    );
    assert!(
        slow_rx.try_next().is_none(),
        "what it had queued is discarded, not written to a reader who is not reading"
    );
}

#[test]
fn a_socket_is_dropped_when_its_queue_passes_its_bytes_before_its_frames() {
    let hub = Hub::default();
    let (slow, slow_rx) = hub.connect(ConnKind::Visitor);
    hub.follow(slow, 7, 0);
    let big = frame(&"x".repeat(OUTBOX_BYTES / 4));
    for _ in 0..4 {
        hub.publish(7, Audience::Everyone, None, Arc::clone(&big));
    }
    assert_eq!(hub.counts(), (1, 0), "four frames fill its bytes");
    hub.publish(7, Audience::Everyone, None, big);
    assert!(
        slow_rx.is_dropped(),
        "the fifth is over {OUTBOX_BYTES} bytes, far under {OUTBOX_FRAMES} frames"
    );
    assert_eq!(hub.counts(), (0, 0));
}

#[test]
fn chat_updates_reach_only_consoles_that_may_see_the_chat() {
    use crate::store::AccessLevel;
    let hub = Hub::default();
    let (support, mut support_rx) = hub.connect(ConnKind::Agent(1));
    let (sales, mut sales_rx) = hub.connect(ConnKind::Agent(2));
    let (_greeting, mut greeting_rx) = hub.connect(ConnKind::Agent(3));
    hub.set_viewer(
        support,
        Viewer {
            id: 1,
            access: AccessLevel::Team,
            teams: ["support".to_owned()].into(),
        },
    );
    hub.set_viewer(
        sales,
        Viewer {
            id: 2,
            access: AccessLevel::Team,
            teams: ["sales".to_owned()].into(),
        },
    );
    let teams = ["Support".to_owned()];
    let chat = ChatFacts {
        holder: None,
        target_agent: None,
        teams: &teams,
        waiting: true,
    };
    hub.publish_chat(chat, frame("support chat"));
    assert_eq!(&*support_rx.try_next().unwrap(), "support chat");
    assert!(sales_rx.try_next().is_none(), "another team's chat");
    assert!(
        greeting_rx.try_next().is_none(),
        "a console that has not said hello"
    );
}

#[test]
fn rings_reach_only_their_agents_and_stop_for_everyone_at_once() {
    let hub = Hub::default();
    let (_, mut ana) = hub.connect(ConnKind::Agent(1));
    let (_, mut ana_tab) = hub.connect(ConnKind::Agent(1));
    let (_, mut bo) = hub.connect(ConnKind::Agent(2));
    let (_, mut cy) = hub.connect(ConnKind::Agent(3));
    hub.ring(7, &[1, 2], frame("ring 7"));
    hub.ring(7, &[1], frame("ring 7 again"));
    for rx in [&mut ana, &mut ana_tab, &mut bo] {
        assert_eq!(&*rx.try_next().unwrap(), "ring 7");
        assert!(rx.try_next().is_none(), "a ring is sent once");
    }
    assert!(cy.try_next().is_none());
    assert_eq!(hub.rings_for(2), [7]);
    hub.stop_ring(7);
    assert_eq!(
        &*ana.try_next().unwrap(),
        r#"{"type":"ring_stop","conversation_id":7}"#
    );
    assert_eq!(
        &*bo.try_next().unwrap(),
        r#"{"type":"ring_stop","conversation_id":7}"#
    );
    assert!(hub.rings_for(2).is_empty());

    // An agent with no console here yet is rung when one opens.
    hub.ring(7, &[4], frame("ring 7"));
    let (_, mut di) = hub.connect(ConnKind::Agent(4));
    assert!(hub.rings_for(4).is_empty());
    hub.ring(7, &[4], frame("ring 7"));
    assert_eq!(&*di.try_next().unwrap(), "ring 7");
    hub.stop_ring(7);

    hub.ring(8, &[1, 2], frame("ring 8"));
    hub.ring(9, &[2], frame("ring 9"));
    while bo.try_next().is_some() {}
    hub.stop_rings_for(2);
    let mut stopped = [bo.try_next().unwrap(), bo.try_next().unwrap()];
    stopped.sort();
    assert_eq!(&*stopped[0], r#"{"type":"ring_stop","conversation_id":8}"#);
    assert_eq!(&*stopped[1], r#"{"type":"ring_stop","conversation_id":9}"#);
    assert_eq!(hub.rings_for(1), [8], "others still ring");
}

#[test]
fn disconnect_and_unfollow_stop_delivery() {
    let hub = Hub::default();
    let (a, mut a_rx) = hub.connect(ConnKind::Agent(1));
    let (b, mut b_rx) = hub.connect(ConnKind::Agent(2));
    hub.follow(a, 1, 0);
    hub.follow(b, 1, 0);
    hub.unfollow(a, 1);
    hub.disconnect(b);
    hub.publish(1, Audience::Everyone, None, frame("x"));
    assert!(a_rx.try_next().is_none());
    assert!(b_rx.try_next().is_none());
    let everything = Viewer {
        id: 1,
        access: crate::store::AccessLevel::All,
        teams: Default::default(),
    };
    hub.set_viewer(a, everything);
    let chat = ChatFacts {
        holder: None,
        target_agent: None,
        teams: &[],
        waiting: true,
    };
    hub.publish_chat(chat, frame("list"));
    assert_eq!(&*a_rx.try_next().unwrap(), "list");
    assert_eq!(hub.counts(), (0, 1));
}

#[test]
fn an_erased_visitors_sockets_are_dropped_and_no_one_elses() {
    let hub = Hub::default();
    let (erased, erased_rx) = hub.connect(ConnKind::Visitor);
    let (other, other_rx) = hub.connect(ConnKind::Visitor);
    let (agent, agent_rx) = hub.connect(ConnKind::Agent(1));
    hub.follow(erased, 7, 0);
    hub.follow(other, 8, 0);
    hub.follow(agent, 7, 0);
    hub.drop_visitors_of(&[7]);
    assert!(erased_rx.is_dropped());
    assert!(!other_rx.is_dropped());
    assert!(
        !agent_rx.is_dropped(),
        "the console following the chat stays"
    );
    assert_eq!(hub.counts(), (1, 1));
}

/// In cluster mode a message from another node can come after this node's own later
/// one; a socket that has just followed still gets both, in order.
#[test]
fn a_new_follower_gets_messages_after_what_it_read_in_order_whichever_comes_first() {
    let hub = Hub::default();
    let _ends = hub.link().unwrap();
    let (visitor, mut visitor_rx) = hub.connect(ConnKind::Visitor);
    // The visitor read seqs up to 5 from the store.
    hub.follow(visitor, 7, 5);
    hub.publish_message(7, 7, None, frame("seven, sent here"));
    assert!(visitor_rx.try_next().is_none(), "six is missing");
    let six = Op::Publish {
        conversation: 7,
        audience: Audience::Everyone,
        seq: Some(6),
    };
    hub.apply_shared(&six, &frame("six, from another node"));
    assert_eq!(&*visitor_rx.try_next().unwrap(), "six, from another node");
    assert_eq!(&*visitor_rx.try_next().unwrap(), "seven, sent here");
    hub.apply_shared(&six, &frame("six again"));
    assert!(visitor_rx.try_next().is_none(), "each once");
}

/// In cluster mode the node hears a conversation's messages while its sockets follow
/// it: the link is told of the first follower and of the last one leaving.
#[test]
fn the_link_hears_of_a_conversations_first_follower_and_its_last_leaving() {
    let hub = Hub::default();
    let (early, _early_rx) = hub.connect(ConnKind::Visitor);
    hub.follow(early, 3, 0);
    let mut ends = hub.link().unwrap();
    assert_eq!(
        ends.interest.try_recv(),
        Ok(Interest::Follow(3)),
        "followed before"
    );
    let (visitor, _visitor_rx) = hub.connect(ConnKind::Visitor);
    let (agent, _agent_rx) = hub.connect(ConnKind::Agent(1));
    hub.follow(visitor, 7, 0);
    hub.follow(agent, 7, 0);
    assert_eq!(ends.interest.try_recv(), Ok(Interest::Follow(7)));
    assert!(ends.interest.try_recv().is_err(), "once, for the first");
    hub.unfollow(visitor, 7);
    assert!(ends.interest.try_recv().is_err(), "one still follows");
    hub.disconnect(agent);
    assert_eq!(ends.interest.try_recv(), Ok(Interest::Unfollow(7)));
}
