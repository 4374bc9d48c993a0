//! The admins' Profiles page: the list, a TOML/JSON editor with each problem shown
//! next to its step, the step table, and "Try it" in a test widget.

use leptos::prelude::*;
use leptos::task::spawn_local;

use porchlight_protocol::api::profiles::{ProfileText, TextFormat};

use crate::api;
use crate::profiles::{self, Checked, ProblemLine, ProfileDoc, ProfileLine, STARTER, saved_note};

async fn load_list(list: RwSignal<Vec<ProfileLine>>) {
    if let Ok(lines) = api::get("/api/profiles").await {
        list.set(lines);
    }
}

#[derive(Clone, Copy)]
struct Editor {
    /// The profile being edited; `None` while creating one.
    selected: RwSignal<Option<ProfileLine>>,
    text: RwSignal<String>,
    format: RwSignal<TextFormat>,
    make_default: RwSignal<bool>,
    checked: RwSignal<Checked>,
    note: RwSignal<Option<String>>,
    preview: RwSignal<Option<String>>,
}

impl Editor {
    fn body(self) -> ProfileText {
        ProfileText {
            text: self.text.get_untracked(),
            format: self.format.get_untracked(),
            site: Some(
                self.selected
                    .get_untracked()
                    .map_or_else(|| "demo".to_owned(), |line| line.site),
            ),
            make_default: self.make_default.get_untracked(),
        }
    }

    fn show(self, doc: ProfileDoc) {
        self.text.set(doc.text);
        self.format.set(TextFormat::Toml);
        self.make_default.set(doc.default);
        self.checked.set(Checked {
            ok: true,
            problems: Vec::new(),
            steps: doc.steps,
        });
        self.selected.set(Some(ProfileLine {
            id: doc.id,
            name: doc.name,
            site: doc.site,
            default: doc.default,
            updated_at: 0,
        }));
    }
}

impl Editor {
    fn open(self, id: i64) {
        self.note.set(None);
        self.preview.set(None);
        spawn_local(async move {
            match api::get::<ProfileDoc>(&format!("/api/profiles/{id}")).await {
                Ok(doc) => self.show(doc),
                Err(failure) => self.note.set(Some(failure.message())),
            }
        });
    }

    fn start_new(self) {
        self.selected.set(None);
        self.text.set(STARTER.to_owned());
        self.format.set(TextFormat::Toml);
        self.make_default.set(false);
        self.checked.set(Checked::default());
        self.note.set(None);
        self.preview.set(None);
    }

    fn check(self) {
        spawn_local(async move {
            if let Ok(checked) =
                api::send::<Checked>("POST", "/api/profiles/check", &self.body()).await
            {
                self.note.set(Some(if checked.ok {
                    "No problems.".into()
                } else {
                    "Fix the problems below.".into()
                }));
                self.checked.set(checked);
            }
        });
    }

    /// Saves the text (a new profile, or the one open); a text with problems is
    /// refused and the problems show at their steps.
    fn save(self, list: RwSignal<Vec<ProfileLine>>) {
        let (method, path) = match self.selected.get_untracked() {
            Some(line) => ("PUT", format!("/api/profiles/{}", line.id)),
            None => ("POST", "/api/profiles".to_owned()),
        };
        spawn_local(async move {
            match api::send::<ProfileDoc>(method, &path, &self.body()).await {
                Ok(doc) => {
                    self.note.set(Some(saved_note(&doc).into()));
                    self.show(doc);
                    load_list(list).await;
                }
                Err(failure) if failure.status == 422 => {
                    if let Ok(checked) = serde_json::from_str::<Checked>(&failure.body) {
                        self.checked.set(checked);
                    }
                    self.note
                        .set(Some("Not saved: fix the problems below.".into()));
                }
                Err(failure) => self.note.set(Some(failure.message())),
            }
        });
    }

    /// Opens the profile in a test widget beside the editor.
    fn try_it(self) {
        if let Some(line) = self.selected.get_untracked() {
            self.preview.set(Some(format!(
                "/widget/?site={}&preview={}",
                line.site, line.id
            )));
        }
    }
}

#[component]
pub(crate) fn ProfilesPage() -> impl IntoView {
    let list = RwSignal::new(Vec::<ProfileLine>::new());
    let editor = Editor {
        selected: RwSignal::new(None),
        text: RwSignal::new(String::new()),
        format: RwSignal::new(TextFormat::Toml),
        make_default: RwSignal::new(false),
        checked: RwSignal::new(Checked::default()),
        note: RwSignal::new(None),
        preview: RwSignal::new(None),
    };
    spawn_local(load_list(list));
    view! {
        <div class="profiles">
            <ProfileList list=list editor=editor/>
            <EditorPane list=list editor=editor/>
            <Show when=move || editor.preview.with(Option::is_some)>
                <aside class="preview">
                    <h2>"Try it"</h2>
                    <iframe title="Chat preview" src=move || editor.preview.get().unwrap_or_default()></iframe>
                </aside>
            </Show>
        </div>
    }
}

/// The profiles, each with its site and whether it is the one in use.
#[component]
fn ProfileList(list: RwSignal<Vec<ProfileLine>>, editor: Editor) -> impl IntoView {
    view! {
        <aside class="side">
            <h2>"Chat profiles"</h2>
            <ul class="profile-list">
                <For
                    each=move || list.get()
                    key=|line| (line.id, line.updated_at, line.default)
                    children=move |line: ProfileLine| {
                        let id = line.id;
                        view! {
                            <li class:selected=move || editor.selected.with(|s| s.as_ref().map(|l| l.id) == Some(id))>
                                <button class="open" on:click=move |_| editor.open(id)>
                                    <span class="visitor">{line.name.clone()}</span>
                                    <span class="state">
                                        {format!("site {}", line.site)}
                                        {line.default.then_some(" · in use")}
                                    </span>
                                </button>
                            </li>
                        }
                    }
                />
            </ul>
            <button class="ghost new" on:click=move |_| editor.start_new()>"New profile"</button>
        </aside>
    }
}

/// The editor: its toolbar, the text, and every problem placed at its step.
#[component]
fn EditorPane(list: RwSignal<Vec<ProfileLine>>, editor: Editor) -> impl IntoView {
    view! {
        <main class="editor">
            <div class="toolbar">
                <label>"Format "
                    <select on:change=move |event| editor.format.set(if event_target_value(&event) == "json" { TextFormat::Json } else { TextFormat::Toml })
                        prop:value=move || if editor.format.get() == TextFormat::Json { "json" } else { "toml" }>
                        <option value="toml">"TOML"</option>
                        <option value="json">"JSON"</option>
                    </select>
                </label>
                <label class="inline">
                    <input type="checkbox" prop:checked=move || editor.make_default.get()
                        on:change=move |event| editor.make_default.set(event_target_checked(&event))/>
                    " Use for the site's chats"
                </label>
                <button class="ghost" on:click=move |_| editor.check()>"Check"</button>
                <button on:click=move |_| editor.save(list)>"Save"</button>
                <button class="ghost" on:click=move |_| editor.try_it() disabled=move || editor.selected.with(Option::is_none)>"Try it"</button>
            </div>
            <Show when=move || editor.note.with(Option::is_some)>
                <p class="note" role="status">{move || editor.note.get().unwrap_or_default()}</p>
            </Show>
            <textarea class="source" aria-label="Profile" spellcheck="false"
                placeholder="Pick a profile on the left, or start a new one."
                prop:value=move || editor.text.get()
                on:input=move |event| editor.text.set(event_target_value(&event))></textarea>
            <ul class="problems">
                <For
                    each=move || editor.checked.with(profiles::general)
                    key=|problem| problem.describe()
                    children=move |problem: ProblemLine| view! { <Problem problem=problem/> }
                />
            </ul>
            <StepTable editor=editor/>
        </main>
    }
}

/// Every step: its type, where it leads, and the problems that name it.
#[component]
fn StepTable(editor: Editor) -> impl IntoView {
    view! {
        <table class="steps">
            <thead><tr><th>"Step"</th><th>"Type"</th><th>"Leads to"</th><th>"Problems"</th></tr></thead>
            <tbody>
                <For
                    each=move || editor.checked.with(profiles::rows)
                    key=|row| (row.step.id.clone(), row.problems.len(), row.step.leads_to.join(","))
                    children=move |row| {
                        let bad = !row.problems.is_empty();
                        view! {
                        <tr class:bad=bad>
                            <td>{row.step.id.clone()}{row.step.can_start_here.then_some(" ▸")}</td>
                            <td>{row.step.kind.clone()}</td>
                            <td>{if row.step.leads_to.is_empty() { "—".to_owned() } else { row.step.leads_to.join(", ") }}</td>
                            <td><ul class="problems">{row.problems.into_iter().map(|problem| view! { <Problem problem=problem/> }).collect_view()}</ul></td>
                        </tr>
                        }
                    }
                />
            </tbody>
        </table>
    }
}

#[component]
fn Problem(problem: ProblemLine) -> impl IntoView {
    let class = if problem.is_error() {
        "error"
    } else {
        "warning"
    };
    view! { <li class=class>{problem.describe()}</li> }
}
