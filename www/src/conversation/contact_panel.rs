//! Who the chat's visitor is, as the site said (`Porchlight.identify`): name, user id,
//! email, company, traits, context entries and their other chats. Fetched when the
//! open chat, or its visitor's name (they identified mid-chat), changes.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::visitors::ContactView;

use crate::api;
use crate::contact::{facts, is_empty, past_line, sections};
use crate::state::ConsoleState;

#[component]
pub(super) fn ContactPanel(state: RwSignal<ConsoleState>) -> impl IntoView {
    let contact = RwSignal::new(None::<ContactView>);
    // Only a change of chat or of the visitor's name refetches, not every message.
    let chat = Memo::new(move |_| {
        state.with(|s| {
            s.selected_chat()
                .map(|chat| (chat.conversation_id, chat.visitor_name.clone()))
        })
    });
    Effect::new(move |_| {
        let chat = chat.get();
        contact.set(None);
        let Some((id, _)) = chat else {
            return;
        };
        spawn_local(async move {
            if let Ok(found) =
                api::get::<ContactView>(&format!("/api/conversations/{id}/contact")).await
                && state.with_untracked(|s| s.selected) == Some(id)
            {
                contact.set(Some(found));
            }
        });
    });
    let shown = move || contact.get().filter(|contact| !is_empty(contact));
    view! {
        {move || shown().map(|contact| view! {
            <section class="contact" aria-label="Contact">
                <dl class="context">
                    {facts(&contact).into_iter().map(|(label, value)| view! { <dt>{label}</dt><dd>{value}</dd> }).collect_view()}
                </dl>
                {sections(&contact).into_iter().map(|section| view! {
                    <h4>{section.label}</h4>
                    <ul>{section.lines.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
                }).collect_view()}
                <Show when={let any = !contact.past.is_empty(); move || any}>
                    <h4>"Other chats"</h4>
                    <ul class="past">{contact.past.iter().map(|chat| view! { <li>{past_line(chat)}</li> }).collect_view()}</ul>
                </Show>
            </section>
        })}
    }
}
