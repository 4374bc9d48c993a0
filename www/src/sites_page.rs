//! The admins' Sites page: add a site, rename it, set the origins that may embed its
//! chat, pick its chat profile and retention, and copy the tag that embeds it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::profiles::ProfileLine;
use porchlight_protocol::api::sites::{NewSite, SiteForm, SiteView};
use wasm_bindgen::JsCast;

use crate::api;
use crate::api_keys::ApiKeys;
use crate::webhooks_section::Webhooks;

/// What the page shows, and what the last change did.
#[derive(Clone, Copy)]
struct Page {
    sites: RwSignal<Vec<SiteView>>,
    profiles: RwSignal<Vec<ProfileLine>>,
    note: RwSignal<Option<String>>,
}

impl Page {
    async fn load(self) {
        match api::get::<Vec<SiteView>>("/api/admin/sites").await {
            Ok(sites) => self.sites.set(sites),
            Err(failure) => self.note.set(Some(failure.message())),
        }
        if let Ok(profiles) = api::get("/api/profiles").await {
            self.profiles.set(profiles);
        }
    }

    /// Sends a change; says what happened and reloads the page.
    fn change(
        self,
        method: &'static str,
        path: String,
        body: impl serde::Serialize + 'static,
        done: String,
    ) {
        spawn_local(async move {
            let note = match api::act(method, &path, Some(&body)).await {
                Ok(()) => done,
                Err(failure) => failure.message(),
            };
            self.note.set(Some(note));
            self.load().await;
        });
    }
}

/// One origin per line or comma, as the admin typed them.
fn origins_from(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(str::to_owned)
        .collect()
}

#[component]
pub(crate) fn SitesPage() -> impl IntoView {
    let page = Page {
        sites: RwSignal::new(Vec::new()),
        profiles: RwSignal::new(Vec::new()),
        note: RwSignal::new(None),
    };
    spawn_local(page.load());
    view! {
        <main class="admin-page">
            <h2>"Sites"</h2>
            <p class="hint">"Each site has its own key, chat profile and allowed origins. Paste a site's tag before </body> on its pages."</p>
            <Show when=move || page.note.with(Option::is_some)>
                <p class="notice" role="status">{move || page.note.get().unwrap_or_default()}</p>
            </Show>
            <For each=move || page.sites.get() key=|site| format!("{site:?}") let:site>
                <SiteCard page=page site=site/>
            </For>
            <AddSite page=page/>
        </main>
    }
}

#[component]
fn AddSite(page: Page) -> impl IntoView {
    let key = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let origins = RwSignal::new(String::new());
    let add = move || {
        let site = NewSite {
            key: key.get_untracked(),
            name: name.get_untracked(),
            allowed_origins: origins_from(&origins.get_untracked()),
        };
        let done = format!(
            "Site \"{}\" added. Paste its tag into the site's pages.",
            site.name.trim()
        );
        page.change("POST", "/api/admin/sites".to_owned(), site, done);
        key.set(String::new());
        name.set(String::new());
        origins.set(String::new());
    };
    view! {
        <section aria-label="Add a site">
            <h3>"Add a site"</h3>
            <form class="inline-form" on:submit=move |event| { event.prevent_default(); add(); }>
                <input aria-label="New site's key" placeholder="key, e.g. shop" prop:value=move || key.get() on:input=move |event| key.set(event_target_value(&event))/>
                <input aria-label="New site's name" placeholder="name" prop:value=move || name.get() on:input=move |event| name.set(event_target_value(&event))/>
                <input aria-label="New site's origins" placeholder="https://shop.example.com" prop:value=move || origins.get() on:input=move |event| origins.set(event_target_value(&event))/>
                <button type="submit">"Add site"</button>
            </form>
        </section>
    }
}

#[component]
fn SiteCard(page: Page, site: SiteView) -> impl IntoView {
    let key = site.key.clone();
    let name = RwSignal::new(site.name.clone());
    let origins = RwSignal::new(site.allowed_origins.join("\n"));
    let profile = RwSignal::new(site.profile_id);
    let retention = RwSignal::new(
        site.retention_days
            .map(|days| days.to_string())
            .unwrap_or_default(),
    );
    let verified_only = RwSignal::new(site.require_verified_identity);
    let copied = RwSignal::new(false);
    let own_profiles = {
        let key = key.clone();
        move || {
            page.profiles
                .get()
                .into_iter()
                .filter(|line| line.site == key)
                .collect::<Vec<_>>()
        }
    };
    let webhook_profiles = Signal::derive(own_profiles.clone());
    let save = {
        let key = key.clone();
        move |_| {
            let retention_days = match retention.get_untracked().trim() {
                "" => None,
                days => match days.parse() {
                    Ok(days) => Some(days),
                    Err(_) => {
                        page.note.set(Some(
                            "Keep ended chats for a whole number of days, or leave it empty."
                                .into(),
                        ));
                        return;
                    }
                },
            };
            let form = SiteForm {
                name: name.get_untracked(),
                allowed_origins: origins_from(&origins.get_untracked()),
                profile_id: profile.get_untracked(),
                retention_days,
                require_verified_identity: verified_only.get_untracked(),
            };
            page.change(
                "PUT",
                format!("/api/admin/sites/{key}"),
                form,
                format!("Site \"{key}\" saved."),
            );
        }
    };
    let embed = site.embed.clone();
    let snippet_id = format!("embed-{key}");
    let copy = {
        let snippet_id = snippet_id.clone();
        move |_| copied.set(copy_snippet(&snippet_id, &embed))
    };
    view! {
        <section class="site-card" aria-label=format!("Site {key}")>
            <h3>{site.name.clone()} " " <code>{key.clone()}</code></h3>
            <label class="setting">"Name"
                <input aria-label="Site name" prop:value=move || name.get() on:input=move |event| name.set(event_target_value(&event))/></label>
            <label class="setting">"Allowed origins (one per line)"
                <textarea aria-label="Allowed origins" rows="2" prop:value=move || origins.get() on:input=move |event| origins.set(event_target_value(&event))></textarea></label>
            <label class="setting">"Chat profile"
                <select aria-label="Chat profile"
                    on:change=move |event| profile.set(event_target_value(&event).parse().ok())>
                    {move || own_profiles().into_iter().map(|line| view! {
                        <option value=line.id.to_string() selected=profile.get() == Some(line.id)>{line.name}</option>
                    }).collect_view()}
                </select></label>
            <label class="setting">"Delete ended chats after"
                <input type="number" min="1" max="3650" class="narrow" aria-label="Retention days" placeholder="keep"
                    prop:value=move || retention.get() on:input=move |event| retention.set(event_target_value(&event))/>
                " days (empty: keep them)"</label>
            <label class="setting check">
                <input type="checkbox" aria-label="Require verified identity"
                    prop:checked=move || verified_only.get() on:change=move |event| verified_only.set(event_target_checked(&event))/>
                " Require verified identity: Porchlight.identify needs a token signed with the secret"</label>
            <button class="save-site" on:click=save>"Save site"</button>
            <label class="setting embed">"Embed tag"
                <textarea id=snippet_id readonly rows="2" aria-label="Embed tag">{site.embed.clone()}</textarea></label>
            <button class="ghost" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy tag" }}</button>
            <p class="hint">"Secret, for the site's server to sign visitors' identity tokens (an HS256 JWT) and links to tickets (data-ticket-token = hex(HMAC-SHA256(secret, 'ticket:ID'))): "
                <code>{site.secret.clone()}</code></p>
            <ApiKeys site=key.clone()/>
            <Webhooks site=key.clone() profiles=webhook_profiles/>
        </section>
    }
}

/// Copies the tag through the clipboard API where the page may (https or localhost);
/// else selects it, so Ctrl+C copies it. Says whether it was copied.
fn copy_snippet(id: &str, text: &str) -> bool {
    let navigator = window().navigator();
    let has_clipboard = js_sys::Reflect::has(&navigator, &"clipboard".into()).unwrap_or(false);
    if has_clipboard {
        drop(navigator.clipboard().write_text(text));
        return true;
    }
    if let Some(area) = document()
        .get_element_by_id(id)
        .and_then(|element| element.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    {
        area.select();
    }
    false
}
