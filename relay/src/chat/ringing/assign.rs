//! Automatic assignment: a team that assigns rather than rings gives each waiting chat
//! to one agent who can take it, who joins it as if they had clicked it (the store
//! checks the same rules inside the join), and their consoles are told.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use porchlight_protocol::api::people::{Assignment, TeamAssignment};
use porchlight_protocol::{AgentEvent, AgentId, AgentInfo, to_text};

use super::loads;
use super::rules::assignee;
use crate::chat::events;
use crate::state::AppState;
use crate::store::{Conversation, JoinOutcome, now_ms};

/// When each agent was last given a chat, as a running count: round robin gives the
/// next chat to whoever's count is oldest.
#[derive(Debug, Default)]
pub struct Turns {
    given: Mutex<(u64, HashMap<AgentId, u64>)>,
}

impl Turns {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<AgentId, u64>)> {
        self.given
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn last_given(&self) -> HashMap<AgentId, u64> {
        self.lock().1.clone()
    }

    fn give(&self, agent: AgentId) {
        let mut given = self.lock();
        given.0 += 1;
        let turn = given.0;
        given.1.insert(agent, turn);
    }
}

/// Every team's setting (none when they cannot be read: chats then ring).
pub async fn team_settings(state: &AppState) -> Vec<TeamAssignment> {
    state.store.team_assignments().await.unwrap_or_else(|err| {
        tracing::error!(error = %err, "cannot read the teams' assignment");
        Vec::new()
    })
}

/// How a chat for `teams` reaches agents: its first team's setting (no team: ring).
pub fn assignment_for(settings: &[TeamAssignment], teams: &[String]) -> Assignment {
    teams
        .first()
        .and_then(|first| {
            settings
                .iter()
                .find(|team| team.team.eq_ignore_ascii_case(first))
        })
        .map(|team| team.assignment)
        .unwrap_or_default()
}

/// Whom a waiting chat may be given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Among {
    /// Any agent who can take it, but this one (who just passed it on).
    AllBut(Option<AgentId>),
    /// Only this agent, who just got room.
    Only(AgentId),
}

/// Gives the waiting chat to one agent under `assignment`, among `among`, trying the
/// next one if the store refuses the first (capacity changed meanwhile). Says whether
/// the chat is no longer waiting for someone to be given it.
pub async fn assign(
    state: &AppState,
    conversation: &Conversation,
    assignment: Assignment,
    among: Among,
) -> bool {
    let mut refused: HashSet<AgentId> = match among {
        Among::AllBut(agent) => agent.into_iter().collect(),
        Among::Only(_) => HashSet::new(),
    };
    loop {
        let (mut agents, rules) = match loads(state).await {
            Ok(found) => found,
            Err(err) => {
                tracing::error!(error = %err, "cannot work out who to assign");
                return false;
            }
        };
        agents.retain(|agent| {
            !refused.contains(&agent.id)
                && match among {
                    Among::AllBut(_) => true,
                    Among::Only(only) => agent.id == only,
                }
        });
        let last_given = state.turns.last_given();
        let Some(agent) = assignee(&agents, &conversation.teams, rules, assignment, &last_given)
        else {
            return false;
        };
        let info = AgentInfo {
            id: agent.id,
            name: agent.name.clone(),
        };
        let asked_at = now_ms();
        match state.store.join(conversation.id, info, rules).await {
            Ok(JoinOutcome::Joined(joined)) => {
                let (conversation, event) = *joined;
                state.turns.give(agent.id);
                tracing::info!(
                    conversation = conversation.id,
                    agent = agent.id,
                    "chat assigned"
                );
                state
                    .hub
                    .follow_agent(agent.id, conversation.id, event.seq.saturating_sub(1));
                events::joined(state, &conversation, &event, agent.id, asked_at).await;
                let assigned = AgentEvent::Assigned {
                    conversation_id: conversation.id,
                };
                state.hub.send_to_agent(agent.id, to_text(&assigned).into());
                return true;
            }
            Ok(JoinOutcome::AtCapacity | JoinOutcome::NotTicketAgent) => {
                refused.insert(agent.id);
            }
            // Taken, ended or back with the bot meanwhile: nothing to assign.
            Ok(_) => return true,
            Err(err) => {
                tracing::error!(error = %err, "cannot assign a chat");
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chats_first_team_decides_and_no_team_rings() {
        let settings = [
            TeamAssignment {
                team: "Sales".into(),
                assignment: Assignment::LeastBusy,
            },
            TeamAssignment {
                team: "Support".into(),
                assignment: Assignment::Ring,
            },
        ];
        let teams = |names: &[&str]| {
            names
                .iter()
                .map(|name| (*name).to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            assignment_for(&settings, &teams(&["sales", "Support"])),
            Assignment::LeastBusy
        );
        assert_eq!(
            assignment_for(&settings, &teams(&["Support", "Sales"])),
            Assignment::Ring
        );
        assert_eq!(
            assignment_for(&settings, &teams(&["Billing"])),
            Assignment::Ring
        );
        assert_eq!(assignment_for(&settings, &[]), Assignment::Ring);
    }

    #[test]
    fn turns_go_to_whoever_was_given_a_chat_longest_ago() {
        let turns = Turns::default();
        turns.give(2);
        turns.give(1);
        turns.give(2);
        let given = turns.last_given();
        assert!(given[&1] < given[&2]);
    }
}
