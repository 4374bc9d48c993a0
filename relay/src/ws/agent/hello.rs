//! The console's `hello`: who is logged in, what they may see, every open chat and
//! the latest closed ones, and the chats ringing for them.

use porchlight_protocol::{
    AgentEvent, ChatSummary, ErrorCode, PROTOCOL_VERSION, StatusInfo, to_text,
};

use super::{AgentSession, error, failure};
use crate::chat::events::chat_line;
use crate::chat::ringing;
use crate::store::Role;
use crate::ws::socket::Outcome;

/// Closed chats the console lists at hello.
const RECENT_CLOSED: usize = 50;
/// Chats listed in the welcome itself; the rest follow it as `chat` frames. A socket's
/// write buffer keeps the size of the largest frame it has written for as long as it
/// is open, so a welcome listing 10,000 open chats at once held 2 MB per console.
const WELCOME_CHATS: usize = 100;

impl AgentSession {
    pub(super) async fn hello(&mut self, v: u32) -> Outcome {
        if self.greeted {
            return Outcome::reply(error(
                ErrorCode::HelloRequired,
                "hello was already sent on this socket.",
            ));
        }
        if v != PROTOCOL_VERSION {
            return Outcome::fatal(error(
                ErrorCode::UnsupportedVersion,
                &format!(
                    "This relay speaks protocol version {PROTOCOL_VERSION}; reload the console."
                ),
            ));
        }
        let store = &self.state.store;
        let (statuses, snapshots) = match (store.statuses().await, store.agent_snapshots().await) {
            (Ok(statuses), Ok(snapshots)) => (statuses, snapshots),
            (Err(err), _) | (_, Err(err)) => return failure(&err),
        };
        if let Some(me) = snapshots
            .iter()
            .find(|snapshot| snapshot.id == self.agent.id)
        {
            self.viewer.teams = me
                .teams
                .iter()
                .map(|team| team.to_ascii_lowercase())
                .collect();
        }
        self.state.hub.set_viewer(self.conn, self.viewer.clone());
        // Open chats and the latest closed ones (for the "closed" filter).
        let chats = match (
            store.open_conversations().await,
            store.recent_ended(RECENT_CLOSED).await,
        ) {
            (Ok(open), Ok(ended)) => open
                .iter()
                .chain(&ended)
                .filter(|conversation| self.viewer.can_see(conversation.facts()))
                .map(chat_line)
                .collect(),
            (Err(err), _) | (_, Err(err)) => return failure(&err),
        };
        let status_id = snapshots
            .iter()
            .find(|snapshot| snapshot.id == self.agent.id)
            .and_then(|snapshot| snapshot.status_id);
        let teams = match store.team_names().await {
            Ok(teams) => teams,
            Err(err) => return failure(&err),
        };
        let agents = snapshots
            .iter()
            .map(|snapshot| porchlight_protocol::AgentInfo {
                id: snapshot.id,
                name: snapshot.name.clone(),
            })
            .collect();
        self.greeted = true;
        // Waiting chats ring for this console as frames after the welcome.
        ringing::ring_waiting_for(&self.state, self.agent.id).await;
        let welcome = |chats| AgentEvent::Welcome {
            v: PROTOCOL_VERSION,
            agent: self.agent.info(),
            chats,
            statuses: statuses
                .into_iter()
                .map(|status| StatusInfo {
                    id: status.id,
                    name: status.name,
                    online: status.counts_online,
                })
                .collect(),
            status_id,
            teams,
            agents,
            my_teams: snapshots
                .iter()
                .find(|snapshot| snapshot.id == self.agent.id)
                .map(|snapshot| snapshot.teams.clone())
                .unwrap_or_default(),
            can_toggle_uploads: self.agent.can_toggle_uploads || self.agent.role == Role::Admin,
        };
        Outcome {
            replies: listed(chats, welcome),
            close: false,
        }
    }
}

/// The welcome with the first [`WELCOME_CHATS`] chats, then a `chat` frame for each of
/// the rest, in order.
fn listed(
    mut chats: Vec<ChatSummary>,
    welcome: impl FnOnce(Vec<ChatSummary>) -> AgentEvent,
) -> Vec<String> {
    let rest = chats.split_off(chats.len().min(WELCOME_CHATS));
    let mut frames = Vec::with_capacity(1 + rest.len());
    frames.push(to_text(&welcome(chats)));
    frames.extend(
        rest.into_iter()
            .map(|chat| to_text(&AgentEvent::Chat(chat))),
    );
    frames
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn chat(id: i64) -> ChatSummary {
        serde_json::from_value(json!({
            "conversation_id": id,
            "status": "queued",
            "visitor_id": id,
            "visitor_name": format!("Visitor {id}"),
            "queued_at": 0,
            "last_seq": 1,
        }))
        .unwrap()
    }

    fn welcome(chats: Vec<ChatSummary>) -> AgentEvent {
        serde_json::from_value(json!({
            "type": "welcome",
            "v": PROTOCOL_VERSION,
            "agent": {"id": 1, "name": "Ana"},
            "chats": chats,
            "statuses": [],
        }))
        .unwrap()
    }

    #[test]
    fn a_long_list_follows_the_welcome_one_chat_a_frame_and_none_is_lost() {
        let frames = listed(
            (1..=250)
                .collect::<Vec<_>>()
                .into_iter()
                .map(chat)
                .collect(),
            welcome,
        );
        let frames: Vec<Value> = frames
            .iter()
            .map(|frame| serde_json::from_str(frame).unwrap())
            .collect();
        assert_eq!(frames[0]["type"], "welcome");
        let mut ids: Vec<i64> = frames[0]["chats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|chat| chat["conversation_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), WELCOME_CHATS);
        for frame in &frames[1..] {
            assert_eq!(frame["type"], "chat");
            ids.push(frame["conversation_id"].as_i64().unwrap());
        }
        assert_eq!(ids, (1..=250).collect::<Vec<_>>());
    }

    #[test]
    fn a_short_list_is_the_welcome_alone() {
        let frames = listed(vec![chat(7)], welcome);
        assert_eq!(frames.len(), 1);
        assert!(frames[0].contains(r#""conversation_id":7"#));
    }
}
