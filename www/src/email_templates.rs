//! The Email page's templates: each site's wording of the team's new-ticket email,
//! the transcript and a ticket reply, with the variables each may use.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::email::{EmailTemplateForm, EmailTemplateView, TemplateKind};
use porchlight_protocol::api::sites::SiteView;

use crate::api;

fn kind_title(kind: TemplateKind) -> &'static str {
    match kind {
        TemplateKind::NewTicket => "New ticket (to the team)",
        TemplateKind::Transcript => "Transcript (to the visitor)",
        TemplateKind::TicketReply => "Reply on a ticket (to the requester)",
    }
}

#[component]
pub(crate) fn EmailTemplates(note: RwSignal<Option<String>>) -> impl IntoView {
    let sites = RwSignal::new(Vec::<SiteView>::new());
    let site = RwSignal::new(String::new());
    let templates = RwSignal::new(Vec::<EmailTemplateView>::new());
    let load = move |key: String| {
        site.set(key.clone());
        spawn_local(async move {
            let path = format!("/api/admin/sites/{key}/email-templates");
            let answer = api::get(&path).await;
            // A late answer for a site no longer picked is not shown.
            if site.get_untracked() != key {
                return;
            }
            match answer {
                Ok(list) => templates.set(list),
                Err(failure) => note.set(Some(failure.message())),
            }
        });
    };
    spawn_local(async move {
        if let Ok(list) = api::get::<Vec<SiteView>>("/api/admin/sites").await {
            if let Some(first) = list.first() {
                load(first.key.clone());
            }
            sites.set(list);
        }
    });
    view! {
        <section aria-label="Email templates">
            <h3>"Templates"</h3>
            <p class="hint">"Each site's wording. A line whose variables are all empty is left out; leave both fields empty to go back to the default."</p>
            <label class="setting">"Site"
                <select aria-label="Templates of site" on:change=move |event| {
                    load(event_target_value(&event));
                }>
                    {move || sites.get().into_iter().map(|one| {
                        let key = one.key.clone();
                        view! { <option value=key.clone() selected=move || site.get() == key>{one.name.clone()}</option> }
                    }).collect_view()}
                </select></label>
            {move || templates.get().into_iter().map(|template| view! {
                <TemplateEditor site=site.get_untracked() template=template note=note/>
            }).collect_view()}
        </section>
    }
}

#[component]
fn TemplateEditor(
    site: String,
    template: EmailTemplateView,
    note: RwSignal<Option<String>>,
) -> impl IntoView {
    let kind = template.kind;
    let subject = RwSignal::new(template.subject);
    let body = RwSignal::new(template.body);
    let custom = RwSignal::new(template.custom);
    let site = StoredValue::new(site);
    let save = move |form: EmailTemplateForm| {
        let path = format!(
            "/api/admin/sites/{}/email-templates/{}",
            site.get_value(),
            kind.as_str()
        );
        spawn_local(async move {
            match api::send::<EmailTemplateView>("PUT", &path, &form).await {
                Ok(saved) => {
                    subject.set(saved.subject);
                    body.set(saved.body);
                    custom.set(saved.custom);
                    note.set(Some(format!("{} saved.", kind_title(kind))));
                }
                Err(failure) => note.set(Some(failure.message())),
            }
        });
    };
    let title = kind_title(kind);
    view! {
        <fieldset class="template" aria-label=title>
            <legend>{title}{move || if custom.get() { " · your own" } else { " · default" }}</legend>
            <label class="setting">"Subject"
                <input aria-label=format!("{title}: subject") prop:value=move || subject.get()
                    on:input=move |event| subject.set(event_target_value(&event))/></label>
            <label class="setting">"Body"
                <textarea rows="6" aria-label=format!("{title}: body") prop:value=move || body.get()
                    on:input=move |event| body.set(event_target_value(&event))></textarea></label>
            <ul class="hint variables">
                {template.variables.into_iter().map(|(name, about)| view! { <li><code>{name}</code>" — "{about}</li> }).collect_view()}
            </ul>
            <button on:click=move |_| save(EmailTemplateForm { subject: subject.get_untracked(), body: body.get_untracked() })>"Save template"</button>
            <button class="ghost" on:click=move |_| save(EmailTemplateForm::default())>"Use the default"</button>
        </fieldset>
    }
}
