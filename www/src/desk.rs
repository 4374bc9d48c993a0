//! The desk: the pages an agent moves between, the bar across the top, and the
//! keyboard shortcuts.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::AgentRequest;
use porchlight_protocol::api::canned::CannedText;
use wasm_bindgen::JsCast;

use crate::ai_page::AiPage;
use crate::alert;
use crate::api;
use crate::app::{Phase, send_frame};
use crate::canned_page::{self, CannedPage};
use crate::chat_list::ChatsRoom;
use crate::email_page::EmailPage;
use crate::password::PasswordPage;
use crate::people_page::PeoplePage;
use crate::profiles_page::ProfilesPage;
use crate::reports_page::ReportsPage;
use crate::sites_page::SitesPage;
use crate::state::ConsoleState;
use crate::tickets_page::TicketsPage;

/// Whether the agent is an admin, for the pages' admin-only parts.
#[derive(Clone, Copy)]
pub(crate) struct IsAdmin(pub(crate) RwSignal<bool>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Chats,
    Ai,
    Profiles,
    Canned,
    People,
    Sites,
    Email,
    Tickets,
    Reports,
    Password,
}

#[component]
pub(crate) fn Desk(
    state: RwSignal<ConsoleState>,
    phase: RwSignal<Phase>,
    admin: RwSignal<bool>,
) -> impl IntoView {
    provide_context(IsAdmin(admin));
    let tab = RwSignal::new(Tab::Chats);
    let help = RwSignal::new(false);
    let canned = RwSignal::new(Vec::<CannedText>::new());
    // Through tickets: join the ticket's chat and show it.
    let join_from_ticket = Callback::new(move |conversation_id: i64| {
        send_frame(&AgentRequest::Join { conversation_id });
        let mut frame = None;
        state.update(|s| frame = Some(s.select(conversation_id)));
        if let Some(frame) = frame {
            send_frame(&frame);
        }
        tab.set(Tab::Chats);
    });
    spawn_local(canned_page::load(canned));
    let keys = window_event_listener(leptos::ev::keydown, move |event| {
        on_shortcut(&event, state, help, tab);
    });
    on_cleanup(move || keys.remove());
    view! {
        <div class="shell">
            {move || help.get().then(|| view! { <Shortcuts/> })}
            <TopBar state=state phase=phase admin=admin tab=tab/>
            {move || match tab.get() {
                Tab::Chats => view! { <ChatsRoom state=state canned=canned/> }.into_any(),
                Tab::Profiles => view! { <ProfilesPage/> }.into_any(),
                Tab::Canned => view! { <CannedPage texts=canned/> }.into_any(),
                Tab::People => view! { <PeoplePage/> }.into_any(),
                Tab::Sites => view! { <SitesPage/> }.into_any(),
                Tab::Email => view! { <EmailPage/> }.into_any(),
                Tab::Reports => view! { <ReportsPage/> }.into_any(),
                Tab::Password => view! { <PasswordPage/> }.into_any(),
                Tab::Ai => view! { <AiPage/> }.into_any(),
                Tab::Tickets => view! { <TicketsPage state=state on_join=join_from_ticket/> }.into_any(),
            }}
        </div>
    }
}

/// The bar across the top: the pages, who is ringing, status, and logging out.
#[component]
fn TopBar(
    state: RwSignal<ConsoleState>,
    phase: RwSignal<Phase>,
    admin: RwSignal<bool>,
    tab: RwSignal<Tab>,
) -> impl IntoView {
    let logout = move |_| {
        spawn_local(async move {
            let _ = api::act("POST", "/api/logout", None::<&()>).await;
            phase.set(Phase::LoggedOut);
            let _ = window().location().reload();
        });
    };
    view! {
    <nav class="top">
        <strong class="brand">"Porchlight"</strong>
        <button class="tab" class:current=move || tab.get() == Tab::Chats on:click=move |_| tab.set(Tab::Chats)>"Chats"</button>
        <button class="tab" class:current=move || tab.get() == Tab::Tickets on:click=move |_| tab.set(Tab::Tickets)>"Tickets"</button>
        <Show when=move || admin.get()>
            <button class="tab" class:current=move || tab.get() == Tab::Profiles on:click=move |_| tab.set(Tab::Profiles)>"Profiles"</button>
            <button class="tab" class:current=move || tab.get() == Tab::Canned on:click=move |_| tab.set(Tab::Canned)>"Canned text"</button>
            <button class="tab" class:current=move || tab.get() == Tab::People on:click=move |_| tab.set(Tab::People)>"People"</button>
            <button class="tab" class:current=move || tab.get() == Tab::Sites on:click=move |_| tab.set(Tab::Sites)>"Sites"</button>
            <button class="tab" class:current=move || tab.get() == Tab::Email on:click=move |_| tab.set(Tab::Email)>"Email"</button>
            <button class="tab" class:current=move || tab.get() == Tab::Reports on:click=move |_| tab.set(Tab::Reports)>"Reports"</button>
            <button class="tab" class:current=move || tab.get() == Tab::Ai on:click=move |_| tab.set(Tab::Ai)>"AI"</button>
        </Show>
        <Show when=move || state.with(|s| !s.ringing.is_empty())>
            <button class="ringing-badge" on:click=move |_| tab.set(Tab::Chats)>
                {move || match state.with(|s| s.ringing.len()) {
                    1 => "1 chat is ringing".to_owned(),
                    n => format!("{n} chats are ringing"),
                }}
            </button>
        </Show>
        <span class="spacer"></span>
        <Show when=move || alert::can_ask()>
            <button class="ghost" on:click=move |_| alert::ask()>"Enable notifications"</button>
        </Show>
        <label class="status-pick">
            <span class="sr">"Status"</span>
            <select aria-label="Status"
                prop:value=move || state.with(|s| s.status_id.map(|id| id.to_string()).unwrap_or_default())
                on:change=move |event| {
                    if let Ok(status_id) = event_target_value(&event).parse() {
                        send_frame(&AgentRequest::SetStatus { status_id });
                    }
                }>
                {move || state.with(|s| s.statuses.clone()).into_iter().map(|status| {
                    let label = if status.online { status.name.clone() } else { format!("{} (no chats)", status.name) };
                    view! { <option value=status.id.to_string()>{label}</option> }
                }).collect_view()}
            </select>
        </label>
        <strong>{move || state.with(|s| s.me.as_ref().map(|me| me.name.clone()).unwrap_or_default())}</strong>
        <span class="link">{move || if state.with(|s| s.online) { "Online" } else { "Reconnecting…" }}</span>
        <button class="ghost" class:current=move || tab.get() == Tab::Password on:click=move |_| tab.set(Tab::Password)>"Password"</button>
        <button class="ghost" on:click=logout>"Log out"</button>
    </nav>
    }
}

/// The console's keys (listed by `?`); ignored while typing in a field.
fn on_shortcut(
    event: &leptos::ev::KeyboardEvent,
    state: RwSignal<ConsoleState>,
    help: RwSignal<bool>,
    tab: RwSignal<Tab>,
) {
    let typing = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        });
    if typing || event.ctrl_key() || event.meta_key() || event.alt_key() {
        return;
    }
    let open = |id| {
        let mut frame = None;
        state.update(|s| frame = Some(s.select(id)));
        if let Some(frame) = frame {
            send_frame(&frame);
        }
    };
    match event.key().as_str() {
        "?" => help.update(|shown| *shown = !*shown),
        "Escape" => help.set(false),
        "j" => {
            tab.set(Tab::Chats);
            if let Some(id) = state.with_untracked(|s| s.neighbour(1)) {
                open(id);
            }
        }
        "k" => {
            tab.set(Tab::Chats);
            if let Some(id) = state.with_untracked(|s| s.neighbour(-1)) {
                open(id);
            }
        }
        "a" => {
            if let Some(id) = state.with_untracked(ConsoleState::to_join) {
                tab.set(Tab::Chats);
                send_frame(&AgentRequest::Join {
                    conversation_id: id,
                });
            }
        }
        "r" => {
            let reply = document()
                .query_selector("textarea[aria-label='Message']")
                .ok()
                .flatten()
                .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(reply) = reply {
                event.prevent_default();
                let _ = reply.focus();
            }
        }
        _ => {}
    }
}

#[component]
fn Shortcuts() -> impl IntoView {
    view! {
        <div class="shortcuts" role="dialog" aria-label="Keyboard shortcuts">
            <h2>"Keyboard shortcuts"</h2>
            <dl>
                <dt><kbd>"j"</kbd>" / "<kbd>"k"</kbd></dt><dd>"Next / previous chat"</dd>
                <dt><kbd>"a"</kbd></dt><dd>"Join the selected waiting chat, or the oldest ringing one"</dd>
                <dt><kbd>"r"</kbd></dt><dd>"Reply: focus the message box"</dd>
                <dt><kbd>"Enter"</kbd></dt><dd>"Send (Shift+Enter: new line)"</dd>
                <dt><kbd>"?"</kbd></dt><dd>"Show or hide this list"</dd>
                <dt><kbd>"Esc"</kbd></dt><dd>"Close this list"</dd>
            </dl>
        </div>
    }
}
