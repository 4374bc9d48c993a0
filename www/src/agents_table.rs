//! The People page's agents: add one (a one-time password, shown once), and per
//! agent their name, role, teams, access level, capacity, upload permission, whether
//! they are active, and a new one-time password when they are locked out.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::people::{AgentForm, NewAgent, OneTimePassword};

use crate::api;
use crate::people_page::Lists;

#[component]
pub(crate) fn AgentsTable(lists: Lists) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new("agent".to_owned());
    let add = move || {
        lists.add_agent(NewAgent {
            email: email.get_untracked(),
            name: name.get_untracked(),
            role: role.get_untracked(),
        });
        email.set(String::new());
        name.set(String::new());
    };
    view! {
        <section aria-label="Agents">
            <h3>"Agents"</h3>
            <table class="canned-list">
                <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Teams"</th><th>"Default team"</th><th>"Access"</th><th>"Max chats"</th><th>"May switch visitor uploads"</th><th>"Active"</th><th></th></tr></thead>
                <tbody>
                    <For each=move || lists.agents.get() key=|row| format!("{row:?}") children=move |row| view! { <AgentLine row=row lists=lists/> }/>
                </tbody>
            </table>
            <form class="inline-form" on:submit=move |event| { event.prevent_default(); add(); }>
                <input aria-label="New agent's email" placeholder="email" prop:value=move || email.get() on:input=move |event| email.set(event_target_value(&event))/>
                <input aria-label="New agent's name" placeholder="name" prop:value=move || name.get() on:input=move |event| name.set(event_target_value(&event))/>
                <select aria-label="New agent's role" on:change=move |event| role.set(event_target_value(&event))>
                    <option value="agent" selected=true>"Agent"</option>
                    <option value="admin">"Admin"</option>
                </select>
                <button type="submit">"Add agent"</button>
            </form>
        </section>
    }
}

/// A new one-time password for an agent, shown once; their sessions end at once.
fn reset_password(lists: Lists, id: i64, name: String) {
    spawn_local(async move {
        let path = format!("/api/admin/agents/{id}/password");
        let note = match api::send::<OneTimePassword>("POST", &path, &()).await {
            Ok(reset) => format!(
                "{name} is logged out everywhere. Their one-time password: {} (they choose their own at login; unused, it stops working in 7 days)",
                reset.password
            ),
            Err(failure) => failure.message(),
        };
        lists.note.set(Some(note));
    });
}

#[component]
fn AgentLine(row: AgentForm, lists: Lists) -> impl IntoView {
    let draft = RwSignal::new(row.clone());
    let label = row.name.clone();
    let reset_label = label.clone();
    let save = move |_| {
        let row = draft.get_untracked();
        lists.change(
            "PUT",
            format!("/api/admin/agents/{}", row.id),
            row,
            "Agent saved.",
        );
    };
    let select = |options: &'static [(&'static str, &'static str)],
                  current: String,
                  aria: String,
                  set: fn(&mut AgentForm, String)| {
        view! {
            <select aria-label=aria on:change=move |event| { let value = event_target_value(&event); draft.update(|row| set(row, value)); }>
                {options.iter().map(|(value, text)| view! { <option value=*value selected=current == *value>{*text}</option> }).collect_view()}
            </select>
        }
    };
    view! {
        <tr>
            <td><input aria-label=format!("Name of {label}") prop:value=row.name.clone() on:input=move |event| { let value = event_target_value(&event); draft.update(|row| row.name = value); }/></td>
            <td>{row.email.clone()}</td>
            <td>{select(&[("agent", "Agent"), ("admin", "Admin")], row.role.clone(), format!("Role of {label}"), |row, value| row.role = value)}</td>
            <td class="team-picks">
                {let label = label.clone(); move || lists.teams.get().into_iter().map(|team| {
                    let checked = draft.with_untracked(|row| row.teams.contains(&team));
                    let aria = format!("{label} in {team}");
                    let toggled = team.clone();
                    view! {
                        <label><input type="checkbox" aria-label=aria prop:checked=checked on:change=move |event| {
                            let on = event_target_checked(&event);
                            draft.update(|row| {
                                row.teams.retain(|team| *team != toggled);
                                if on { row.teams.push(toggled.clone()); }
                            });
                        }/>{team}</label>
                    }
                }).collect_view()}
            </td>
            <td>
                <select aria-label=format!("Default team of {label}") on:change=move |event| {
                    let value = event_target_value(&event);
                    draft.update(|row| row.default_team = (!value.is_empty()).then_some(value));
                }>
                    <option value="" selected=row.default_team.is_none()>"—"</option>
                    {move || draft.with(|row| row.teams.clone()).into_iter().map(|team| {
                        let selected = draft.with_untracked(|row| row.default_team.as_ref() == Some(&team));
                        view! { <option value=team.clone() selected=selected>{team.clone()}</option> }
                    }).collect_view()}
                </select>
            </td>
            <td>{select(&[("own", "Own chats"), ("team", "Their teams'"), ("all", "All")], row.access.clone(), format!("Access of {label}"), |row, value| row.access = value)}</td>
            <td><input type="number" min="1" class="narrow" aria-label=format!("Max chats of {label}") placeholder="no limit"
                prop:value=row.max_chats.map(|max| max.to_string()).unwrap_or_default()
                on:input=move |event| { let value = event_target_value(&event); draft.update(|row| row.max_chats = value.trim().parse().ok()); }/></td>
            <td><input type="checkbox" aria-label=format!("{label} may switch visitor uploads") prop:checked=row.can_toggle_uploads
                on:change=move |event| { let on = event_target_checked(&event); draft.update(|row| row.can_toggle_uploads = on); }/></td>
            <td><input type="checkbox" aria-label=format!("{label} is active") prop:checked=row.active
                on:change=move |event| { let on = event_target_checked(&event); draft.update(|row| row.active = on); }/></td>
            <td class="actions">
                <button class="ghost" on:click=save>{format!("Save {label}")}</button>
                <button class="ghost" on:click=move |_| reset_password(lists, row.id, reset_label.clone())>{format!("New password for {label}")}</button>
            </td>
        </tr>
    }
}
