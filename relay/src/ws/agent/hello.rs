//! The console's `hello`: who is logged in, what they may see, every open chat and
//! the latest closed ones, and the chats ringing for them.

use porchlight_protocol::{AgentEvent, ErrorCode, PROTOCOL_VERSION, StatusInfo, to_text};

use super::{AgentSession, error, failure};
use crate::chat::events::chat_line;
use crate::chat::ringing;
use crate::store::Role;
use crate::ws::socket::Outcome;

/// Closed chats the console lists at hello.
const RECENT_CLOSED: usize = 50;

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
        Outcome::reply(to_text(&AgentEvent::Welcome {
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
        }))
    }
}
