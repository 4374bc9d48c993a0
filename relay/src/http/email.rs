//! The Email settings page's API: the SMTP settings (the password is never shown
//! back), a test email sent at once, the outbox, "retry now", and each site's wording
//! of its emails. Admins only; changes only from the console's own origin.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use porchlight_protocol::api::email::{
    EmailSettingsForm, EmailSettingsView, EmailTemplateForm, EmailTemplateView, EmailTest,
    OutboxLine, TemplateKind, TestEmail,
};

use crate::auth::{Admin, AdminWriting};
use crate::email::compose::test_email;
use crate::email::sender::hint;
use crate::email::{EmailSettings, SETTINGS_KEY, smtp, templates};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{SiteId, now_ms};

/// Outbox lines shown.
const OUTBOX_LINES: usize = 100;

/// `GET /api/admin/email`.
pub(crate) async fn settings(State(state): State<AppState>, _: Admin) -> Json<EmailSettingsView> {
    Json(EmailSettings::load(state.store.as_ref()).await.view())
}

/// `PUT /api/admin/email`: checks and saves; an empty host turns email off.
pub(crate) async fn update(
    State(state): State<AppState>,
    _: AdminWriting,
    Json(form): Json<EmailSettingsForm>,
) -> ApiResult<Json<EmailSettingsView>> {
    let saved = EmailSettings::load(state.store.as_ref()).await;
    let settings = saved.updated(form).map_err(ApiError::invalid)?;
    let json = serde_json::to_string(&settings).map_err(|err| ApiError::internal(&err))?;
    state.store.set_setting(SETTINGS_KEY, json).await?;
    state
        .email_on
        .store(settings.enabled(), std::sync::atomic::Ordering::Relaxed);
    state.hub.changed(crate::hub::Change::EmailSettings);
    state.email_queued.notify_one();
    Ok(Json(settings.view()))
}

/// `POST /api/admin/email/test`: one email now, with the saved settings; says plainly
/// what failed.
pub(crate) async fn test(
    State(state): State<AppState>,
    _: AdminWriting,
    Json(input): Json<TestEmail>,
) -> Json<EmailTest> {
    let settings = EmailSettings::load(state.store.as_ref()).await;
    if !settings.enabled() {
        return Json(EmailTest {
            ok: false,
            message: "Save an SMTP server first.".into(),
        });
    }
    let to = input.to.trim();
    Json(
        match smtp::send(&settings, &state.outbound, to, &test_email()).await {
            Ok(()) => EmailTest {
                ok: true,
                message: format!("Sent to {to}."),
            },
            Err(not_sent) => {
                let error = not_sent.to_string();
                let message = match hint(&settings, &error) {
                    Some(hint) => format!("Not sent: {error}. {hint}"),
                    None => format!("Not sent: {error}."),
                };
                EmailTest { ok: false, message }
            }
        },
    )
}

/// `GET /api/admin/email/outbox`: the latest emails and what became of them.
pub(crate) async fn outbox(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<Vec<OutboxLine>>> {
    Ok(Json(state.store.outbox(OUTBOX_LINES).await?))
}

/// `POST /api/admin/email/retry`: every pending or given-up email is tried now.
pub(crate) async fn retry(State(state): State<AppState>, _: AdminWriting) -> ApiResult<StatusCode> {
    state.store.retry_emails(now_ms()).await?;
    state.email_queued.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

async fn site_id(state: &AppState, key: &str) -> ApiResult<SiteId> {
    state
        .store
        .site_by_key(key)
        .await?
        .map(|site| site.id)
        .ok_or_else(|| ApiError::not_found("No site has that key."))
}

/// `GET /api/admin/sites/{key}/email-templates`: the site's wording of each email,
/// with the variables each may use.
pub(crate) async fn list_templates(
    State(state): State<AppState>,
    _: Admin,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<EmailTemplateView>>> {
    let site = site_id(&state, &key).await?;
    Ok(Json(templates::views(state.store.as_ref(), site).await?))
}

/// `PUT /api/admin/sites/{key}/email-templates/{kind}`: the site's own wording; both
/// fields empty goes back to the default.
pub(crate) async fn save_template(
    State(state): State<AppState>,
    _: AdminWriting,
    Path((key, kind)): Path<(String, String)>,
    Json(form): Json<EmailTemplateForm>,
) -> ApiResult<Json<EmailTemplateView>> {
    let kind = TemplateKind::parse(&kind).ok_or_else(|| {
        ApiError::not_found("The emails are new_ticket, transcript and ticket_reply.")
    })?;
    let site = site_id(&state, &key).await?;
    templates::save(state.store.as_ref(), site, kind, form)
        .await?
        .map(Json)
        .map_err(ApiError::invalid)
}
