//! The Tickets page: the tickets this agent may see, newest first. Through tickets,
//! this is where agents take a waiting chat: take the ticket, then join its chat.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::ConversationStatus;
use porchlight_protocol::api::tickets::{
    Assignment, NewTicket, ReplyQueued, TicketCategory, TicketDetail, TicketLine, TicketReply,
    TicketStatus,
};

use crate::api;
use crate::state::ConsoleState;

async fn load(tickets: RwSignal<Vec<TicketLine>>) {
    if let Ok(list) = api::get("/api/tickets").await {
        tickets.set(list);
    }
}

/// A request body as the JSON `change` sends.
fn typed(body: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(body).unwrap_or_default()
}

fn chat_label(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::Bot => "With the bot",
        ConversationStatus::Queued => "Waiting",
        ConversationStatus::Active => "Ongoing",
        ConversationStatus::Ended => "Ended",
    }
}

/// The page's lists and the ticket open below them.
#[derive(Clone, Copy)]
struct Desk {
    state: RwSignal<ConsoleState>,
    tickets: RwSignal<Vec<TicketLine>>,
    note: RwSignal<Option<String>>,
    opened: RwSignal<Option<TicketDetail>>,
    categories: RwSignal<Vec<TicketCategory>>,
    /// The open ticket shows its chats (else its notes); kept as tickets reload.
    show_chats: RwSignal<bool>,
    /// What became of the last reply: the ticket and a line saying so.
    replied: RwSignal<Option<(i64, String)>>,
    on_join: Callback<i64>,
}

impl Desk {
    fn open(self, id: i64) {
        spawn_local(async move {
            if let Ok(detail) = api::get(&format!("/api/tickets/{id}")).await {
                self.opened.set(Some(detail));
            }
        });
    }

    /// A change, then the list and the open ticket again.
    fn change(self, method: &'static str, path: String, body: serde_json::Value) {
        spawn_local(async move {
            match api::act(method, &path, Some(&body)).await {
                Ok(()) => self.note.set(None),
                Err(failure) => self.note.set(Some(failure.message())),
            }
            load(self.tickets).await;
            if let Some(id) = self.opened.get_untracked().map(|detail| detail.ticket.id)
                && let Ok(detail) = api::get(&format!("/api/tickets/{id}")).await
            {
                self.opened.set(Some(detail));
            }
        });
    }

    fn me(self) -> Option<i64> {
        self.state.with_untracked(|s| s.me.as_ref().map(|me| me.id))
    }

    fn take(self, id: i64) {
        self.change(
            "PUT",
            format!("/api/tickets/{id}/agent"),
            typed(&Assignment {
                agent_id: self.me(),
            }),
        );
    }
}

#[component]
pub(crate) fn TicketsPage(state: RwSignal<ConsoleState>, on_join: Callback<i64>) -> impl IntoView {
    let desk = Desk {
        state,
        tickets: RwSignal::new(Vec::new()),
        note: RwSignal::new(None),
        opened: RwSignal::new(None),
        categories: RwSignal::new(Vec::new()),
        show_chats: RwSignal::new(false),
        replied: RwSignal::new(None),
        on_join,
    };
    let filter = RwSignal::new("open");
    let subject = RwSignal::new(String::new());
    let requester = RwSignal::new(String::new());
    spawn_local(async move {
        if let Ok(list) = api::get("/api/ticket-categories").await {
            desk.categories.set(list);
        }
    });
    // Chats and tickets change on the socket; the list follows them (and not every
    // other change to the console's state, such as each message).
    let changes = Memo::new(move |_| {
        state.with(|s| {
            let chats: Vec<_> = s
                .chats
                .values()
                .map(|chat| (chat.conversation_id, chat.status))
                .collect();
            (chats, s.tickets_changed)
        })
    });
    Effect::new(move |_| {
        changes.track();
        spawn_local(load(desk.tickets));
    });
    let shown = move || {
        let me = state.with(|s| s.me.as_ref().map(|me| me.id));
        desk.tickets
            .get()
            .into_iter()
            .filter(|ticket| match filter.get() {
                "open" => ticket.status != "closed",
                "closed" => ticket.status == "closed",
                "mine" => ticket.agent.as_ref().map(|agent| agent.id) == me,
                _ => true,
            })
            .collect::<Vec<_>>()
    };
    view! {
        <main class="admin-page">
            <h2>"Tickets"</h2>
            <form class="inline-form" on:submit=move |event| {
                event.prevent_default();
                let email = requester.get_untracked();
                let requester_email = (!email.trim().is_empty()).then_some(email);
                desk.change("POST", "/api/tickets".to_owned(), typed(&NewTicket { subject: subject.get_untracked(), team: None, requester_email }));
                subject.set(String::new());
                requester.set(String::new());
            }>
                <input aria-label="New ticket subject" placeholder="subject" prop:value=move || subject.get() on:input=move |event| subject.set(event_target_value(&event))/>
                <input type="email" aria-label="Requester's email" placeholder="requester's email (optional)" prop:value=move || requester.get() on:input=move |event| requester.set(event_target_value(&event))/>
                <button type="submit">"New ticket"</button>
            </form>
            <div class="filters" role="group" aria-label="Show tickets">
                {[("open", "Open"), ("mine", "Mine"), ("closed", "Closed"), ("all", "All")].into_iter().map(|(value, label)| view! {
                    <button class="filter" aria-pressed=move || (filter.get() == value).to_string() on:click=move |_| filter.set(value)>{label}</button>
                }).collect_view()}
            </div>
            <Show when=move || desk.note.with(Option::is_some)>
                <p class="notice" role="alert">{move || desk.note.get().unwrap_or_default()}</p>
            </Show>
            <table class="canned-list">
                <thead><tr><th>"#"</th><th>"Subject"</th><th>"Requester"</th><th>"Team"</th><th>"Agent"</th><th>"Chat"</th></tr></thead>
                <tbody>
                    <For each=shown key=|ticket| format!("{ticket:?}") children=move |ticket| view! { <TicketRow desk=desk ticket=ticket/> }/>
                </tbody>
            </table>
            {move || desk.opened.get().map(|detail| view! { <OpenTicket desk=desk detail=detail/> })}
        </main>
    }
}

/// A line of the list: the ticket, who has it (Take), and its chat (Join while waiting).
#[component]
fn TicketRow(desk: Desk, ticket: TicketLine) -> impl IntoView {
    let id = ticket.id;
    let mine = desk.me() == ticket.agent.as_ref().map(|agent| agent.id);
    let agent = ticket
        .agent
        .as_ref()
        .map_or_else(|| "—".to_owned(), |agent| agent.name.clone());
    let chat = ticket.chat.clone();
    view! {
        <tr>
            <td>{id}</td>
            <td><button class="link-button" on:click=move |_| desk.open(id)>{ticket.subject.clone()}</button></td>
            <td>{ticket.requester.clone()}</td>
            <td>{ticket.team.clone().unwrap_or_default()}</td>
            <td>
                {agent}
                {(!mine).then(|| view! { <button class="ghost" on:click=move |_| desk.take(id)>{format!("Take ticket {id}")}</button> })}
            </td>
            <td>
                {chat.map(|chat| {
                    let conversation = chat.conversation_id;
                    view! {
                        {chat_label(chat.status)}
                        {(chat.status == ConversationStatus::Queued).then(|| view! {
                            <button class="join" on:click=move |_| desk.on_join.run(conversation)>{format!("Join chat {conversation}")}</button>
                        })}
                    }
                })}
            </td>
        </tr>
    }
}

/// The open ticket: its categories and status, then its notes or its chats.
#[component]
fn OpenTicket(desk: Desk, detail: TicketDetail) -> impl IntoView {
    let id = detail.ticket.id;
    let show_chats = desk.show_chats;
    let closed = detail.ticket.status == "closed";
    let assignee = detail.ticket.agent.as_ref().map_or_else(
        || "unassigned".to_owned(),
        |agent| format!("assigned to {}", agent.name),
    );
    view! {
        <section class="ticket" aria-label=format!("Ticket {id}")>
            <h3>{format!("#{id} {}", detail.ticket.subject)}</h3>
            <p class="hint">{format!("{} · requested by {} · {assignee}", detail.ticket.status, detail.ticket.requester)}</p>
            <div class="inline-form">
                {desk.categories.get().into_iter().map(|category| {
                    let name = category.name.clone();
                    let current = detail.categories.get(&name).cloned().unwrap_or_default();
                    view! {
                        <label>{category.name.clone()}" "
                            <select aria-label=category.name.clone() on:change=move |event| {
                                let value = event_target_value(&event);
                                desk.change("PUT", format!("/api/tickets/{id}/categories"), serde_json::json!({ name.clone(): value }));
                            }>
                                <option value="" selected=current.is_empty() disabled=true>"—"</option>
                                {category.values.into_iter().map(|value| {
                                    let selected = value == current;
                                    view! { <option value=value.clone() selected=selected>{value.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }
                }).collect_view()}
                <button class="ghost" on:click=move |_| desk.change("PUT", format!("/api/tickets/{id}/status"),
                    typed(&TicketStatus { status: if closed { "open" } else { "closed" }.to_owned() }))>
                    {if closed { "Reopen ticket" } else { "Close ticket" }}
                </button>
            </div>
            <div class="filters" role="tablist">
                <button class="filter" role="tab" aria-selected=move || (!show_chats.get()).to_string() on:click=move |_| show_chats.set(false)>"Notes"</button>
                <button class="filter" role="tab" aria-selected=move || show_chats.get().to_string() on:click=move |_| show_chats.set(true)>"Chats"</button>
            </div>
            {move || if show_chats.get() {
                view! {
                    <ul class="ticket-chats">
                        {detail.chats.iter().map(|chat| {
                            let conversation = chat.conversation_id;
                            view! {
                                <li>{format!("Chat {conversation}: {}", chat_label(chat.status))}
                                    {(chat.status == ConversationStatus::Queued).then(|| view! {
                                        <button class="join" on:click=move |_| desk.on_join.run(conversation)>{format!("Join chat {conversation}")}</button>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            } else if detail.notes.is_empty() {
                view! { <p class="empty">"No notes yet. A linked chat's transcript is added when it ends."</p> }.into_any()
            } else {
                view! {
                    <ol class="notes">
                        {detail.notes.iter().map(|note| view! {
                            <li>
                                {note.author.clone().map(|author| view! { <p class="hint">{format!("Reply by {author}")}</p> })}
                                <pre class="transcript">{note.body.clone()}</pre>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
            <ReplyForm desk=desk id=id requester_email=detail.requester_email.clone()/>
        </section>
    }
}

/// "Reply to the requester": kept on the ticket, and emailed when an address is known.
#[component]
fn ReplyForm(desk: Desk, id: i64, requester_email: Option<String>) -> impl IntoView {
    let body = RwSignal::new(String::new());
    let to = requester_email.map_or_else(
        || "No address is known: a reply stays on the ticket.".to_owned(),
        |email| format!("Emailed to {email}."),
    );
    let send = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let reply = TicketReply {
            body: body.get_untracked(),
        };
        spawn_local(async move {
            match api::send::<ReplyQueued>("POST", &format!("/api/tickets/{id}/replies"), &reply)
                .await
            {
                Ok(queued) => {
                    body.set(String::new());
                    let line = queued.emailed_to.map_or_else(
                        || "Reply kept on the ticket (not emailed).".to_owned(),
                        |email| format!("Reply sent to {email}."),
                    );
                    desk.replied.set(Some((id, line)));
                    desk.open(id);
                }
                Err(failure) => desk.note.set(Some(failure.message())),
            }
        });
    };
    view! {
        <form class="reply" on:submit=send>
            <label>"Reply to the requester"
                <textarea rows="4" aria-label="Reply to the requester" prop:value=move || body.get()
                    on:input=move |event| body.set(event_target_value(&event))></textarea>
            </label>
            <p class="hint">{to}</p>
            <button type="submit" disabled=move || body.with(|body| body.trim().is_empty())>"Send reply"</button>
            {move || desk.replied.get().filter(|(ticket, _)| *ticket == id).map(|(_, line)| view! { <p class="hint" role="status">{line}</p> })}
        </form>
    }
}
