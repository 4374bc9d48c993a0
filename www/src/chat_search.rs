//! Finding any chat the agent may see: words, a visitor's name or email, `#number`,
//! and a date range; the hits replace the chat list until cleared, best first, a page
//! at a time.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::search::{SearchHit, SearchResults};

use crate::api;
use crate::app::send_frame;
use crate::state::ConsoleState;

/// The path that asks for the page of hits starting at `offset`.
fn search_path(query: &str, from: &str, to: &str, offset: usize) -> String {
    let encode = |text: &str| String::from(js_sys::encode_uri_component(text.trim()));
    format!(
        "/api/conversations/search?q={}&from={}&to={}&offset={offset}",
        encode(query),
        encode(from),
        encode(to)
    )
}

/// The search form. `found` holds the hits while a search is shown (`None`: the
/// ordinary list shows); `problem` why the last search failed.
#[component]
pub(crate) fn SearchForm(
    found: RwSignal<Option<SearchResults>>,
    problem: RwSignal<Option<String>>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let run = move |_| {
        let path = search_path(
            &query.get_untracked(),
            &from.get_untracked(),
            &to.get_untracked(),
            0,
        );
        spawn_local(async move {
            match api::get::<SearchResults>(&path).await {
                Ok(results) => {
                    problem.set(None);
                    found.set(Some(results));
                }
                Err(failure) => problem.set(Some(failure.message())),
            }
        });
    };
    view! {
        <form class="search" role="search" on:submit=move |event| { event.prevent_default(); run(()); }>
            <input type="search" aria-label="Search chats" placeholder="Search: words, name, #number"
                prop:value=move || query.get() on:input=move |event| query.set(event_target_value(&event))/>
            <div class="range">
                <input type="date" aria-label="From" prop:value=move || from.get()
                    on:input=move |event| from.set(event_target_value(&event))/>
                <input type="date" aria-label="To" prop:value=move || to.get()
                    on:input=move |event| to.set(event_target_value(&event))/>
                <button type="submit">"Search"</button>
            </div>
            <p class="hint" role="alert" hidden=move || problem.with(Option::is_none)>
                {move || problem.get().unwrap_or_default()}
            </p>
        </form>
        <Show when=move || found.with(Option::is_some)>
            <Hits state=found query=query from=from to=to problem=problem/>
        </Show>
    }
}

/// The hits: how many, each chat (a click opens it), More, and Clear.
#[component]
fn Hits(
    state: RwSignal<Option<SearchResults>>,
    query: RwSignal<String>,
    from: RwSignal<String>,
    to: RwSignal<String>,
    problem: RwSignal<Option<String>>,
) -> impl IntoView {
    let console = expect_context::<RwSignal<ConsoleState>>();
    let hits = move || {
        state.with(|found| {
            found
                .as_ref()
                .map(|found| found.hits.clone())
                .unwrap_or_default()
        })
    };
    let total = move || state.with(|found| found.as_ref().map_or(0, |found| found.total));
    let more = move || {
        let path = search_path(
            &query.get_untracked(),
            &from.get_untracked(),
            &to.get_untracked(),
            hits().len(),
        );
        spawn_local(async move {
            match api::get::<SearchResults>(&path).await {
                Ok(page) => state.update(|found| {
                    if let Some(found) = found {
                        found.hits.extend(page.hits);
                    }
                }),
                Err(failure) => problem.set(Some(failure.message())),
            }
        });
    };
    view! {
        <p class="found-count" role="status">
            {move || match total() { 1 => "1 chat found".to_owned(), n => format!("{n} chats found") }}
            <button type="button" class="link-button" on:click=move |_| state.set(None)>"Clear"</button>
        </p>
        <ul class="chats found">
            <For each=hits key=|hit| hit.chat.conversation_id children=move |hit| view! { <Hit console=console hit=hit/> }/>
        </ul>
        <Show when=move || hits().len() < total()>
            <button type="button" class="ghost more" on:click=move |_| more()>"More"</button>
        </Show>
    }
}

/// One chat found: who, when, and the words that matched.
#[component]
fn Hit(console: RwSignal<ConsoleState>, hit: SearchHit) -> impl IntoView {
    let SearchHit {
        chat,
        started_at,
        snippet,
    } = hit;
    let id = chat.conversation_id;
    let name = chat.visitor_name.clone();
    let day = String::from(
        js_sys::Date::new(&(started_at as f64).into())
            .to_locale_date_string("default", &wasm_bindgen::JsValue::UNDEFINED),
    );
    let open = move |_| {
        let mut frame = None;
        console.update(|s| frame = Some(s.open_found(chat.clone())));
        if let Some(frame) = frame {
            send_frame(&frame);
        }
    };
    view! {
        <li class="chat" class:selected=move || console.with(|s| s.selected == Some(id))>
            <button class="open" on:click=open>
                <span class="visitor">{name}" · #"{id}</span>
                <span class="state">{day}</span>
                {snippet.map(|words| view! { <span class="gist">{words}</span> })}
            </button>
        </li>
    }
}
