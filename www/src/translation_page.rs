//! The AI page's translation service, for when no AI provider is set: LibreTranslate
//! or Azure Translator (the key is write-only).

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::ai::{TranslationForm, TranslationService, TranslationView};

use crate::api;

fn service_word(service: TranslationService) -> &'static str {
    match service {
        TranslationService::None => "none",
        TranslationService::Libretranslate => "libretranslate",
        TranslationService::Azure => "azure",
    }
}

#[component]
pub(crate) fn TranslationSettings() -> impl IntoView {
    let service = RwSignal::new(TranslationService::None);
    let url = RwSignal::new(String::new());
    let region = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let key_set = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    let show = move |view: TranslationView| {
        service.set(view.service);
        url.set(view.url);
        region.set(view.region);
        key.set(String::new());
        key_set.set(view.key_set);
    };
    spawn_local(async move {
        if let Ok(view) = api::get::<TranslationView>("/api/admin/translation").await {
            show(view);
        }
    });
    let save = move |_| {
        let form = TranslationForm {
            service: service.get_untracked(),
            url: url.get_untracked(),
            region: region.get_untracked(),
            key: key.get_untracked(),
        };
        spawn_local(async move {
            match api::send::<TranslationView>("PUT", "/api/admin/translation", &form).await {
                Ok(view) => {
                    show(view);
                    note.set(Some("Translation settings saved.".into()));
                }
                Err(failure) => note.set(Some(failure.message())),
            }
        });
    };
    let field = |label: &'static str, signal: RwSignal<String>, placeholder: &'static str| {
        view! {
            <label class="setting">{label}
                <input aria-label=label placeholder=placeholder prop:value=move || signal.get()
                    on:input=move |event| signal.set(event_target_value(&event))/></label>
        }
    };
    view! {
        <section aria-label="Translation">
            <h2>"Translation"</h2>
            <p class="hint">"Agents translate a visitor's message and send replies in the visitor's language. With an AI provider, the provider translates; without one, this service does."</p>
            <Show when=move || note.with(Option::is_some)>
                <p class="notice" role="status">{move || note.get().unwrap_or_default()}</p>
            </Show>
            <label class="setting">"Service"
                <select aria-label="Translation service" on:change=move |event| service.set(match event_target_value(&event).as_str() {
                    "libretranslate" => TranslationService::Libretranslate,
                    "azure" => TranslationService::Azure,
                    _ => TranslationService::None,
                })>
                    {[(TranslationService::None, "None"), (TranslationService::Libretranslate, "LibreTranslate"), (TranslationService::Azure, "Azure Translator")]
                        .into_iter().map(|(value, label)| view! {
                            <option value=service_word(value) selected=move || service.get() == value>{label}</option>
                        }).collect_view()}
                </select></label>
            <div hidden=move || service.get() == TranslationService::None>
                {field("Service address", url, "https://translate.example.com (Azure: leave empty for the global endpoint)")}
                {field("Region", region, "Azure only, e.g. westeurope")}
                <label class="setting">"Key"
                    <input type="password" aria-label="Translation key" autocomplete="new-password"
                        placeholder=move || if key_set.get() { "saved (type to replace)" } else { "" }
                        prop:value=move || key.get() on:input=move |event| key.set(event_target_value(&event))/></label>
            </div>
            <button on:click=save>"Save translation settings"</button>
        </section>
    }
}
