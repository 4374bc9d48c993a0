//! A site's webhooks on the Sites page: add one (its secret shown once), see what each
//! sends and why the relay turned one off, turn it off and on, rotate its secret,
//! delete it, and its Deliveries tab with a redeliver button per request.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::profiles::ProfileLine;
use porchlight_protocol::api::webhooks::{
    DeliveryView, MessageTypes, WebhookEvent, WebhookSecret, WebhookView,
};

use crate::api;
use crate::webhooks::{Draft, delivery_cells, event_label, summary, switched, types_label};

fn when(at: i64) -> String {
    let date = js_sys::Date::new(&(at as f64).into());
    date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}

#[derive(Clone, Copy)]
struct Section {
    path: StoredValue<String>,
    hooks: RwSignal<Vec<WebhookView>>,
    secret: RwSignal<Option<(String, String)>>,
    note: RwSignal<Option<String>>,
}

impl Section {
    fn load(self) {
        spawn_local(async move {
            match api::get::<Vec<WebhookView>>(&self.path.get_value()).await {
                Ok(found) => self.hooks.set(found),
                Err(failure) => self.note.set(Some(failure.message())),
            }
        });
    }

    /// Shows a secret (new, or rotated) once, with the endpoint it belongs to.
    fn show_secret(self, made: WebhookSecret) {
        self.secret.set(Some((made.webhook.name, made.secret)));
        self.note.set(None);
    }
}

#[component]
pub(crate) fn Webhooks(site: String, profiles: Signal<Vec<ProfileLine>>) -> impl IntoView {
    let section = Section {
        path: StoredValue::new(format!("/api/admin/sites/{site}/webhooks")),
        hooks: RwSignal::new(Vec::new()),
        secret: RwSignal::new(None),
        note: RwSignal::new(None),
    };
    section.load();
    view! {
        <section class="webhooks" aria-label="Webhooks">
            <h4>"Webhooks: chat events posted to your servers, signed ("<a href="/api/v1/docs" target="_blank" rel="noopener">"API"</a>")"</h4>
            <ul class="webhook-list">
                {move || section.hooks.get().into_iter().map(|hook| view! { <Endpoint section=section hook=hook/> }).collect_view()}
            </ul>
            <AddWebhook section=section profiles=profiles/>
            <Show when=move || section.secret.with(Option::is_some)>
                <p class="made-key" role="status">{move || {
                    let (name, secret) = section.secret.get().unwrap_or_default();
                    view! { "The signing secret of \"" {name} "\", shown this once — copy it now: " <code>{secret}</code> }
                }}</p>
            </Show>
            <Show when=move || section.note.with(Option::is_some)>
                <p class="notice" role="alert">{move || section.note.get().unwrap_or_default()}</p>
            </Show>
        </section>
    }
}

#[component]
fn Endpoint(section: Section, hook: WebhookView) -> impl IntoView {
    let path = format!("{}/{}", section.path.get_value(), hook.id);
    let tab_open = RwSignal::new(false);
    let change = {
        let (hook, path) = (hook.clone(), path.clone());
        move |_| {
            let (form, path) = (switched(&hook, !hook.enabled), path.clone());
            spawn_local(async move {
                if let Err(failure) = api::send::<WebhookView>("PUT", &path, &form).await {
                    section.note.set(Some(failure.message()));
                }
                section.load();
            });
        }
    };
    let rotate = {
        let path = path.clone();
        move |_| {
            let path = format!("{path}/rotate-secret");
            spawn_local(async move {
                match api::post::<WebhookSecret>(&path).await {
                    Ok(made) => section.show_secret(made),
                    Err(failure) => section.note.set(Some(failure.message())),
                }
            });
        }
    };
    let delete = {
        let path = path.clone();
        move |_| {
            let path = path.clone();
            spawn_local(async move {
                if let Err(failure) = api::act("DELETE", &path, None::<&()>).await {
                    section.note.set(Some(failure.message()));
                }
                section.load();
            });
        }
    };
    let state = if hook.enabled { "on" } else { "off" };
    view! {
        <li class:off=!hook.enabled aria-label=format!("Webhook {}", hook.name)>
            <strong>{hook.name.clone()}</strong>" " <code>{hook.url.clone()}</code>" · "{state}
            <br/><span class="hint">{summary(&hook)}</span>
            {hook.disabled_reason.clone().map(|why| view! { <p class="notice">"Turned off: "{why}</p> })}
            <div class="inline-form">
                <button type="button" class="ghost" on:click=move |_| tab_open.update(|open| *open = !*open)>"Deliveries"</button>
                <button type="button" class="ghost" on:click=change>{if hook.enabled { "Turn off" } else { "Turn on" }}</button>
                <button type="button" class="ghost" on:click=rotate>"Rotate secret"</button>
                <button type="button" class="ghost danger" on:click=delete>"Delete"</button>
            </div>
            <Show when=move || tab_open.get()>
                <Deliveries section=section path=path.clone()/>
            </Show>
        </li>
    }
}

#[component]
fn Deliveries(section: Section, path: String) -> impl IntoView {
    let lines = RwSignal::new(Vec::<DeliveryView>::new());
    let path = StoredValue::new(format!("{path}/deliveries"));
    let load = move || {
        spawn_local(async move {
            match api::get::<Vec<DeliveryView>>(&path.get_value()).await {
                Ok(found) => lines.set(found),
                Err(failure) => section.note.set(Some(failure.message())),
            }
        });
    };
    load();
    let redeliver = move |id: i64| {
        spawn_local(async move {
            let target = format!("{}/{id}/redeliver", path.get_value());
            if let Err(failure) = api::act("POST", &target, None::<&()>).await {
                section.note.set(Some(failure.message()));
            }
            load();
        });
    };
    view! {
        <table class="deliveries" aria-label="Deliveries">
            <thead><tr><th>"Time"</th><th>"Event"</th><th>"Status"</th><th>"Code"</th><th>"Took"</th><th>"Answer"</th><th><button type="button" class="ghost" on:click=move |_| load()>"Refresh"</button></th></tr></thead>
            <tbody>
                {move || lines.get().into_iter().map(|line| {
                    let id = line.id;
                    let [event, status, code, took, said] = delivery_cells(&line);
                    view! {
                        <tr>
                            <td>{when(line.last_attempt_at.unwrap_or(line.created_at))}</td>
                            <td><details><summary title=line.webhook_id.clone()>{event}</summary><pre class="excerpt">{line.body.clone()}</pre></details></td>
                            <td>{status}</td><td>{code}</td><td>{took}</td>
                            <td><code class="excerpt">{said}</code></td>
                            <td><button type="button" class="ghost" on:click=move |_| redeliver(id)>"Redeliver"</button></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <Show when=move || lines.with(Vec::is_empty)>
            <p class="hint">"Nothing sent yet."</p>
        </Show>
    }
}

/// The add form's typed fields (the choices live in the [`Draft`] signal).
#[derive(Clone, Copy)]
struct Typed {
    name: RwSignal<String>,
    url: RwSignal<String>,
    batch_max: RwSignal<String>,
    batch_seconds: RwSignal<String>,
    header_name: RwSignal<String>,
    header_value: RwSignal<String>,
}

impl Typed {
    fn new() -> Self {
        let empty = || RwSignal::new(String::new());
        Self {
            name: empty(),
            url: empty(),
            batch_max: empty(),
            batch_seconds: empty(),
            header_name: empty(),
            header_value: empty(),
        }
    }

    /// The draft with what is typed.
    fn into_draft(self, choices: Draft) -> Draft {
        Draft {
            name: self.name.get_untracked(),
            url: self.url.get_untracked(),
            batch_max: self.batch_max.get_untracked(),
            batch_seconds: self.batch_seconds.get_untracked(),
            header_name: self.header_name.get_untracked(),
            header_value: self.header_value.get_untracked(),
            ..choices
        }
    }

    fn clear(self) {
        for field in [
            self.name,
            self.url,
            self.batch_max,
            self.batch_seconds,
            self.header_name,
            self.header_value,
        ] {
            field.set(String::new());
        }
    }
}

fn text_field(label: &'static str, hint: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <input aria-label=label placeholder=hint prop:value=move || value.get()
            on:input=move |event| value.set(event_target_value(&event))/>
    }
}

#[component]
fn AddWebhook(section: Section, profiles: Signal<Vec<ProfileLine>>) -> impl IntoView {
    let draft = RwSignal::new(Draft::default());
    let typed = Typed::new();
    let add = move || {
        let form = match typed.into_draft(draft.get_untracked()).form() {
            Ok(form) => form,
            Err(why) => return section.note.set(Some(why)),
        };
        spawn_local(async move {
            match api::send::<WebhookSecret>("POST", &section.path.get_value(), &form).await {
                Ok(made) => {
                    section.show_secret(made);
                    draft.set(Draft::default());
                    typed.clear();
                }
                Err(failure) => section.note.set(Some(failure.message())),
            }
            section.load();
        });
    };
    view! {
        <form class="add-webhook" aria-label="Add webhook" on:submit=move |event| { event.prevent_default(); add(); }>
            {text_field("Webhook name", "name, e.g. CRM", typed.name)}
            {text_field("Webhook URL", "https://…", typed.url)}
            <fieldset><legend>"Events"</legend>
                {WebhookEvent::ALL.into_iter().map(|event| view! {
                    <label><input type="checkbox" aria-label=event_label(event)
                        prop:checked=move || draft.with(|draft| draft.events.contains(event.as_str()))
                        on:change=move |change| draft.update(|draft| {
                            if event_target_checked(&change) { draft.events.insert(event.as_str()); } else { draft.events.remove(event.as_str()); }
                        })/>" "{event_label(event)}</label>
                }).collect_view()}
            </fieldset>
            <label>"Messages "<select aria-label="Message types" on:change=move |event| {
                let types = MessageTypes::parse(&event_target_value(&event)).unwrap_or_default();
                draft.update(|draft| draft.types = types);
            }>
                {MessageTypes::ALL.into_iter().map(|types| view! {
                    <option value=types.as_str() selected=move || draft.with(|draft| draft.types == types)>{types_label(types)}</option>
                }).collect_view()}
            </select></label>
            <label>"Chat profile "<select aria-label="Webhook profile" on:change=move |event| {
                let profile = event_target_value(&event).parse().ok();
                draft.update(|draft| draft.profile = profile);
            }>
                <option value="" selected=move || draft.with(|draft| draft.profile.is_none())>"All profiles"</option>
                {move || profiles.get().into_iter().map(|line| view! { <option value=line.id.to_string()>{line.name}</option> }).collect_view()}
            </select></label>
            {text_field("Events per request", "batch: events per request", typed.batch_max)}
            {text_field("Longest wait", "batch: longest wait, s", typed.batch_seconds)}
            {text_field("Header name", "header, e.g. Authorization", typed.header_name)}
            {text_field("Header value", "header value", typed.header_value)}
            <button type="submit">"Add webhook"</button>
        </form>
    }
}
