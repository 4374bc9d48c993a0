//! The admins' Canned text page: the texts by group, a form to add or change one,
//! and delete.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::canned::{CannedForm, CannedText};

use crate::api;

/// Loads every canned text into `texts` (for the page and the reply box's picker).
pub(crate) async fn load(texts: RwSignal<Vec<CannedText>>) {
    if let Ok(list) = api::get("/api/canned").await {
        texts.set(list);
    }
}

#[component]
pub(crate) fn CannedPage(texts: RwSignal<Vec<CannedText>>) -> impl IntoView {
    let editing = RwSignal::new(0_i64);
    let group = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let note = RwSignal::new(None::<String>);
    let clear = move || {
        editing.set(0);
        group.set(String::new());
        title.set(String::new());
        body.set(String::new());
    };
    let save = move || {
        let id = editing.get_untracked();
        let form = CannedForm {
            group: group.get_untracked(),
            title: title.get_untracked(),
            body: body.get_untracked(),
        };
        spawn_local(async move {
            let (method, path) = if id == 0 {
                ("POST", "/api/canned".to_owned())
            } else {
                ("PUT", format!("/api/canned/{id}"))
            };
            match api::act(method, &path, Some(&form)).await {
                Ok(()) => {
                    note.set(Some("Saved.".to_owned()));
                    clear();
                    load(texts).await;
                }
                Err(failure) => note.set(Some(failure.message())),
            }
        });
    };
    let remove = move |id: i64| {
        spawn_local(async move {
            match api::act("DELETE", &format!("/api/canned/{id}"), None::<&()>).await {
                Ok(()) => {
                    note.set(Some("Deleted.".to_owned()));
                    load(texts).await;
                }
                Err(failure) => note.set(Some(failure.message())),
            }
        });
    };
    view! {
        <main class="admin-page">
            <h2>"Canned text"</h2>
            <p class="hint">"Agents type / in the reply box to search these. $NAME becomes the visitor's name and $AGENT the agent's."</p>
            <Show when=move || note.with(Option::is_some)>
                <p class="notice" role="status">{move || note.get().unwrap_or_default()}</p>
            </Show>
            <form class="canned-form" on:submit=move |event| { event.prevent_default(); save(); }>
                <label>"Group"<input aria-label="Group" placeholder="General" prop:value=move || group.get() on:input=move |event| group.set(event_target_value(&event))/></label>
                <label>"Title"<input aria-label="Title" prop:value=move || title.get() on:input=move |event| title.set(event_target_value(&event))/></label>
                <label>"Text"<textarea aria-label="Text" rows="3" prop:value=move || body.get() on:input=move |event| body.set(event_target_value(&event))></textarea></label>
                <div class="actions">
                    <button type="submit">{move || if editing.get() == 0 { "Add canned text" } else { "Save canned text" }}</button>
                    <Show when=move || editing.get() != 0>
                        <button type="button" class="ghost" on:click=move |_| clear()>"Cancel"</button>
                    </Show>
                </div>
            </form>
            <table class="canned-list">
                <thead><tr><th>"Group"</th><th>"Title"</th><th>"Text"</th><th></th></tr></thead>
                <tbody>
                    <For each=move || texts.get() key=|text| (text.id, text.title.clone(), text.body.clone(), text.group.clone()) children=move |text| {
                        let id = text.id;
                        let chosen = text.clone();
                        view! {
                            <tr>
                                <td>{text.group.clone()}</td>
                                <td>{text.title.clone()}</td>
                                <td class="gist">{text.body.clone()}</td>
                                <td class="actions">
                                    <button class="ghost" on:click=move |_| {
                                        editing.set(chosen.id);
                                        group.set(chosen.group.clone());
                                        title.set(chosen.title.clone());
                                        body.set(chosen.body.clone());
                                    }>"Edit"</button>
                                    <button class="ghost" on:click=move |_| remove(id)>"Delete"</button>
                                </td>
                            </tr>
                        }
                    }/>
                </tbody>
            </table>
        </main>
    }
}
