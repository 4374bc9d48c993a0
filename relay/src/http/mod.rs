//! The HTTP side of the relay: [`router`] lists every route, and each resource has
//! its own file of handlers. A handler's signature says who may call it (the
//! extractors in `crate::auth`), and its errors are [`crate::error::ApiError`]s.

mod ai;
mod api_keys;
mod canned;
mod conversations;
mod email;
mod knowledge;
mod pages;
mod people;
mod profiles;
mod reports;
mod session;
mod sites;
mod ticket_replies;
mod tickets;
mod uploads;
mod v1;
mod visitors;
mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{delete, get, post, put};
use tower_http::set_header::SetResponseHeaderLayer;

pub use people::ONE_TIME_PASSWORD_DAYS;

use crate::state::AppState;
use crate::ws;

/// Every route of the relay.
pub fn router(state: AppState) -> Router {
    // Room for the multipart framing around the largest allowed file.
    let upload_body_limit = usize::try_from(state.config.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    Router::new()
        .route("/", get(pages::demo_page))
        .route("/ai", get(pages::ai_demo_page))
        .route("/healthz", get(pages::healthz))
        .route("/embed.js", get(pages::embed_js))
        .route("/embed-api.js", get(pages::embed_api_js))
        .route("/widget/", get(pages::widget_page))
        .route("/widget/index.html", get(pages::widget_page))
        .route("/widget/{*file}", get(pages::asset))
        .route("/console", get(pages::console_redirect))
        .route("/console/", get(pages::console_page))
        .route("/console/index.html", get(pages::console_page))
        .route("/console/{*file}", get(pages::asset))
        .route("/ws/visitor", get(ws::visitor::upgrade))
        .route("/ws/agent", get(ws::agent::upgrade))
        .route("/api/login", post(session::login))
        .route("/api/logout", post(session::logout))
        .route("/api/me", get(session::whoami))
        .route("/api/password", post(session::change_password))
        .route("/api/v1/sites/{key}/launcher", get(pages::launcher))
        .route("/api/v1/openapi.json", get(v1::document))
        .route("/api/v1/docs", get(v1::page))
        .merge(
            v1::routes()
                .0
                .layer(DefaultBodyLimit::max(v1::MAX_BODY_BYTES)),
        )
        .merge(admin_routes())
        .route(
            "/api/v1/conversations/{id}/attachments",
            post(uploads::upload).layer(DefaultBodyLimit::max(upload_body_limit)),
        )
        .route("/files/{key}", get(uploads::download))
        .route("/api/reports", get(reports::report))
        .route("/api/reports/chats.csv", get(reports::chats_export))
        .route("/api/reports/messages.csv", get(reports::messages_export))
        .route("/api/tickets", get(tickets::list).post(tickets::create))
        .route("/api/tickets/{id}", get(tickets::detail))
        .route("/api/tickets/{id}/categories", put(tickets::set_categories))
        .route("/api/tickets/{id}/status", put(tickets::set_status))
        .route("/api/tickets/{id}/replies", post(ticket_replies::reply))
        .route("/api/ticket-categories", get(tickets::categories))
        .route("/api/conversations/search", get(conversations::search))
        .route(
            "/api/conversations/{id}/contact",
            get(conversations::contact),
        )
        .route(
            "/api/conversations/{id}/estimate",
            get(conversations::estimate),
        )
        .route("/api/tickets/{id}/agent", put(tickets::assign))
        .route("/api/canned", get(canned::list).post(canned::create))
        .route(
            "/api/canned/{id}",
            put(canned::update).delete(canned::delete),
        )
        .route("/api/ai", get(ai::helpers))
        .route("/api/conversations/{id}/ai/suggest", post(ai::suggest))
        .route("/api/conversations/{id}/ai/summary", post(ai::summary))
        .route("/api/conversations/{id}/ai/translate", post(ai::translate))
        .route("/api/profiles", get(profiles::list).post(profiles::create))
        .route("/api/profiles/check", post(profiles::check))
        .route(
            "/api/profiles/{id}",
            get(profiles::read).put(profiles::update),
        )
        .merge(metrics_on_main_port(&state))
        .layer(axum::middleware::map_response(pages::unframed_by_default))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .with_state(state)
}

/// The admins' pages: people, sites, visitors' data, categories, AI and knowledge.
fn admin_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/agents",
            get(people::agents).post(people::create_agent),
        )
        .route("/api/admin/agents/{id}", put(people::update_agent))
        .route(
            "/api/admin/agents/{id}/password",
            post(people::reset_password),
        )
        .route(
            "/api/admin/teams",
            get(people::teams).post(people::create_team),
        )
        .route("/api/admin/assignment", get(people::assignments))
        .route("/api/admin/assignment/{team}", put(people::set_assignment))
        .route(
            "/api/admin/statuses",
            get(people::statuses).post(people::create_status),
        )
        .route("/api/admin/statuses/{id}", put(people::update_status))
        .route(
            "/api/admin/settings",
            get(people::settings).put(people::update_settings),
        )
        .route("/api/admin/sites", get(sites::list).post(sites::create))
        .route("/api/admin/sites/{key}", put(sites::update))
        .route(
            "/api/admin/sites/{key}/api-keys",
            get(api_keys::list).post(api_keys::create),
        )
        .route(
            "/api/admin/sites/{key}/api-keys/{id}",
            delete(api_keys::revoke),
        )
        .route(
            "/api/admin/sites/{key}/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/api/admin/sites/{key}/webhooks/{id}",
            put(webhooks::update).delete(webhooks::delete),
        )
        .route(
            "/api/admin/sites/{key}/webhooks/{id}/rotate-secret",
            post(webhooks::rotate),
        )
        .route(
            "/api/admin/sites/{key}/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/api/admin/sites/{key}/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(webhooks::redeliver),
        )
        .route(
            "/api/admin/sites/{key}/email-templates",
            get(email::list_templates),
        )
        .route(
            "/api/admin/sites/{key}/email-templates/{kind}",
            put(email::save_template),
        )
        .route("/api/admin/visitors/{id}", delete(visitors::erase))
        .route("/api/admin/visitors/{id}/export", get(visitors::export))
        .route("/api/admin/erasures", get(visitors::erasures))
        .route("/api/admin/categories", post(tickets::create_category))
        .route("/api/admin/email", get(email::settings).put(email::update))
        .route("/api/admin/email/test", post(email::test))
        .route("/api/admin/email/outbox", get(email::outbox))
        .route("/api/admin/email/retry", post(email::retry))
        .route("/api/admin/ai", get(ai::settings).put(ai::update))
        .route(
            "/api/admin/translation",
            get(ai::translation_settings).put(ai::update_translation),
        )
        .route("/api/admin/ai/test", post(ai::test))
        .route(
            "/api/admin/knowledge",
            get(knowledge::list).post(knowledge::upload),
        )
        .route("/api/admin/knowledge/crawl", post(knowledge::crawl))
        .route("/api/admin/knowledge/{id}", delete(knowledge::delete))
}

/// `/metrics` on the main port, when it is on and has no address of its own.
fn metrics_on_main_port(state: &AppState) -> Router<AppState> {
    let settings = &state.config.metrics;
    if settings.enabled && settings.addr.is_none() {
        Router::new().route("/metrics", get(crate::metrics::scrape))
    } else {
        Router::new()
    }
}
