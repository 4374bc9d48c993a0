//! The admins' AI page: the provider (with "Test connection") and the knowledge the
//! AI agent answers from (upload, crawl, delete).

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use porchlight_protocol::api::ai::ConnectionTest;
use porchlight_protocol::api::knowledge::{
    CrawlReport, CrawlRequest, DocumentInfo, Upload, Uploaded,
};

use crate::api;
use crate::translation_page::TranslationSettings;

/// The provider form's fields, by name, as the relay's settings call them.
const FIELDS: [(&str, &str, &[&str]); 9] = [
    ("chat_model", "Chat model", &["openai", "compatible"]),
    (
        "embedding_model",
        "Embedding model (optional)",
        &["openai", "compatible"],
    ),
    ("base_url", "Base URL", &["openai", "compatible"]),
    ("endpoint", "Endpoint", &["azure"]),
    ("api_version", "API version", &["azure"]),
    ("chat_deployment", "Chat deployment", &["azure"]),
    (
        "embedding_deployment",
        "Embedding deployment (optional)",
        &["azure"],
    ),
    (
        "timeout_secs",
        "Timeout (seconds)",
        &["openai", "compatible", "azure"],
    ),
    (
        "daily_model_calls",
        "Model calls a day (then chats go to a person)",
        &["openai", "compatible", "azure"],
    ),
];

#[component]
pub(crate) fn AiPage() -> impl IntoView {
    view! {
        <main class="admin-page">
            <ProviderSettings/>
            <TranslationSettings/>
            <Knowledge/>
        </main>
    }
}

/// The provider form: which model service, its settings, Save and Test connection.
#[component]
fn ProviderSettings() -> impl IntoView {
    let settings = RwSignal::new(json!({}));
    let api_key = RwSignal::new(String::new());
    let provider_note = RwSignal::new(None::<String>);
    spawn_local(async move {
        if let Ok(view) = api::get("/api/admin/ai").await {
            settings.set(view);
        }
    });
    let form = move || {
        let mut form = settings.get_untracked();
        if let Some(object) = form.as_object_mut() {
            object.remove("api_key_set");
            object.insert("api_key".into(), json!(api_key.get_untracked()));
            for (key, default) in [("timeout_secs", 30), ("daily_model_calls", 2000)] {
                let number = object
                    .get(key)
                    .and_then(|value| value.as_u64().or_else(|| value.as_str()?.parse().ok()))
                    .unwrap_or(default);
                object.insert(key.into(), json!(number));
            }
        }
        form
    };
    let save = move || {
        let payload = form();
        spawn_local(async move {
            match api::send::<Value>("PUT", "/api/admin/ai", &payload).await {
                Ok(view) => {
                    settings.set(view);
                    api_key.set(String::new());
                    provider_note.set(Some("Saved. The AI agent uses these settings now.".into()));
                }
                Err(failure) => provider_note.set(Some(failure.message())),
            }
        });
    };
    let test = move || {
        let payload = form();
        provider_note.set(Some("Testing…".into()));
        spawn_local(async move {
            match api::send::<ConnectionTest>("POST", "/api/admin/ai/test", &payload).await {
                Ok(answer) => {
                    let verdict = if answer.ok {
                        "Connection works"
                    } else {
                        "Connection failed"
                    };
                    provider_note.set(Some(format!("{verdict}: {}", answer.message)));
                }
                Err(failure) => provider_note.set(Some(failure.message())),
            }
        });
    };
    let provider = move || {
        settings.with(|settings| settings["provider"].as_str().unwrap_or("none").to_owned())
    };

    view! {
            <h2>"AI provider"</h2>
            <p class="hint">"With no provider the AI agent answers with the best matching passages, cited. Keys are never shown again once saved."</p>
            <form class="ai-form" on:submit=move |event| { event.prevent_default(); save(); }>
                <label>"Provider"
                    <select aria-label="Provider" prop:value=provider on:change=move |event| {
                        let chosen = event_target_value(&event);
                        settings.update(|settings| settings["provider"] = json!(chosen));
                    }>
                        <option value="none">"None (cited passages)"</option>
                        <option value="openai">"OpenAI"</option>
                        <option value="azure">"Azure OpenAI"</option>
                        <option value="compatible">"OpenAI-compatible (Ollama, vLLM, LM Studio)"</option>
                    </select>
                </label>
                <Show when=move || provider() != "none">
                    <label>"API key"
                        <input type="password" aria-label="API key" autocomplete="off"
                            placeholder=move || if settings.with(|s| s["api_key_set"] == true) { "Saved (leave empty to keep)" } else { "" }
                            prop:value=move || api_key.get() on:input=move |event| api_key.set(event_target_value(&event))/>
                    </label>
                </Show>
                {FIELDS.iter().map(|(key, label, providers)| {
                    let key = *key;
                    view! {
                        <Show when=move || providers.contains(&provider().as_str())>
                            <label>{*label}
                                <input aria-label=*label
                                    prop:value=move || settings.with(|settings| match &settings[key] {
                                        Value::String(text) => text.clone(),
                                        Value::Null => String::new(),
                                        other => other.to_string(),
                                    })
                                    on:input=move |event| {
                                        let value = event_target_value(&event);
                                        settings.update(|settings| settings[key] = json!(value));
                                    }/>
                            </label>
                        </Show>
                    }
                }).collect_view()}
                <div class="actions">
                    <button type="submit">"Save"</button>
                    <button type="button" class="ghost" on:click=move |_| test()>"Test connection"</button>
                </div>
            </form>
            <Show when=move || provider_note.with(Option::is_some)>
                <p class="notice" role="status">{move || provider_note.get().unwrap_or_default()}</p>
            </Show>
    }
}

/// The site's knowledge: upload files, crawl a help site, list and delete documents.
#[component]
fn Knowledge() -> impl IntoView {
    let documents = RwSignal::new(Vec::<DocumentInfo>::new());
    let knowledge_note = RwSignal::new(None::<String>);
    let crawl_url = RwSignal::new(String::new());
    let load_documents = move || {
        spawn_local(async move {
            if let Ok(list) = api::get("/api/admin/knowledge").await {
                documents.set(list);
            }
        });
    };
    load_documents();
    let upload = move |event: leptos::ev::Event| {
        let Some(input) = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(files) = input.files() else {
            return;
        };
        let chosen: Vec<web_sys::File> = (0..files.length())
            .filter_map(|index| files.get(index))
            .collect();
        input.set_value("");
        spawn_local(async move {
            let mut notes = Vec::new();
            for file in chosen {
                let name = file.name();
                let text = match JsFuture::from(file.text()).await {
                    Ok(text) => text.as_string().unwrap_or_default(),
                    Err(_) => {
                        notes.push(format!("{name}: cannot read the file"));
                        continue;
                    }
                };
                let payload = Upload {
                    name: name.clone(),
                    text,
                };
                match api::send::<Uploaded>("POST", "/api/admin/knowledge", &payload).await {
                    Ok(answer) => notes.push(format!(
                        "{name}: {} ({} passages)",
                        answer.outcome.as_str(),
                        answer.chunks
                    )),
                    Err(failure) => notes.push(format!("{name}: {}", failure.message())),
                }
            }
            knowledge_note.set(Some(notes.join(" · ")));
            load_documents();
        });
    };
    let crawl = move || {
        let payload = CrawlRequest {
            url: crawl_url.get_untracked(),
            max_pages: None,
            max_depth: None,
        };
        knowledge_note.set(Some("Crawling…".into()));
        spawn_local(async move {
            match api::send::<CrawlReport>("POST", "/api/admin/knowledge/crawl", &payload).await {
                Ok(report) => {
                    knowledge_note.set(Some(format!(
                        "Crawled {} page(s): {} added, {} updated, {} unchanged, {} skipped.",
                        report.pages,
                        report.added,
                        report.updated,
                        report.unchanged,
                        report.skipped.len()
                    )));
                    load_documents();
                }
                Err(failure) => knowledge_note.set(Some(failure.message())),
            }
        });
    };
    let remove = move |id: i64| {
        spawn_local(async move {
            let path = format!("/api/admin/knowledge/{id}");
            match api::act("DELETE", &path, None::<&()>).await {
                Ok(()) => {
                    knowledge_note.set(Some("Deleted.".into()));
                    load_documents();
                }
                Err(failure) => knowledge_note.set(Some(failure.message())),
            }
        });
    };
    view! {
            <h2>"Knowledge"</h2>
            <p class="hint">"Markdown, HTML and text, split at headings. Uploading a file with the same name replaces it."</p>
            <div class="knowledge-tools">
                <label class="ghost upload">"Upload files"
                    <input type="file" multiple=true accept=".md,.markdown,.html,.htm,.txt" aria-label="Upload knowledge" on:change=upload/>
                </label>
                <form on:submit=move |event| { event.prevent_default(); crawl(); }>
                    <input aria-label="Site to crawl" placeholder="https://help.example.com/ or its sitemap.xml"
                        prop:value=move || crawl_url.get() on:input=move |event| crawl_url.set(event_target_value(&event))/>
                    <button type="submit">"Crawl"</button>
                </form>
            </div>
            <Show when=move || knowledge_note.with(Option::is_some)>
                <p class="notice" role="status">{move || knowledge_note.get().unwrap_or_default()}</p>
            </Show>
            <table class="knowledge-list">
                <thead><tr><th>"Title"</th><th>"Source"</th><th>"Passages"</th><th></th></tr></thead>
                <tbody>
                    <For each=move || documents.get() key=|document| (document.id, document.updated_at) children=move |document| {
                        let id = document.id;
                        view! {
                            <tr>
                                <td>{document.title}</td>
                                <td class="gist">{document.source}</td>
                                <td>{document.chunks}</td>
                                <td class="actions"><button class="ghost" on:click=move |_| remove(id)>"Delete"</button></td>
                            </tr>
                        }
                    }/>
                </tbody>
            </table>
    }
}
