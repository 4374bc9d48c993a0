//! The chat menu (⋯) in the header: "End chat", asked once more before it ends the
//! chat for the visitor and the agent alike, and "Email me the transcript" where the
//! site sends email. Drawn once and shown or hidden, so a frame arriving never redraws
//! it (nor takes the focus from it).

use leptos::prelude::*;
use porchlight_protocol::words::Text;
use porchlight_protocol::{VisitorRequest, to_text};

use crate::app::say;
use crate::browser;
use crate::state::ChatState;

/// Where the menu is: shut, open, asking "End this chat?", or asking for an address.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Menu {
    Shut,
    Open,
    Confirming,
    Emailing,
}

/// Shown while a chat is open, or has ended and can be emailed.
#[component]
pub(crate) fn ChatMenu(state: RwSignal<ChatState>) -> impl IntoView {
    let menu = RwSignal::new(Menu::Shut);
    let open = move || state.with(ChatState::has_open_conversation);
    let can_email = move || state.with(ChatState::can_email_transcript);
    let hidden_unless = move |step: Menu| move || menu.get() != step || !(open() || can_email());
    let email = RwSignal::new(String::new());
    let end = move |_| {
        menu.set(Menu::Shut);
        browser::send(&to_text(&VisitorRequest::EndChat));
    };
    let ask_address = move |_| {
        email.set(state.with_untracked(|state| state.known_email.clone().unwrap_or_default()));
        menu.set(Menu::Emailing);
    };
    let send_transcript = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let address = email.get_untracked();
        if address.trim().is_empty() {
            return;
        }
        let mut frame = None;
        state.update(|state| frame = Some(state.email_transcript(&address)));
        if let Some(frame) = frame {
            browser::send(&to_text(&frame));
        }
        menu.set(Menu::Shut);
    };
    view! {
        <div class="menu" hidden=move || !(open() || can_email())>
            <button
                type="button"
                class="menu-button"
                aria-label=move || say(state, Text::ChatOptions)
                aria-haspopup="menu"
                aria-expanded=move || if menu.get() == Menu::Shut { "false" } else { "true" }
                on:click=move |_| menu.update(|menu| *menu = if *menu == Menu::Shut { Menu::Open } else { Menu::Shut })
            >
                "⋯"
            </button>
            <div class="menu-items" role="menu" hidden=hidden_unless(Menu::Open)>
                <button type="button" role="menuitem" hidden=move || !can_email() on:click=ask_address>
                    {move || say(state, Text::EmailTranscript)}
                </button>
                <button type="button" role="menuitem" hidden=move || !open() on:click=move |_| menu.set(Menu::Confirming)>
                    {move || say(state, Text::EndChat)}
                </button>
            </div>
            <div class="menu-items" role="alertdialog" aria-label=move || say(state, Text::EndQuestion) hidden=hidden_unless(Menu::Confirming)>
                <p>{move || say(state, Text::EndExplained)}</p>
                <button type="button" class="end" on:click=end>{move || say(state, Text::EndChat)}</button>
                <button type="button" on:click=move |_| menu.set(Menu::Shut)>{move || say(state, Text::KeepChatting)}</button>
            </div>
            <form class="menu-items" role="dialog" aria-label=move || say(state, Text::EmailTranscript)
                hidden=hidden_unless(Menu::Emailing) on:submit=send_transcript>
                <input type="email" class="email" required=true aria-label=move || say(state, Text::YourEmail)
                    placeholder=move || say(state, Text::YourEmail)
                    prop:value=move || email.get() on:input=move |event| email.set(event_target_value(&event))/>
                <button type="submit">{move || say(state, Text::Send)}</button>
                <button type="button" on:click=move |_| menu.set(Menu::Shut)>{move || say(state, Text::Cancel)}</button>
            </form>
        </div>
    }
}
