//! An admin's data-rights buttons under an ended chat: download everything stored about
//! its visitor, or erase it (after a confirmation).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::desk::IsAdmin;
use crate::state::ConsoleState;

#[component]
pub(super) fn VisitorData(state: RwSignal<ConsoleState>) -> impl IntoView {
    let admin = use_context::<IsAdmin>().map(|IsAdmin(admin)| admin);
    let visitor = move || {
        admin
            .is_some_and(|admin| admin.get())
            .then(|| state.with(ConsoleState::erasable_visitor))
            .flatten()
    };
    let erase = move |_| {
        let Some(id) = visitor() else {
            return;
        };
        let sure = window()
            .confirm_with_message(
                "Erase everything stored about this visitor: their chats, messages, files, \
                 and their tickets' subjects and notes? This cannot be undone.",
            )
            .unwrap_or(false);
        if !sure {
            return;
        }
        spawn_local(async move {
            let path = format!("/api/admin/visitors/{id}");
            let notice = match api::act("DELETE", &path, None::<&()>).await {
                Ok(()) => {
                    state.update(|s| s.forget_visitor(id));
                    "The visitor's data was erased; the erasure is recorded.".to_owned()
                }
                Err(failure) => failure.message(),
            };
            state.update(|s| s.notice = Some(notice));
        });
    };
    view! {
        <div class="visitor-data" hidden=move || visitor().is_none()>
            <a class="ghost" download="" href=move || visitor().map(|id| format!("/api/admin/visitors/{id}/export")).unwrap_or_default()>"Export visitor's data"</a>
            <button type="button" class="ghost danger" on:click=erase>"Erase visitor's data…"</button>
        </div>
    }
}
