//! The chats room: the agent's list of chats, with its filters, beside the open chat.

use leptos::prelude::*;
use porchlight_protocol::api::canned::CannedText;
use porchlight_protocol::api::search::SearchResults;
use porchlight_protocol::{AgentRequest, ChatSummary, ConversationStatus};

use crate::app::send_frame;
use crate::chat_search::SearchForm;
use crate::conversation::Conversation;
use crate::state::{ConsoleState, Filter};

#[component]
pub(crate) fn ChatsRoom(
    state: RwSignal<ConsoleState>,
    canned: RwSignal<Vec<CannedText>>,
) -> impl IntoView {
    // While a search is shown, its hits take the list's place.
    let found = RwSignal::new(None::<SearchResults>);
    let problem = RwSignal::new(None::<String>);
    provide_context(state);
    view! {
        <div class="desk">
            <aside class="side">
                <h2>"Chats"</h2>
                <SearchForm found=found problem=problem/>
                <div class="filters" role="group" aria-label="Show" hidden=move || found.with(Option::is_some)>
                    {Filter::ALL.into_iter().map(|filter| view! {
                        <button class="filter"
                            class:current=move || state.with(|s| s.filter == filter)
                            aria-pressed=move || state.with(|s| (s.filter == filter).to_string())
                            on:click=move |_| state.update(|s| s.filter = filter)>
                            {filter.label()}
                        </button>
                    }).collect_view()}
                </div>
                <ul class="chats" hidden=move || found.with(Option::is_some)>
                    <For
                        each=move || state.with(ConsoleState::chat_list)
                        key=|chat| (chat.conversation_id, chat.status, chat.agent.as_ref().map(|a| a.id))
                        children=move |chat| view! { <ChatLine state=state chat=chat/> }
                    />
                </ul>
            </aside>
            <Conversation state=state canned=canned/>
        </div>
    }
}

/// One chat in the list: who, where it stands, unread count, and Join while it waits.
#[component]
fn ChatLine(state: RwSignal<ConsoleState>, chat: ChatSummary) -> impl IntoView {
    let id = chat.conversation_id;
    let queued = chat.status == ConversationStatus::Queued;
    let status = match chat.status {
        ConversationStatus::Bot => "With the bot".to_owned(),
        ConversationStatus::Queued => "Waiting".to_owned(),
        ConversationStatus::Active => chat
            .agent
            .as_ref()
            .map(|a| format!("With {}", a.name))
            .unwrap_or_default(),
        ConversationStatus::Ended => "Ended".to_owned(),
    };
    view! {
        <li class="chat"
            class:selected=move || state.with(|s| s.selected == Some(id))
            class:ringing=move || state.with(|s| s.is_ringing(id))>
            <button class="open" on:click=move |_| {
                let mut frame = None;
                state.update(|s| frame = Some(s.select(id)));
                if let Some(frame) = frame { send_frame(&frame); }
            }>
                <span class="visitor">{chat.visitor_name.clone()}</span>
                <span class="state">{status}</span>
                {move || state.with(|s| s.unread.get(&id).copied()).map(|n| view! { <span class="unread">{n}</span> })}
            </button>
            <Show when=move || queued>
                <button class="join" on:click=move |_| send_frame(&AgentRequest::Join { conversation_id: id })>"Join"</button>
            </Show>
        </li>
    }
}
