//! One line of the transcript as the agent sees it: who, what (text or a file), the
//! AI's sources, a translation on request, and the time; or a private note.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::ai::{HelperText, TranslateRequest};
use porchlight_protocol::sync::Entry;
use porchlight_protocol::{Author, Note};
use porchlight_widget::browser::clock;
use porchlight_widget::files;
use porchlight_widget::message_text::message_body;

use crate::api;

#[component]
pub(super) fn Line(entry: Entry, chat: i64, translation_on: RwSignal<bool>) -> impl IntoView {
    let class = match entry.author {
        Author::Agent | Author::Bot => "line mine",
        Author::System => "line system",
        Author::Visitor => "line theirs",
    };
    let pending = entry.is_pending();
    let content = match &entry.attachment {
        Some(file) => files::attachment_view(file),
        None => message_body(&entry.body),
    };
    let sources = (!entry.sources.is_empty()).then(|| {
        let titles: Vec<String> = entry
            .sources
            .iter()
            .map(|source| source.title.clone())
            .collect();
        view! { <span class="sources">"Sources: "{titles.join(" · ")}</span> }
    });
    // Visitor text can be translated into the agent's language.
    let translation = RwSignal::new(None::<String>);
    let translatable = entry.author == Author::Visitor && entry.attachment.is_none();
    let text = entry.body.clone();
    let translate = move |_| {
        let language = window()
            .navigator()
            .language()
            .unwrap_or_else(|| "en".into());
        let request = TranslateRequest {
            text: text.clone(),
            language,
        };
        translation.set(Some("Translating…".into()));
        spawn_local(async move {
            let path = format!("/api/conversations/{chat}/ai/translate");
            let answer = match api::send::<HelperText>("POST", &path, &request).await {
                Ok(answer) => answer.text,
                Err(failure) => failure.message(),
            };
            translation.set(Some(answer));
        });
    };
    view! {
        <li class=class class:pending=pending>
            {entry.author_name.clone().map(|name| view! { <span class="who">{name}</span> })}
            {content}
            {sources}
            <Show when=move || translation.with(Option::is_some)>
                <span class="translation">{move || translation.get().unwrap_or_default()}</span>
            </Show>
            <Show when=move || translatable && translation_on.get() && translation.with(Option::is_none)>
                <button type="button" class="link-button" on:click=translate.clone()>"Translate"</button>
            </Show>
            <time class="at">{clock(entry.at)}</time>
        </li>
    }
}

/// A private note: marked as one, so no agent mistakes it for something the visitor saw.
#[component]
pub(super) fn NoteLine(note: Note, pending: bool) -> impl IntoView {
    let at = (!pending).then_some(note.at);
    view! {
        <li class="line note" class:pending=pending>
            <span class="who">"Private note · "{note.author.name}</span>
            {message_body(&note.body)}
            <time class="at">{clock(at)}</time>
        </li>
    }
}
