//! The reply box: Enter sends, `/` searches canned text (arrows pick, Enter posts it
//! filled in), and the paperclip sends a file. Switched to "Private note" (the only
//! mode in a chat the agent does not hold), it writes notes only agents see.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::QueueInfo;
use porchlight_protocol::api::ai::{HelperText, TranslateRequest};
use porchlight_protocol::api::canned::CannedText;
use porchlight_widget::browser::new_client_msg_id;
use porchlight_widget::files;

use crate::api;
use crate::app::send_frame;
use crate::canned;
use crate::state::ConsoleState;

#[component]
pub(super) fn Composer(
    state: RwSignal<ConsoleState>,
    canned: RwSignal<Vec<CannedText>>,
    draft: RwSignal<String>,
    translation: RwSignal<bool>,
) -> impl IntoView {
    // The highlighted line of the canned-text picker.
    let pick = RwSignal::new(0_usize);
    let note_mode = RwSignal::new(false);
    // Replies go out in the visitor's language (the original stays as a note); one
    // at a time, so a second Enter cannot send it twice.
    let in_their_language = RwSignal::new(false);
    let translating = RwSignal::new(false);
    let holds = move || state.with(ConsoleState::holds_selected);
    let noting = move || note_mode.get() || !holds();
    let their_language = move || {
        state
            .with(|s| {
                s.selected_chat()
                    .and_then(|chat| chat.visitor_language.clone())
            })
            .filter(|language| translation.get() && !same_language(language))
    };
    let post = move |body: String| {
        let as_note =
            note_mode.get_untracked() || !state.with_untracked(ConsoleState::holds_selected);
        match their_language().filter(|_| !as_note && in_their_language.get_untracked()) {
            Some(_) if translating.get_untracked() => {}
            Some(language) => post_translated(state, draft, translating, body, language),
            None => post_draft(state, draft, as_note, body),
        }
    };
    let picking = move |draft: &str| !noting() && canned::query(draft).is_some();
    let matches = move || {
        let draft = draft.get();
        let query = canned::query(&draft).filter(|_| !noting());
        query.map_or_else(Vec::new, |query| {
            canned.with(|texts| canned::search(texts, query).into_iter().cloned().collect())
        })
    };
    let post_canned = move |text: CannedText| post_filled(state, &text, post);
    let submit = move || {
        let found = matches();
        if found.is_empty() {
            post(draft.get_untracked());
        } else if let Some(text) = found.get(pick.get_untracked().min(found.len() - 1)) {
            post_canned(text.clone());
        }
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        let picking = picking(&draft.get_untracked());
        match event.key().as_str() {
            "Enter" if !event.shift_key() && !event.is_composing() => {
                event.prevent_default();
                submit();
            }
            "ArrowDown" if picking => {
                event.prevent_default();
                let last = matches().len().saturating_sub(1);
                pick.update(|line| *line = (*line + 1).min(last));
            }
            "ArrowUp" if picking => {
                event.prevent_default();
                pick.update(|line| *line = line.saturating_sub(1));
            }
            "Escape" if picking => draft.set(String::new()),
            _ => {}
        }
    };
    view! {
        <Show when=move || picking(&draft.get())>
            <CannedList found=Signal::derive(matches) pick=pick on_pick=Callback::new(post_canned)/>
        </Show>
        <div class="compose-mode" role="group" aria-label="Write">
            <button type="button" class="ghost" hidden=move || !holds() aria-pressed=move || (!noting()).to_string()
                on:click=move |_| note_mode.set(false)>"Reply"</button>
            <button type="button" class="ghost" aria-pressed=move || noting().to_string()
                on:click=move |_| note_mode.set(true)>"Private note"</button>
            {move || their_language().filter(|_| !noting()).map(|language| view! {
                <label class="in-language"><input type="checkbox" prop:checked=move || in_their_language.get()
                    on:change=move |event| in_their_language.set(event_target_checked(&event))/>
                    {format!("Send in the visitor's language ({language})")}</label>
            })}
        </div>
        <form class="composer" class:note=noting on:submit=move |event| { event.prevent_default(); submit(); }>
            <label class="attach" title="Send a file" hidden=noting>
                <input type="file" class="file-input" aria-label="Send a file" on:change=move |event| upload_picked(state, &event)/>
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                    <path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"></path>
                </svg>
            </label>
            <textarea rows="2"
                aria-label=move || if noting() { "Private note" } else { "Message" }
                placeholder=move || if noting() { "A note only agents see…" } else { "Reply… (/ for canned text)" }
                prop:value=move || draft.get()
                on:input=move |event| { pick.set(0); draft.set(event_target_value(&event)); pulse_typing(state, note_mode); }
                on:keydown=on_key></textarea>
            <button type="submit" aria-label=move || if noting() { "Add note" } else { "Send" }>
                {move || if noting() { "Add note" } else { "Send" }}
            </button>
        </form>
    }
}

/// Posts a canned text with `$NAME` and `$AGENT` filled in, and `$WAITTIME` and
/// `$QUEUEPOSITION` as the relay's queue stands now.
fn post_filled(state: RwSignal<ConsoleState>, text: &CannedText, post: impl Fn(String) + 'static) {
    let (visitor, agent, chat) = state.with_untracked(|s| {
        (
            s.selected_chat()
                .map(|chat| chat.visitor_name.clone())
                .unwrap_or_default(),
            s.me.as_ref().map(|me| me.name.clone()).unwrap_or_default(),
            s.selected,
        )
    });
    let body = canned::fill(&text.body, &visitor, &agent);
    match chat.filter(|_| canned::needs_queue(&body)) {
        Some(id) => spawn_local(async move {
            let path = format!("/api/conversations/{id}/estimate");
            let info = api::get::<QueueInfo>(&path).await.ok();
            let (wait, position) = info.map_or((None, None), |info| (info.wait, info.position));
            post(canned::fill_queue(&body, wait.as_deref(), position));
        }),
        None => post(body),
    }
}

/// Stores the reply or note and sends it; clears the draft.
fn post_draft(state: RwSignal<ConsoleState>, draft: RwSignal<String>, as_note: bool, body: String) {
    let Some(id) = state.with_untracked(|s| s.selected) else {
        return;
    };
    if body.trim().is_empty() {
        return;
    }
    draft.set(String::new());
    post_to(state, id, as_note, body);
}

/// Stores the reply or note for chat `id` and sends it.
fn post_to(state: RwSignal<ConsoleState>, id: i64, as_note: bool, body: String) {
    let mut frame = None;
    state.update(|s| {
        frame = Some(if as_note {
            s.write_note(id, new_client_msg_id('n'), body)
        } else {
            s.write(id, new_client_msg_id('a'), body)
        });
    });
    if let Some(frame) = frame {
        send_frame(&frame);
    }
}

/// Whether `language` is the agent's own (by the browser's language, `de` for `de-AT`).
fn same_language(language: &str) -> bool {
    let primary = |tag: &str| {
        tag.split('-')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    window()
        .navigator()
        .language()
        .is_some_and(|own| primary(&own) == primary(language))
}

/// Translates the reply into `language`, sends the translation, and keeps the
/// original as a private note; on failure the draft comes back and the notice says why.
fn post_translated(
    state: RwSignal<ConsoleState>,
    draft: RwSignal<String>,
    translating: RwSignal<bool>,
    body: String,
    language: String,
) {
    let Some(id) = state.with_untracked(|s| s.selected) else {
        return;
    };
    if body.trim().is_empty() {
        return;
    }
    let request = TranslateRequest {
        text: body.clone(),
        language: language.clone(),
    };
    translating.set(true);
    draft.set(String::new());
    spawn_local(async move {
        let path = format!("/api/conversations/{id}/ai/translate");
        let answer = api::send::<HelperText>("POST", &path, &request).await;
        translating.set(false);
        match answer {
            Ok(translated) => {
                post_to(state, id, false, translated.text);
                post_to(
                    state,
                    id,
                    true,
                    format!("Sent in {language}. The original: {body}"),
                );
            }
            Err(failure) => {
                // Back in the box, unless the agent moved on or wrote something else.
                if state.with_untracked(|s| s.selected) == Some(id)
                    && draft.with_untracked(String::is_empty)
                {
                    draft.set(body);
                }
                state.update(|s| s.notice = Some(failure.message()));
            }
        }
    });
}

/// While the agent writes a reply (not a note), the visitor sees them typing.
fn pulse_typing(state: RwSignal<ConsoleState>, note_mode: RwSignal<bool>) {
    let Some(id) = state.with_untracked(|s| s.selected) else {
        return;
    };
    if note_mode.get_untracked() {
        return;
    }
    let mut frame = None;
    state.update_untracked(|s| frame = s.typing_pulse(id, js_sys::Date::now()));
    if let Some(frame) = frame {
        send_frame(&frame);
    }
}

/// Sends the picked file to the chat on screen; a refusal shows as the notice.
fn upload_picked(state: RwSignal<ConsoleState>, event: &leptos::ev::Event) {
    let (Some(file), Some(id)) = (files::picked(event), state.with_untracked(|s| s.selected))
    else {
        return;
    };
    spawn_local(async move {
        if let Err(refused) = files::upload(
            id,
            &file,
            &new_client_msg_id('f'),
            None,
            None,
            "The file could not be sent; check the connection.",
        )
        .await
        {
            state.update(|s| s.notice = Some(refused));
        }
    });
}

/// The canned texts matching the draft's `/query`; `pick` is the highlighted one.
#[component]
fn CannedList(
    found: Signal<Vec<CannedText>>,
    pick: RwSignal<usize>,
    on_pick: Callback<CannedText>,
) -> impl IntoView {
    view! {
        <ul class="canned-pick" role="listbox" aria-label="Canned text">
            {move || {
                let found = found.get();
                if found.is_empty() {
                    return view! { <li class="none">"No canned text matches."</li> }.into_any();
                }
                let current = pick.get().min(found.len() - 1);
                found.into_iter().enumerate().map(|(line, text)| {
                    let label = format!("{} · {}", text.group, text.title);
                    let preview = text.body.clone();
                    view! {
                        <li role="option" aria-selected=(line == current).to_string()>
                            <button type="button" class:current=line == current
                                on:click=move |_| on_pick.run(text.clone())>
                                <strong>{label}</strong>
                                <span class="gist">{preview}</span>
                            </button>
                        </li>
                    }
                }).collect_view().into_any()
            }}
        </ul>
    }
}
