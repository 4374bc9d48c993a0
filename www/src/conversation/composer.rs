//! The reply box: Enter sends, `/` searches canned text (arrows pick, Enter posts it
//! filled in), and the paperclip sends a file.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::QueueInfo;
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
) -> impl IntoView {
    // The highlighted line of the canned-text picker.
    let pick = RwSignal::new(0_usize);
    let post = move |body: String| {
        let Some(id) = state.with_untracked(|s| s.selected) else {
            return;
        };
        if body.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        let mut frame = None;
        state.update(|s| frame = Some(s.write(id, new_client_msg_id('a'), body)));
        if let Some(frame) = frame {
            send_frame(&frame);
        }
    };
    let matches = move || {
        let draft = draft.get();
        canned::query(&draft).map_or_else(Vec::new, |query| {
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
        let picking = canned::query(&draft.get_untracked()).is_some();
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
    let on_file = move |event: leptos::ev::Event| {
        let (Some(file), Some(id)) = (files::picked(&event), state.with_untracked(|s| s.selected))
        else {
            return;
        };
        spawn_local(async move {
            if let Err(refused) = files::upload(id, &file, &new_client_msg_id('f'), None).await {
                state.update(|s| s.notice = Some(refused));
            }
        });
    };
    view! {
        <Show when=move || canned::query(&draft.get()).is_some()>
            <ul class="canned-pick" role="listbox" aria-label="Canned text">
                {move || {
                    let found = matches();
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
                                    on:click=move |_| post_canned(text.clone())>
                                    <strong>{label}</strong>
                                    <span class="gist">{preview}</span>
                                </button>
                            </li>
                        }
                    }).collect_view().into_any()
                }}
            </ul>
        </Show>
        <form class="composer" on:submit=move |event| { event.prevent_default(); submit(); }>
            <label class="attach" title="Send a file">
                <input type="file" class="file-input" aria-label="Send a file" on:change=on_file/>
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                    <path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"></path>
                </svg>
            </label>
            <textarea aria-label="Message" rows="2" placeholder="Reply… (/ for canned text)"
                prop:value=move || draft.get()
                on:input=move |event| { pick.set(0); draft.set(event_target_value(&event)); }
                on:keydown=on_key></textarea>
            <button type="submit" aria-label="Send">"Send"</button>
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
