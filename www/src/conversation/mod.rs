//! The open chat: its header (who, where they are, transfer, uploads, end), the AI
//! helpers, the transcript with its private notes, and the composer.

mod composer;
mod contact_panel;
mod line;
mod visitor_data;

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::ai::{HelperText, Helpers};
use porchlight_protocol::api::canned::CannedText;
use porchlight_protocol::{AgentRequest, ChatSummary};

use self::composer::Composer;
use self::contact_panel::ContactPanel;
use self::line::{Line, NoteLine};
use self::visitor_data::VisitorData;
use crate::api;
use crate::app::send_frame;
use crate::reports::rating_text;
use crate::state::{ConsoleState, Row};

/// Asks the AI for a helper's answer about chat `id`: a suggested reply goes into the
/// draft, anything else (a summary, a failure) shows above the transcript.
fn ask_ai(id: i64, what: &'static str, draft: RwSignal<String>, summary: RwSignal<Option<String>>) {
    summary.set(Some("Asking the AI…".into()));
    spawn_local(async move {
        let path = format!("/api/conversations/{id}/ai/{what}");
        match api::post::<HelperText>(&path).await {
            Ok(answer) if what == "suggest" => {
                summary.set(None);
                draft.set(answer.text);
            }
            Ok(answer) => summary.set(Some(answer.text)),
            Err(failure) => summary.set(Some(failure.message())),
        }
    });
}

#[component]
pub(crate) fn Conversation(
    state: RwSignal<ConsoleState>,
    canned: RwSignal<Vec<CannedText>>,
) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    // With an AI provider: the suggested reply and summary helpers; with it or a
    // translation service: translation.
    let helpers = RwSignal::new(false);
    let translation = RwSignal::new(false);
    let summary = RwSignal::new(None::<String>);
    spawn_local(async move {
        if let Ok(answer) = api::get::<Helpers>("/api/ai").await {
            helpers.set(answer.helpers);
            translation.set(answer.translation);
        }
    });
    // A chat that reaches people from the bot or the AI agent is summarised once,
    // when an agent first opens it.
    let summarised = StoredValue::new(HashSet::<i64>::new());
    Effect::new(move |_| {
        if !helpers.get() {
            return;
        }
        let Some(id) = state.with(ConsoleState::selected_was_handed_over) else {
            return;
        };
        if summarised.with_value(|done| done.contains(&id)) {
            return;
        }
        summarised.update_value(|done| {
            done.insert(id);
        });
        ask_ai(id, "summary", draft, summary);
    });
    let rows = move || state.with(|s| s.selected.map(|id| s.rows(id)).unwrap_or_default());
    view! {
        <main class="room">
            <Show when=move || state.with(|s| s.notice.is_some())>
                <p class="notice" role="alert">{move || state.with(|s| s.notice.clone().unwrap_or_default())}</p>
            </Show>
            <Show
                when=move || state.with(|s| s.selected_chat().is_some())
                fallback=|| view! { <p class="empty">"Pick a chat on the left. Waiting chats are at the top."</p> }
            >
                <RoomHead state=state/>
                <AiTools state=state helpers=helpers draft=draft summary=summary/>
                <ol class="log" aria-live="polite">
                    <For each=rows key=Row::key children=move |row| match row {
                        Row::Message(entry) => {
                            let chat = state.with_untracked(|s| s.selected).unwrap_or_default();
                            view! { <Line entry=entry chat=chat translation_on=translation/> }.into_any()
                        }
                        Row::Note { note, pending } => view! { <NoteLine note=note pending=pending/> }.into_any(),
                    }/>
                </ol>
                <p class="typing-now" role="status" hidden=move || !state.with(ConsoleState::selected_is_typing)>
                    {move || state.with(|s| s.selected_chat().map(|chat| format!("{} is typing…", chat.visitor_name)))}
                </p>
                <Composer state=state canned=canned draft=draft translation=translation/>
            </Show>
        </main>
    }
}

/// Who the visitor is and where, and what the agent in the chat can do with it.
#[component]
fn RoomHead(state: RwSignal<ConsoleState>) -> impl IntoView {
    let end = move |_| {
        if let Some(id) = state.with_untracked(|s| s.selected) {
            send_frame(&AgentRequest::EndChat {
                conversation_id: id,
            });
        }
    };
    view! {
        <header class="room-head">
            <div>
                <h2>{move || state.with(|s| s.selected_chat().map(|c| c.visitor_name.clone()).unwrap_or_default())}</h2>
                <dl class="context" aria-label="Visitor">
                    {move || state.with(|s| s.selected_chat().map(context_rows))}
                </dl>
                <ContactPanel state=state/>
                <VisitorData state=state/>
            </div>
            <Show when=move || state.with(ConsoleState::holds_selected)>
                <div class="actions">
                    <select aria-label="Transfer" on:change=move |event| {
                        let choice = event_target_value(&event);
                        if let Some(frame) = state.with_untracked(|s| s.transfer(&choice)) {
                            send_frame(&frame);
                        }
                    }>
                        <option value="" selected=true>"Transfer to…"</option>
                        {move || state.with(ConsoleState::transfer_choices).into_iter().map(|(value, label)| {
                            view! { <option value=value>{label}</option> }
                        }).collect_view()}
                    </select>
                    {move || state.with(ConsoleState::uploads_switch).map(|on| view! {
                        <label class="uploads-switch">
                            <input type="checkbox" prop:checked=on on:change=move |event| {
                                if let Some(id) = state.with_untracked(|s| s.selected) {
                                    send_frame(&AgentRequest::SetVisitorUploads { conversation_id: id, allowed: event_target_checked(&event) });
                                }
                            }/>
                            "Visitor can send files"
                        </label>
                    })}
                    <button class="end" on:click=end>"End chat"</button>
                </div>
            </Show>
        </header>
    }
}

/// Summarise and Suggest a reply (with a provider), and what the AI last said.
#[component]
fn AiTools(
    state: RwSignal<ConsoleState>,
    helpers: RwSignal<bool>,
    draft: RwSignal<String>,
    summary: RwSignal<Option<String>>,
) -> impl IntoView {
    let ask = move |what: &'static str| {
        if let Some(id) = state.with_untracked(|s| s.selected) {
            ask_ai(id, what, draft, summary);
        }
    };
    view! {
        <Show when=move || helpers.get()>
            <div class="ai-tools">
                <button type="button" class="ghost" on:click=move |_| ask("summary")>"Summarise"</button>
                <Show when=move || state.with(ConsoleState::holds_selected)>
                    <button type="button" class="ghost" on:click=move |_| ask("suggest")>"Suggest a reply"</button>
                </Show>
            </div>
        </Show>
        <Show when=move || summary.with(Option::is_some)>
            <p class="ai-summary" role="status">{move || summary.get().unwrap_or_default()}
                <button type="button" class="ghost" aria-label="Close" on:click=move |_| summary.set(None)>"×"</button>
            </p>
        </Show>
    }
}

/// The context panel's lines: where the visitor is and came from, their browser and
/// its language.
fn context_rows(chat: &ChatSummary) -> AnyView {
    let rows = [
        ("Ticket", chat.ticket_id.map(|id| format!("#{id}"))),
        ("Page", chat.page_url.clone()),
        ("Came from", chat.referrer.clone()),
        ("Browser", chat.browser.clone()),
        ("Language", chat.visitor_language.clone()),
        (
            "Rating",
            chat.rating
                .map(|score| rating_text(score, chat.rating_comment.as_deref())),
        ),
    ];
    rows.into_iter()
        .filter_map(|(label, value)| {
            value
                .filter(|value| !value.is_empty())
                .map(|value| (label, value))
        })
        .map(|(label, value)| view! { <dt>{label}</dt><dd>{value}</dd> })
        .collect_view()
        .into_any()
}
