//! Who a waiting chat rings for, and who may take it. Plain Rust over a snapshot of
//! the agents, so every rule is unit-tested; the store re-checks the rules inside the
//! join transaction, so racing agents never both get a chat.

use std::collections::{BTreeSet, HashMap};

use porchlight_protocol::AgentId;
use porchlight_protocol::api::people::Assignment;

use crate::store::{AccessLevel, ChatFacts, ChatRules};

/// An agent as routing sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLoad {
    pub id: AgentId,
    pub name: String,
    /// Team names, lower-case.
    pub teams: BTreeSet<String>,
    /// Has a console open.
    pub connected: bool,
    /// Their status counts as online for live chat.
    pub status_online: bool,
    /// Live chats they hold now.
    pub active_chats: usize,
    /// Their own limit of concurrent chats, if any.
    pub capacity: Option<usize>,
}

impl AgentLoad {
    /// Room for one more chat under the rules and the agent's own capacity.
    pub fn has_room(&self, rules: ChatRules) -> bool {
        rules.has_room(self.active_chats, self.capacity)
    }

    /// Serves a chat routed to `teams` (no teams: anyone serves it).
    pub fn serves(&self, teams: &[String]) -> bool {
        teams.is_empty()
            || teams
                .iter()
                .any(|team| self.teams.contains(&team.to_ascii_lowercase()))
    }

    /// Can take a chat for `teams` now: connected, online by status, in one of the
    /// teams, with room for another chat.
    fn can_take(&self, teams: &[String], rules: ChatRules) -> bool {
        self.connected && self.status_online && self.serves(teams) && self.has_room(rules)
    }
}

/// The agents a chat for `teams` rings for now: those who can take it.
pub fn ring_targets(agents: &[AgentLoad], teams: &[String], rules: ChatRules) -> Vec<AgentId> {
    if rules.through_tickets {
        return Vec::new();
    }
    agents
        .iter()
        .filter(|agent| agent.can_take(teams, rules))
        .map(|agent| agent.id)
        .collect()
}

/// The one agent a chat for `teams` is given to, among those who can take it: taking
/// turns (whoever was given one longest ago, or never, by `last_given`), or the one
/// with the fewest chats (then taking turns). `None` when the team rings instead, or
/// nobody can take it now.
pub fn assignee<'a>(
    agents: &'a [AgentLoad],
    teams: &[String],
    rules: ChatRules,
    assignment: Assignment,
    last_given: &HashMap<AgentId, u64>,
) -> Option<&'a AgentLoad> {
    if rules.through_tickets {
        return None;
    }
    let turn = |agent: &AgentLoad| last_given.get(&agent.id).copied().unwrap_or(0);
    let able = agents.iter().filter(|agent| agent.can_take(teams, rules));
    match assignment {
        Assignment::Ring => None,
        Assignment::RoundRobin => able.min_by_key(|agent| (turn(agent), agent.id)),
        Assignment::LeastBusy => {
            able.min_by_key(|agent| (agent.active_chats, turn(agent), agent.id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: AgentId, teams: &[&str]) -> AgentLoad {
        AgentLoad {
            id,
            name: format!("Agent {id}"),
            teams: teams.iter().map(|team| team.to_ascii_lowercase()).collect(),
            connected: true,
            status_online: true,
            active_chats: 0,
            capacity: None,
        }
    }

    fn support() -> Vec<String> {
        vec!["Support".into()]
    }

    #[test]
    fn a_chat_rings_for_every_available_agent_of_its_teams() {
        let agents = vec![
            agent(1, &["Support"]),
            agent(2, &["Sales"]),
            agent(3, &["support", "Sales"]),
        ];
        assert_eq!(
            ring_targets(&agents, &support(), ChatRules::default()),
            [1, 3]
        );
        assert_eq!(
            ring_targets(&agents, &[], ChatRules::default()),
            [1, 2, 3],
            "no teams: everyone"
        );
    }

    #[test]
    fn offline_statuses_and_closed_consoles_get_no_rings() {
        let mut away = agent(1, &["Support"]);
        away.status_online = false;
        let mut gone = agent(2, &["Support"]);
        gone.connected = false;
        assert!(ring_targets(&[away, gone], &support(), ChatRules::default()).is_empty());
    }

    #[test]
    fn nothing_rings_when_chats_show_through_tickets() {
        let rules = ChatRules {
            through_tickets: true,
            ..ChatRules::default()
        };
        assert!(ring_targets(&[agent(1, &["Support"])], &support(), rules).is_empty());
    }

    #[test]
    fn one_chat_per_agent_stops_rings_for_agents_already_chatting() {
        let mut busy = agent(1, &["Support"]);
        busy.active_chats = 1;
        let free = agent(2, &["Support"]);
        let rules = ChatRules {
            one_chat_per_agent: true,
            ..ChatRules::default()
        };
        assert_eq!(
            ring_targets(&[busy.clone(), free.clone()], &support(), rules),
            [2]
        );
        assert_eq!(
            ring_targets(&[busy, free], &support(), ChatRules::default()),
            [1, 2],
            "without the rule, a busy agent still rings"
        );
    }

    #[test]
    fn an_agent_at_capacity_gets_no_rings() {
        let mut full = agent(1, &["Support"]);
        full.capacity = Some(2);
        full.active_chats = 2;
        let mut room = agent(2, &["Support"]);
        room.capacity = Some(2);
        room.active_chats = 1;
        assert_eq!(
            ring_targets(&[full, room], &support(), ChatRules::default()),
            [2]
        );
    }

    #[test]
    fn round_robin_gives_chats_in_turn_and_least_busy_to_the_emptiest() {
        let mut agents = vec![
            agent(1, &["Support"]),
            agent(2, &["Support"]),
            agent(3, &["Sales"]),
        ];
        let rules = ChatRules::default();
        let mut given = HashMap::new();
        let mut order = Vec::new();
        for stamp in 1..=4 {
            let next = assignee(&agents, &support(), rules, Assignment::RoundRobin, &given)
                .unwrap()
                .id;
            given.insert(next, stamp);
            order.push(next);
        }
        assert_eq!(order, [1, 2, 1, 2], "turns, within the team");
        agents[0].active_chats = 3;
        agents[1].active_chats = 1;
        let least = assignee(&agents, &support(), rules, Assignment::LeastBusy, &given);
        assert_eq!(least.map(|agent| agent.id), Some(2));
        assert!(assignee(&agents, &support(), rules, Assignment::Ring, &given).is_none());
    }

    #[test]
    fn assignment_respects_capacity_status_and_through_tickets() {
        let mut full = agent(1, &["Support"]);
        full.capacity = Some(2);
        full.active_chats = 2;
        let mut away = agent(2, &["Support"]);
        away.status_online = false;
        let agents = [full, away];
        let given = HashMap::new();
        for assignment in [Assignment::RoundRobin, Assignment::LeastBusy] {
            assert!(
                assignee(
                    &agents,
                    &support(),
                    ChatRules::default(),
                    assignment,
                    &given
                )
                .is_none()
            );
        }
        let tickets = ChatRules {
            through_tickets: true,
            ..ChatRules::default()
        };
        let free = [agent(3, &["Support"])];
        assert!(assignee(&free, &support(), tickets, Assignment::RoundRobin, &given).is_none());
    }
}

/// An agent as visibility sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub id: AgentId,
    pub access: AccessLevel,
    /// Team names, lower-case.
    pub teams: BTreeSet<String>,
}

impl Viewer {
    fn in_teams(&self, teams: &[String]) -> bool {
        teams.is_empty()
            || teams
                .iter()
                .any(|team| self.teams.contains(&team.to_ascii_lowercase()))
    }

    /// Whether the agent may list, open, follow or join the chat.
    pub fn can_see(&self, chat: ChatFacts<'_>) -> bool {
        let mine = chat.holder == Some(self.id) || chat.target_agent == Some(self.id);
        let rings_for_me = chat.waiting
            && chat.target_agent.is_none_or(|target| target == self.id)
            && self.in_teams(chat.teams);
        match self.access {
            AccessLevel::All => true,
            AccessLevel::Team => mine || self.in_teams(chat.teams),
            AccessLevel::Own => mine || rings_for_me,
        }
    }
}

#[cfg(test)]
mod access_tests {
    use super::*;

    fn viewer(access: AccessLevel) -> Viewer {
        Viewer {
            id: 1,
            access,
            teams: ["support".to_owned()].into(),
        }
    }

    #[test]
    fn each_access_level_sees_what_it_should() {
        let support = ["Support".to_owned()];
        let sales = ["Sales".to_owned()];
        let cases = [
            // (holder, target, teams, waiting)
            (
                "mine",
                ChatFacts {
                    holder: Some(1),
                    target_agent: None,
                    teams: &sales,
                    waiting: false,
                },
            ),
            (
                "sent to me",
                ChatFacts {
                    holder: None,
                    target_agent: Some(1),
                    teams: &sales,
                    waiting: true,
                },
            ),
            (
                "waiting in my team",
                ChatFacts {
                    holder: None,
                    target_agent: None,
                    teams: &support,
                    waiting: true,
                },
            ),
            (
                "a colleague's in my team",
                ChatFacts {
                    holder: Some(2),
                    target_agent: None,
                    teams: &support,
                    waiting: false,
                },
            ),
            (
                "waiting in another team",
                ChatFacts {
                    holder: None,
                    target_agent: None,
                    teams: &sales,
                    waiting: true,
                },
            ),
            (
                "another team's",
                ChatFacts {
                    holder: Some(3),
                    target_agent: None,
                    teams: &sales,
                    waiting: false,
                },
            ),
        ];
        let expect = |access: AccessLevel| -> Vec<bool> {
            cases
                .iter()
                .map(|(_, chat)| viewer(access).can_see(*chat))
                .collect()
        };
        assert_eq!(
            expect(AccessLevel::Own),
            [true, true, true, false, false, false]
        );
        assert_eq!(
            expect(AccessLevel::Team),
            [true, true, true, true, false, false]
        );
        assert_eq!(expect(AccessLevel::All), [true; 6]);
    }

    #[test]
    fn access_levels_have_stable_names() {
        for level in [AccessLevel::Own, AccessLevel::Team, AccessLevel::All] {
            assert_eq!(AccessLevel::parse(level.as_str()), Some(level));
        }
        assert_eq!(AccessLevel::parse("everything"), None);
    }
}
