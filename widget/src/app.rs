//! The widget's UI: header, message list, composer. Draws [`ChatState`] and turns
//! the visitor's actions into frames.

use std::time::Duration;

use crate::browser::{self, clock, new_client_msg_id, socket_url};
use crate::files;
use crate::host::{self, tell_parent};
use crate::menu::ChatMenu;
use crate::message_text::message_body;
use crate::rating::RatingCard;
use crate::state::{ChatState, Link};
use leptos::prelude::*;
use porchlight_protocol::sync::{Entry, Outgoing, TYPING_SHOWN_MS, reconnect_delay_ms};
use porchlight_protocol::words::Text;
use porchlight_protocol::{Author, PageInfo, TicketLink, VisitorEvent, VisitorRequest, to_text};

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn stored(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

fn store(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, value);
    }
}

/// A query parameter of the iframe's URL (the loader sets `site`, `page`, `ref`).
pub(crate) fn query_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| js_sys::decode_uri_component(value).ok())
        .and_then(|value| value.as_string())
}

/// One of the widget's lines, in the language it speaks now.
pub(crate) fn say(state: RwSignal<ChatState>, text: Text) -> String {
    state.with(|state| state.words().get(text).to_owned())
}

/// Where the visitor's token and outbox live; a console preview keeps its own, so
/// trying a profile never touches the admin's own chats as a visitor.
#[derive(Clone, Copy)]
struct Keys {
    site: StoredValue<String>,
    preview: Option<i64>,
}

impl Keys {
    fn scope(self) -> String {
        match self.preview {
            Some(profile) => format!("{}.preview{profile}", self.site.get_value()),
            None => self.site.get_value(),
        }
    }
    fn token(self) -> String {
        format!("porchlight.token.{}", self.scope())
    }
    fn outbox(self) -> String {
        format!("porchlight.outbox.{}", self.scope())
    }
}

/// How long the widget waits for the page's identity before it connects anyway.
const IDENTITY_PATIENCE: Duration = Duration::from_secs(3);

pub(crate) fn send_frame(request: &VisitorRequest) {
    browser::send(&to_text(request));
}

fn persist(keys: Keys, state: &ChatState) {
    if let Some(token) = &state.token {
        store(&keys.token(), token);
    }
    store(
        &keys.outbox(),
        &serde_json::to_string(&state.outbox).unwrap_or_default(),
    );
}

fn connect(state: RwSignal<ChatState>, keys: Keys, attempt: StoredValue<u32>) {
    let page = PageInfo {
        url: query_param("page").unwrap_or_default(),
        referrer: query_param("ref").unwrap_or_default(),
    };
    let opened = browser::connect(
        &socket_url("/ws/visitor"),
        move || {
            attempt.set_value(0);
            send_frame(&state.with_untracked(|state| state.hello(Some(page.clone()))));
        },
        move |text| {
            let Ok(event) = serde_json::from_str::<VisitorEvent>(&text) else {
                return;
            };
            let typing = matches!(event, VisitorEvent::Typing(_));
            let mut replies = Vec::new();
            let mut heard = Vec::new();
            state.update(|state| {
                replies = state.apply(event);
                heard = state.take_page_events();
                persist(keys, state);
                tell_parent("unread", f64::from(state.unread));
                tell_parent("open", f64::from(u8::from(state.has_open_conversation())));
            });
            replies.iter().for_each(send_frame);
            host::tell_page(heard);
            if let Some(pulse) = state
                .with_untracked(|state| state.agent_typing)
                .filter(|_| typing)
            {
                set_timeout(
                    move || state.update(|state| state.typing_expired(pulse)),
                    Duration::from_millis(TYPING_SHOWN_MS),
                );
            }
        },
        move || {
            state.update(ChatState::disconnected);
            if !state.with_untracked(|state| state.stopped) {
                reconnect_later(state, keys, attempt);
            }
        },
    );
    if !opened {
        reconnect_later(state, keys, attempt);
    }
}

fn reconnect_later(state: RwSignal<ChatState>, keys: Keys, attempt: StoredValue<u32>) {
    let tries = attempt.get_value();
    attempt.set_value(tries.saturating_add(1));
    let delay = reconnect_delay_ms(tries, js_sys::Math::random());
    set_timeout(
        move || connect(state, keys, attempt),
        Duration::from_millis(u64::from(delay)),
    );
}

pub(crate) fn mount() {
    leptos::mount::mount_to_body(Widget);
}

#[component]
fn Widget() -> impl IntoView {
    let site = query_param("site").unwrap_or_default();
    let keys = Keys {
        site: StoredValue::new(site.clone()),
        preview: query_param("preview").and_then(|id| id.parse().ok()),
    };
    let outbox: Vec<Outgoing> = stored(&keys.outbox())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut initial = ChatState::new(site, stored(&keys.token()), outbox);
    initial.start_step = query_param("step").filter(|step| !step.is_empty());
    initial.preview_profile = keys.preview;
    initial.languages = browser::languages();
    initial.ticket = query_param("ticket")
        .and_then(|id| id.parse().ok())
        .zip(query_param("tt").filter(|token| !token.is_empty()))
        .map(|(id, token)| TicketLink { id, token });
    let state = RwSignal::new(initial);
    let attempt = StoredValue::new(0u32);
    let started = StoredValue::new(false);
    let start = move || {
        if !started.get_value() {
            started.set_value(true);
            connect(state, keys, attempt);
        }
    };
    // A page that uses the page API says who the visitor is before the first hello
    // (or, if its API never loads, the chat starts without it).
    if query_param("id").as_deref() == Some("1") {
        set_timeout(start, IDENTITY_PATIENCE);
    } else {
        start();
    }
    host::listen_to_parent(state, move |identity| {
        let Some((identity, proof)) = identity else {
            start();
            return;
        };
        let mut restart = false;
        let mut frame = None;
        state.update(|state| {
            restart = state.retry_with_new_identity();
            frame = state.identify(identity, proof);
        });
        if let Some(frame) = frame {
            send_frame(&frame);
        }
        if restart {
            connect(state, keys, attempt);
        } else {
            start();
        }
    });
    tell_parent("ready", 1.0);
    // What the visitor writes (or picks) goes into the outbox, then on the socket.
    let send = Callback::new(move |body: String| {
        let mut frame = None;
        state.update(|state| {
            frame = Some(state.write(new_client_msg_id('v'), body));
            persist(keys, state);
        });
        if let Some(frame) = frame {
            send_frame(&frame);
        }
    });
    let language = Memo::new(move |_| state.with(|state| state.words().language));
    view! {
        <section
            class="panel"
            lang=move || language.get().code()
            dir=move || if language.get().is_rtl() { "rtl" } else { "ltr" }
            aria-label=move || say(state, Text::Chat)
            style=move || state.with(|state| state.profile.as_ref().map(|p| format!("--accent: {}", p.colour)).unwrap_or_default())
        >
            <header class="head">
                <div>
                    <h1 class="title">{move || state.with(ChatState::title)}</h1>
                    <p class="status" role="status">{move || state.with(ChatState::status_line)}</p>
                </div>
                <div class="actions">
                    <ChatMenu state=state/>
                    <button class="close" aria-label=move || say(state, Text::CloseChat) on:click=move |_| tell_parent("close", 1.0)>
                        "×"
                    </button>
                </div>
            </header>
            {move || state.with(|state| state.link == Link::Reconnecting).then(|| view! { <p class="banner">{say(state, Text::Reconnecting)}</p> })}
            {move || state.with(ChatState::queue_line).map(|line| view! { <p class="banner queue" role="status">{line}</p> })}
            <Log state=state/>
            <RatingCard state=state/>
            <p class="typing-now" role="status" hidden=move || state.with(|state| state.typing_line().is_none())>
                {move || state.with(ChatState::typing_line)}
            </p>
            <Choices state=state send=send/>
            {move || state.with(|state| state.notice.clone()).map(|notice| view! { <p class="notice" role="alert">{notice}</p> })}
            {move || state.with(|state| {
                let sent = state.emailed.as_deref()?;
                Some(state.words().fill(Text::TranscriptQueued, &[("email", sent)]))
            }).map(|line| view! { <p class="banner sent" role="status">{line}</p> })}
            <Composer state=state send=send/>
        </section>
    }
}

/// The transcript: the greeting, every message, and an answer as it streams in.
#[component]
fn Log(state: RwSignal<ChatState>) -> impl IntoView {
    view! {
        <ol class="log" aria-live="polite">
            {move || state.with(|state| {
                state
                    .profile
                    .as_ref()
                    .filter(|profile| !profile.greeting.is_empty())
                    .map(|profile| view! { <li class="greeting">{profile.greeting.clone()}</li> })
            })}
            <For
                each=move || state.with(|state| {
                    state
                        .transcript
                        .entries()
                        .iter()
                        .map(|entry| (entry.clone(), state.is_fresh(entry)))
                        .collect::<Vec<_>>()
                })
                key=|(entry, _)| (entry.key(), entry.seq)
                children=move |(entry, fresh): (Entry, bool)| line(&entry, fresh, state)
            />
            {move || state.with(|state| state.streaming.as_ref().map(|(_, text)| text.clone())).map(|text| view! {
                <li class="line theirs bot streaming"><span class="body">{text}</span></li>
            })}
        </ol>
    }
}

/// The bot's (or the AI agent's) buttons; a click sends its label.
#[component]
fn Choices(state: RwSignal<ChatState>, send: Callback<String>) -> impl IntoView {
    move || {
        let buttons = state.with(ChatState::buttons);
        (!buttons.is_empty()).then(|| view! {
            <div class="choices" role="group" aria-label=say(state, Text::Choices)>
                {buttons.into_iter().map(|label| {
                    let answer = label.clone();
                    view! { <button type="button" class="choice" on:click=move |_| send.run(answer.clone())>{label}</button> }
                }).collect_view()}
            </div>
        })
    }
}

/// The message box (an email, number or date field when the bot asks for one), the
/// paperclip when files are allowed, and Send.
#[component]
fn Composer(state: RwSignal<ChatState>, send: Callback<String>) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let hint = RwSignal::new(None::<String>);
    let submit = move || {
        let body = draft.get_untracked();
        if body.trim().is_empty() || state.with_untracked(|state| state.composer_lock().is_some()) {
            return;
        }
        if let Some(problem) =
            state.with_untracked(|state| state.draft_problem(&body).map(str::to_owned))
        {
            hint.set(Some(problem));
            return;
        }
        hint.set(None);
        draft.set(String::new());
        send.run(body);
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Enter" && !event.shift_key() && !event.is_composing() {
            event.prevent_default();
            submit();
        }
    };
    // While the visitor types, the agent sees it now and then.
    let pulse = move || {
        let mut frame = None;
        state.update_untracked(|state| frame = state.typing_pulse(js_sys::Date::now()));
        if let Some(frame) = frame {
            send_frame(&frame);
        }
    };
    let sending_file = RwSignal::new(false);
    // Redrawn only when these change, not on every frame: a redraw would take the
    // focus from a visitor who is typing.
    let can_upload = Memo::new(move |_| state.with(ChatState::can_upload));
    let input_type = Memo::new(move |_| state.with(ChatState::input_type));
    let locked = move || state.with(|state| state.composer_lock().is_some());
    let placeholder = move || {
        state.with(|state| {
            state
                .composer_lock()
                .unwrap_or_else(|| state.words().get(Text::WriteMessage))
                .to_owned()
        })
    };
    view! {
        {move || hint.get().map(|hint| view! { <p class="hint" role="alert">{hint}</p> })}
        {move || sending_file.get().then(|| view! { <p class="hint" role="status">{say(state, Text::SendingFile)}</p> })}
        // Our own hints replace the browser's validation bubbles.
        <form class="composer" novalidate=true on:submit=move |event| { event.prevent_default(); submit(); }>
            {move || can_upload.get().then(|| view! { <Attach state=state sending=sending_file/> })}
            {move || match input_type.get() {
                Some(kind) => view! {
                    <input
                        class="answer"
                        type=kind
                        aria-label=move || say(state, Text::Message)
                        placeholder=placeholder
                        prop:value=move || draft.get()
                        on:input=move |event| { hint.set(None); draft.set(event_target_value(&event)); }
                    />
                }.into_any(),
                None => view! {
                    <textarea
                        aria-label=move || say(state, Text::Message)
                        rows="1"
                        placeholder=placeholder
                        disabled=locked
                        prop:value=move || draft.get()
                        on:input=move |event| { hint.set(None); draft.set(event_target_value(&event)); pulse(); }
                        on:keydown=on_key
                    ></textarea>
                }.into_any(),
            }}
            <button type="submit" class="send" aria-label=move || say(state, Text::Send) disabled=locked>
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                    <path d="M3 20l18-8L3 4v6l12 2-12 2z" fill="currentColor"></path>
                </svg>
            </button>
        </form>
    }
}

/// The paperclip: a file goes over HTTP; the relay posts it to the chat and it
/// arrives as a message.
#[component]
fn Attach(state: RwSignal<ChatState>, sending: RwSignal<bool>) -> impl IntoView {
    let on_file = move |event: leptos::ev::Event| {
        let Some(file) = files::picked(&event) else {
            return;
        };
        let (conversation, token, proof) = state.with_untracked(|state| {
            (
                state.conversation.as_ref().map(|c| c.id),
                state.token.clone(),
                state.proof.clone(),
            )
        });
        let Some(conversation) = conversation else {
            return;
        };
        let offline = state.with_untracked(|state| state.words().get(Text::FileNotSent).to_owned());
        sending.set(true);
        leptos::task::spawn_local(async move {
            let sent = files::upload(
                conversation,
                &file,
                &new_client_msg_id('f'),
                token.as_deref(),
                proof.as_deref(),
                &offline,
            )
            .await;
            sending.set(false);
            state.update(|state| state.notice = sent.err());
        });
    };
    let attach = move || say(state, Text::Attach);
    view! {
        <label class="attach" title=attach>
            <input type="file" class="file-input" aria-label=attach on:change=on_file
                accept=".png,.jpg,.jpeg,.gif,.webp,.pdf,.zip,.docx,.xlsx,.pptx,.txt,.log,.csv"/>
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                <path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"></path>
            </svg>
        </label>
    }
}

/// One message. A bot message that just arrived shows a brief typing indicator first;
/// the relay's chat events are shown in the visitor's language.
fn line(entry: &Entry, fresh: bool, state: RwSignal<ChatState>) -> impl IntoView + use<> {
    let class = match (entry.author, fresh, entry.is_pending()) {
        (Author::Visitor, _, true) => "line mine pending",
        (Author::Visitor, _, false) => "line mine",
        (Author::System, _, _) => "line system",
        (Author::Agent, _, _) => "line theirs",
        // An AI answer with sources was already shown as it streamed.
        (Author::Bot, true, _) if entry.sources.is_empty() => "line theirs bot typing",
        (Author::Bot, true, _) => "line theirs bot",
        (Author::Bot, false, _) => "line theirs bot",
    };
    let who = entry.author_name.clone();
    let content = match (&entry.attachment, entry.author) {
        (Some(file), _) => files::attachment_view(file),
        (None, Author::System) => {
            message_body(&state.with_untracked(|state| state.words().event(&entry.body)))
        }
        (None, _) => message_body(&entry.body),
    };
    let sources = (!entry.sources.is_empty()).then(|| {
        let links = entry.sources.iter().map(|source| match &source.url {
            // The relay only sends http(s) links; checked again here.
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => view! {
                <a href=url.clone() target="_blank" rel="noopener noreferrer">{source.title.clone()}</a>
            }.into_any(),
            _ => view! { <span>{source.title.clone()}</span> }.into_any(),
        }).collect_view();
        let label = state.with_untracked(|state| state.words().get(Text::Sources).to_owned());
        view! { <span class="sources">{label}" "{links}</span> }
    });
    view! {
        <li class=class>
            {who.map(|name| view! { <span class="who">{name}</span> })}
            {content}
            {sources}
            <time class="at">{clock(entry.at)}</time>
        </li>
    }
}
