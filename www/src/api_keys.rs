//! A site's API keys on the Sites page: make one (shown once, to copy now), see each
//! key's scope and last use, and revoke it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::v1::{ApiKeyView, CreatedApiKey, NewApiKeyForm, Scope};

use crate::api;

/// A time as the browser writes a date and time.
fn when(at: i64) -> String {
    let date = js_sys::Date::new(&(at as f64).into());
    date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}

fn scope_label(scope: Scope) -> &'static str {
    match scope {
        Scope::Read => "read",
        Scope::ReadWrite => "read and write",
    }
}

#[component]
pub(crate) fn ApiKeys(site: String) -> impl IntoView {
    let keys = RwSignal::new(Vec::<ApiKeyView>::new());
    let made = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let writes = RwSignal::new(false);
    let path = StoredValue::new(format!("/api/admin/sites/{site}/api-keys"));
    let load = move || {
        spawn_local(async move {
            match api::get::<Vec<ApiKeyView>>(&path.get_value()).await {
                Ok(found) => keys.set(found),
                Err(failure) => note.set(Some(failure.message())),
            }
        });
    };
    load();
    let make = move || {
        let form = NewApiKeyForm {
            name: name.get_untracked(),
            scope: if writes.get_untracked() {
                Scope::ReadWrite
            } else {
                Scope::Read
            },
        };
        spawn_local(async move {
            match api::send::<CreatedApiKey>("POST", &path.get_value(), &form).await {
                Ok(created) => {
                    made.set(Some(created.key));
                    note.set(None);
                    name.set(String::new());
                }
                Err(failure) => note.set(Some(failure.message())),
            }
            load();
        });
    };
    let revoke = move |id: i64| {
        spawn_local(async move {
            let target = format!("{}/{id}", path.get_value());
            if let Err(failure) = api::act("DELETE", &target, None::<&()>).await {
                note.set(Some(failure.message()));
            }
            load();
        });
    };
    view! {
        <section class="api-keys" aria-label="API keys">
            <h4>"API keys, for the site's own servers (the REST API, "<a href="/api/v1/docs" target="_blank" rel="noopener">"reference"</a>")"</h4>
            <ul>
                {move || keys.get().into_iter().map(|key| {
                    let id = key.id;
                    let used = key.last_used_at.map_or_else(|| "never used".to_owned(), |at| format!("last used {}", when(at)));
                    let revoked = key.revoked_at.is_some();
                    view! {
                        <li class:revoked=revoked>
                            <strong>{key.name}</strong>" " <code>{key.prefix}</code>" · "{scope_label(key.scope)}" · "{used}
                            {if revoked {
                                view! { " · revoked" }.into_any()
                            } else {
                                view! { " " <button type="button" class="ghost danger" on:click=move |_| revoke(id)>"Revoke"</button> }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <form class="inline-form" on:submit=move |event| { event.prevent_default(); make(); }>
                <input aria-label="New key's name" placeholder="name, e.g. CRM sync" prop:value=move || name.get() on:input=move |event| name.set(event_target_value(&event))/>
                <label><input type="checkbox" aria-label="Key may write" prop:checked=move || writes.get() on:change=move |event| writes.set(event_target_checked(&event))/>" may write"</label>
                <button type="submit">"Make key"</button>
            </form>
            <Show when=move || made.with(Option::is_some)>
                <p class="made-key" role="status">"The new key, shown this once — copy it now: " <code>{move || made.get().unwrap_or_default()}</code></p>
            </Show>
            <Show when=move || note.with(Option::is_some)>
                <p class="notice" role="alert">{move || note.get().unwrap_or_default()}</p>
            </Show>
        </section>
    }
}
