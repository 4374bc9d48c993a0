//! The admins' People page: agents (in `agents_table`), teams, statuses, ticket
//! categories and the live-chat settings.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::people::{
    AgentForm, Assignment, AssignmentForm, ChatSettings, CreatedAgent, NewAgent, NewTeam,
    StatusForm, TeamAssignment,
};
use porchlight_protocol::api::tickets::TicketCategory;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::agents_table::AgentsTable;
use crate::api;

/// What the page shows, and the note that says what the last change did.
#[derive(Clone, Copy)]
pub(crate) struct Lists {
    pub(crate) agents: RwSignal<Vec<AgentForm>>,
    pub(crate) teams: RwSignal<Vec<String>>,
    assignments: RwSignal<Vec<TeamAssignment>>,
    statuses: RwSignal<Vec<StatusForm>>,
    settings: RwSignal<ChatSettings>,
    pub(crate) note: RwSignal<Option<String>>,
}

async fn get<T: DeserializeOwned>(path: &str) -> Option<T> {
    api::get(path).await.ok()
}

impl Lists {
    pub(crate) async fn load(self) {
        if let Some(agents) = get("/api/admin/agents").await {
            self.agents.set(agents);
        }
        if let Some(teams) = get("/api/admin/teams").await {
            self.teams.set(teams);
        }
        if let Some(assignments) = get("/api/admin/assignment").await {
            self.assignments.set(assignments);
        }
        if let Some(statuses) = get("/api/admin/statuses").await {
            self.statuses.set(statuses);
        }
        if let Some(settings) = get("/api/admin/settings").await {
            self.settings.set(settings);
        }
    }

    /// Sends a change; says what happened and reloads everything.
    pub(crate) fn change(
        self,
        method: &'static str,
        path: String,
        body: impl Serialize + 'static,
        done: &'static str,
    ) {
        spawn_local(async move {
            let note = match api::act(method, &path, Some(&body)).await {
                Ok(()) => done.to_owned(),
                Err(failure) => failure.message(),
            };
            self.note.set(Some(note));
            self.load().await;
        });
    }

    /// Adds an agent and shows their one-time password, once.
    pub(crate) fn add_agent(self, agent: NewAgent) {
        spawn_local(async move {
            let note = match api::send::<CreatedAgent>("POST", "/api/admin/agents", &agent).await {
                Ok(created) => {
                    format!("Agent added. Their one-time password: {}", created.password)
                }
                Err(failure) => failure.message(),
            };
            self.note.set(Some(note));
            self.load().await;
        });
    }
}

#[component]
pub(crate) fn PeoplePage() -> impl IntoView {
    let lists = Lists {
        agents: RwSignal::new(Vec::new()),
        teams: RwSignal::new(Vec::new()),
        assignments: RwSignal::new(Vec::new()),
        statuses: RwSignal::new(Vec::new()),
        settings: RwSignal::new(ChatSettings::default()),
        note: RwSignal::new(None),
    };
    spawn_local(lists.load());
    view! {
        <main class="admin-page">
            <h2>"People and settings"</h2>
            <Show when=move || lists.note.with(Option::is_some)>
                <p class="notice" role="status">{move || lists.note.get().unwrap_or_default()}</p>
            </Show>
            <AgentsTable lists=lists/>
            <Teams lists=lists/>
            <Statuses lists=lists/>
            <ChatRulesForm lists=lists/>
            <Categories lists=lists/>
        </main>
    }
}

#[component]
fn Teams(lists: Lists) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let add = move || {
        lists.change(
            "POST",
            "/api/admin/teams".to_owned(),
            NewTeam {
                name: name.get_untracked(),
            },
            "Team added.",
        );
        name.set(String::new());
    };
    view! {
        <section aria-label="Teams">
            <h3>"Teams"</h3>
            <p class="hint">"How a team's waiting chats reach its agents: they ring for everyone available, or each is given to one agent (in turn, or to whoever has the fewest chats), within capacity and status."</p>
            <table class="canned-list">
                <thead><tr><th>"Team"</th><th>"New chats"</th></tr></thead>
                <tbody>
                    {move || lists.assignments.get().into_iter().map(|row| view! {
                        <TeamRow lists=lists row=row/>
                    }).collect_view()}
                </tbody>
            </table>
            <form class="inline-form" on:submit=move |event| { event.prevent_default(); add(); }>
                <input aria-label="New team" placeholder="team name" prop:value=move || name.get() on:input=move |event| name.set(event_target_value(&event))/>
                <button type="submit">"Add team"</button>
            </form>
        </section>
    }
}

#[component]
fn TeamRow(lists: Lists, row: TeamAssignment) -> impl IntoView {
    let team = row.team.clone();
    let change = move |event: leptos::ev::Event| {
        let assignment = Assignment::parse(&event_target_value(&event));
        let path = format!(
            "/api/admin/assignment/{}",
            String::from(js_sys::encode_uri_component(&team))
        );
        lists.change(
            "PUT",
            path,
            AssignmentForm { assignment },
            "Assignment saved.",
        );
    };
    let choices = [
        (Assignment::Ring, "Ring every available agent"),
        (Assignment::RoundRobin, "Assign in turn (round robin)"),
        (Assignment::LeastBusy, "Assign to the least busy"),
    ];
    view! {
        <tr>
            <td>{row.team.clone()}</td>
            <td><select aria-label=format!("New chats for {}", row.team) on:change=change>
                {choices.into_iter().map(|(value, label)| view! {
                    <option value=value.as_str() selected=value == row.assignment>{label}</option>
                }).collect_view()}
            </select></td>
        </tr>
    }
}

#[component]
fn Statuses(lists: Lists) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let online = RwSignal::new(false);
    let add = move || {
        lists.change(
            "POST",
            "/api/admin/statuses".to_owned(),
            StatusForm {
                id: 0,
                name: name.get_untracked(),
                online: online.get_untracked(),
            },
            "Status added.",
        );
        name.set(String::new());
    };
    view! {
        <section aria-label="Statuses">
            <h3>"Statuses"</h3>
            <table class="canned-list">
                <thead><tr><th>"Name"</th><th>"Counts as online for live chat"</th><th></th></tr></thead>
                <tbody>
                    <For each=move || lists.statuses.get() key=|row| format!("{row:?}") children=move |row| {
                        let draft = RwSignal::new(row.clone());
                        let label = row.name.clone();
                        view! {
                            <tr>
                                <td><input aria-label=format!("Status {label}") prop:value=row.name.clone() on:input=move |event| { let value = event_target_value(&event); draft.update(|row| row.name = value); }/></td>
                                <td><input type="checkbox" aria-label=format!("{label} counts as online") prop:checked=row.online on:change=move |event| { let on = event_target_checked(&event); draft.update(|row| row.online = on); }/></td>
                                <td><button class="ghost" on:click=move |_| {
                                    let row = draft.get_untracked();
                                    lists.change("PUT", format!("/api/admin/statuses/{}", row.id), row.clone(), "Status saved.");
                                }>{format!("Save {label}")}</button></td>
                            </tr>
                        }
                    }/>
                </tbody>
            </table>
            <form class="inline-form" on:submit=move |event| { event.prevent_default(); add(); }>
                <input aria-label="New status" placeholder="status name" prop:value=move || name.get() on:input=move |event| name.set(event_target_value(&event))/>
                <label><input type="checkbox" prop:checked=move || online.get() on:change=move |event| online.set(event_target_checked(&event))/>"counts as online"</label>
                <button type="submit">"Add status"</button>
            </form>
        </section>
    }
}

/// Ticket category fields: a name and its values.
#[component]
fn Categories(lists: Lists) -> impl IntoView {
    let categories = RwSignal::new(Vec::<TicketCategory>::new());
    let reload = move || async move {
        if let Some(list) = get("/api/ticket-categories").await {
            categories.set(list);
        }
    };
    spawn_local(reload());
    let name = RwSignal::new(String::new());
    let values = RwSignal::new(String::new());
    let add = move || {
        let category = TicketCategory {
            name: name.get_untracked(),
            values: values
                .get_untracked()
                .split(',')
                .map(|value| value.trim().to_owned())
                .collect(),
        };
        name.set(String::new());
        values.set(String::new());
        spawn_local(async move {
            let note = match api::act("POST", "/api/admin/categories", Some(&category)).await {
                Ok(()) => "Category added.".to_owned(),
                Err(failure) => failure.message(),
            };
            lists.note.set(Some(note));
            reload().await;
        });
    };
    view! {
        <section aria-label="Ticket categories">
            <h3>"Ticket categories"</h3>
            <ul class="chips">
                {move || categories.get().into_iter().map(|category| view! {
                    <li>{format!("{}: {}", category.name, category.values.join(", "))}</li>
                }).collect_view()}
            </ul>
            <form class="inline-form" on:submit=move |event| { event.prevent_default(); add(); }>
                <input aria-label="New category" placeholder="category" prop:value=move || name.get() on:input=move |event| name.set(event_target_value(&event))/>
                <input aria-label="Its values" placeholder="values, comma-separated" prop:value=move || values.get() on:input=move |event| values.set(event_target_value(&event))/>
                <button type="submit">"Add category"</button>
            </form>
        </section>
    }
}

#[component]
fn ChatRulesForm(lists: Lists) -> impl IntoView {
    let save = move |_| {
        let settings = lists.settings.get_untracked();
        lists.change(
            "PUT",
            "/api/admin/settings".to_owned(),
            settings,
            "Chat settings saved.",
        );
    };
    view! {
        <section aria-label="Chat settings">
            <h3>"Chat settings"</h3>
            <label class="setting"><input type="checkbox"
                prop:checked=move || lists.settings.with(|s| s.prevent_multiple_agents)
                on:change=move |event| { let on = event_target_checked(&event); lists.settings.update(|s| s.prevent_multiple_agents = on); }/>
                "Prevent multiple agents from connecting to a live chat simultaneously"</label>
            <label class="setting"><input type="checkbox"
                prop:checked=move || lists.settings.with(|s| s.one_chat_per_agent)
                on:change=move |event| { let on = event_target_checked(&event); lists.settings.update(|s| s.one_chat_per_agent = on); }/>
                "Agents can only have one live chat open at a time"</label>
            <fieldset class="setting-group">
                <legend>"New live chat display"</legend>
                <label class="setting"><input type="radio" name="display"
                    prop:checked=move || lists.settings.with(|s| s.display != "tickets")
                    on:change=move |_| lists.settings.update(|s| s.display = "ring".to_owned())/>
                    "Ring: new chats ring for the available agents of their teams"</label>
                <label class="setting"><input type="radio" name="display"
                    prop:checked=move || lists.settings.with(|s| s.display == "tickets")
                    on:change=move |_| lists.settings.update(|s| s.display = "tickets".to_owned())/>
                    "Through tickets: each new chat gets a ticket; agents join from the Tickets page"</label>
                <label class="setting"><input type="checkbox"
                    prop:checked=move || lists.settings.with(|s| s.ticket_agent_only)
                    on:change=move |event| { let on = event_target_checked(&event); lists.settings.update(|s| s.ticket_agent_only = on); }/>
                    "Agent must be assigned to the linked ticket to join"</label>
            </fieldset>
            <fieldset class="setting-group">
                <legend>"Abandoned live chats"</legend>
                <label class="setting"><input type="checkbox"
                    prop:checked=move || lists.settings.with(|s| s.abandon.enabled)
                    on:change=move |event| { let on = event_target_checked(&event); lists.settings.update(|s| s.abandon.enabled = on); }/>
                    "Auto-end live chats the visitor abandons before an agent joins"</label>
                <label class="setting">"Ask \"Are you still there?\" after "
                    <input type="number" min="1" class="narrow" aria-label="Ask after minutes"
                        prop:value=move || lists.settings.with(|s| s.abandon.ask_after_minutes.to_string())
                        on:input=move |event| { if let Ok(minutes) = event_target_value(&event).parse() { lists.settings.update(|s| s.abandon.ask_after_minutes = minutes); } }/>
                    " minutes"</label>
                <label class="setting">"End the chat as abandoned after "
                    <input type="number" min="1" class="narrow" aria-label="End after minutes"
                        prop:value=move || lists.settings.with(|s| s.abandon.end_after_minutes.to_string())
                        on:input=move |event| { if let Ok(minutes) = event_target_value(&event).parse() { lists.settings.update(|s| s.abandon.end_after_minutes = minutes); } }/>
                    " minutes since queueing or the last answer"</label>
                <label class="setting"><input type="checkbox"
                    prop:checked=move || lists.settings.with(|s| s.abandon.close_ticket)
                    on:change=move |event| { let on = event_target_checked(&event); lists.settings.update(|s| s.abandon.close_ticket = on); }/>
                    "Also close the linked ticket"</label>
            </fieldset>
            <button on:click=save>"Save chat settings"</button>
        </section>
    }
}
