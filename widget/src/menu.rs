//! The chat menu (⋯) in the header: "End chat", asked once more before it ends the
//! chat for the visitor and the agent alike. Drawn once and shown or hidden, so a
//! frame arriving never redraws it (nor takes the focus from it).

use leptos::prelude::*;
use porchlight_protocol::{VisitorRequest, to_text};

use crate::browser;
use crate::state::ChatState;

/// Where the menu is: shut, open, or asking "End this chat?".
#[derive(Clone, Copy, PartialEq, Eq)]
enum Menu {
    Shut,
    Open,
    Confirming,
}

/// Shown while a chat is open.
#[component]
pub(crate) fn ChatMenu(state: RwSignal<ChatState>) -> impl IntoView {
    let menu = RwSignal::new(Menu::Shut);
    // A part is hidden unless the menu is at its step and a chat is open.
    let hidden_unless = move |step: Menu| {
        move || menu.get() != step || !state.with(ChatState::has_open_conversation)
    };
    let end = move |_| {
        menu.set(Menu::Shut);
        browser::send(&to_text(&VisitorRequest::EndChat));
    };
    view! {
        <div class="menu" hidden=move || !state.with(ChatState::has_open_conversation)>
            <button
                type="button"
                class="menu-button"
                aria-label="Chat options"
                aria-haspopup="menu"
                aria-expanded=move || if menu.get() == Menu::Shut { "false" } else { "true" }
                on:click=move |_| menu.update(|menu| *menu = if *menu == Menu::Shut { Menu::Open } else { Menu::Shut })
            >
                "⋯"
            </button>
            <div class="menu-items" role="menu" hidden=hidden_unless(Menu::Open)>
                <button type="button" role="menuitem" on:click=move |_| menu.set(Menu::Confirming)>
                    "End chat"
                </button>
            </div>
            <div class="menu-items" role="alertdialog" aria-label="End this chat?" hidden=hidden_unless(Menu::Confirming)>
                <p>"End this chat? You can start a new one at any time."</p>
                <button type="button" class="end" on:click=end>"End chat"</button>
                <button type="button" on:click=move |_| menu.set(Menu::Shut)>"Keep chatting"</button>
            </div>
        </div>
    }
}
