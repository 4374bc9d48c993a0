//! Conversations through the REST API: list (filtered, newest first, by cursor), one,
//! its messages after a `seq`, and posting a bot's or the system's message into it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::api::ApiError as ErrorBody;
use porchlight_protocol::api::v1::{
    ApiConversation, ConversationPage, MessagePage, PostMessage, PostedBy,
};
use porchlight_protocol::{Author, ChatMessage, ConversationStatus, validate_outgoing};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Body, Id, Params, cursor_of, page_size};
use crate::auth::{ApiCaller, ApiReader, ApiWriter};
use crate::chat::events::{announce_conversation, announce_message};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::listing::ConversationFilter;
use crate::store::{Conversation, NewMessage};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// A site key; it must be the key's own site (`403 wrong_site` otherwise).
    site: Option<String>,
    /// `bot`, `queued`, `active` or `ended`.
    #[param(pattern = "^(bot|queued|active|ended)$")]
    status: Option<String>,
    /// A chat profile's id.
    profile: Option<i64>,
    /// A linked ticket's id.
    ticket: Option<i64>,
    /// Started at or after (ms since the Unix epoch).
    from: Option<i64>,
    /// Started before (ms since the Unix epoch).
    to: Option<i64>,
    /// The previous page's `next_cursor`.
    #[param(pattern = "^[0-9]+$")]
    cursor: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MessagesQuery {
    /// Messages with a greater `seq` (default 0: from the start).
    after: Option<u64>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
}

fn shown(chat: Conversation) -> ApiConversation {
    ApiConversation {
        id: chat.id,
        status: chat.status,
        profile_id: chat.profile_id,
        visitor_id: chat.visitor_id,
        visitor_name: chat.visitor_name,
        user_id: chat.visitor_user_id,
        agent_name: chat.agent.map(|agent| agent.name),
        ticket_id: chat.ticket_id,
        created_at: chat.created_at,
        ended_at: chat.ended_at,
        last_seq: chat.last_seq,
        page_url: chat.page_url,
    }
}

/// The key's site's conversation `id`; another site's is not found.
async fn own_chat(state: &AppState, caller: &ApiCaller, id: i64) -> ApiResult<Conversation> {
    state
        .store
        .conversation(id)
        .await?
        .filter(|chat| chat.site_id == caller.site.id)
        .ok_or_else(|| ApiError::not_found("No such conversation."))
}

/// List the site's conversations, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/conversations",
    tag = "conversations",
    params(ListQuery),
    responses(
        (status = 200, body = ConversationPage),
        (status = 403, description = "A filter naming another site (wrong_site)", body = ErrorBody),
        (status = 422, description = "A bad filter or cursor", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiReader(caller): ApiReader,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<ConversationPage>> {
    if query
        .site
        .as_ref()
        .is_some_and(|site| *site != caller.site.key)
    {
        return Err(ApiError::new(
            ApiCode::WrongSite,
            "This key is for another site.",
        ));
    }
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(
            ConversationStatus::parse(text)
                .ok_or_else(|| ApiError::invalid("status is bot, queued, active or ended."))?,
        ),
    };
    let before_id = cursor_of(query.cursor.as_deref())?;
    let limit = page_size(query.limit)?;
    let chats = state
        .store
        .list_conversations(ConversationFilter {
            site_id: caller.site.id,
            status,
            profile_id: query.profile,
            ticket_id: query.ticket,
            from: query.from,
            to: query.to,
            before_id,
            limit,
            visitor_id: None,
        })
        .await?;
    let next_cursor = (chats.len() == limit)
        .then(|| chats.last().map(|chat| chat.id.to_string()))
        .flatten();
    Ok(Json(ConversationPage {
        items: chats.into_iter().map(shown).collect(),
        next_cursor,
    }))
}

/// One conversation.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}",
    tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses(
        (status = 200, body = ApiConversation),
        (status = 404, description = "No such conversation on the key's site", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn one(
    State(state): State<AppState>,
    ApiReader(caller): ApiReader,
    Id(id): Id,
) -> ApiResult<Json<ApiConversation>> {
    Ok(Json(shown(own_chat(&state, &caller, id).await?)))
}

/// A conversation's messages after a `seq`, in order.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/messages",
    tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id"), MessagesQuery),
    responses(
        (status = 200, body = MessagePage),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn messages(
    State(state): State<AppState>,
    ApiReader(caller): ApiReader,
    Id(id): Id,
    Params(query): Params<MessagesQuery>,
) -> ApiResult<Json<MessagePage>> {
    let chat = own_chat(&state, &caller, id).await?;
    let limit = page_size(query.limit)?;
    let items = state
        .store
        .messages_after(chat.id, query.after.unwrap_or(0), limit)
        .await?;
    let next_after = (items.len() == limit)
        .then(|| items.last().map(|message| message.seq))
        .flatten();
    Ok(Json(MessagePage { items, next_after }))
}

/// Post a message into an open conversation as a named bot or as the system. A
/// retry with the same `client_msg_id` is stored once.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/messages",
    tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = PostMessage,
    responses(
        (status = 201, body = ChatMessage),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The conversation has ended", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn post_message(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Id(id): Id,
    Body(post): Body<PostMessage>,
) -> ApiResult<(StatusCode, Json<ChatMessage>)> {
    let chat = own_chat(&state, &caller, id).await?;
    let client_msg_id = format!(
        "api:{}",
        post.client_msg_id
            .unwrap_or_else(|| crate::auth::random_token()[..16].to_owned())
    );
    validate_outgoing(&client_msg_id, &post.body).map_err(|err| ApiError::invalid(err.message))?;
    let (author, name) = match post.author {
        PostedBy::Bot => {
            let name = post
                .name
                .map(|name| name.trim().to_owned())
                .filter(|name| (1..=80).contains(&name.chars().count()))
                .ok_or_else(|| {
                    ApiError::invalid("A bot's message needs its name (1 to 80 characters).")
                })?;
            (Author::Bot, Some(name))
        }
        PostedBy::System => (Author::System, None),
    };
    let appended = state
        .store
        .append_message(NewMessage::text(
            chat.id,
            Some(client_msg_id),
            author,
            None,
            name,
            post.body,
        ))
        .await?;
    if !appended.duplicate {
        announce_message(&state, &appended.message, None);
        if let Some(updated) = state.store.conversation(chat.id).await? {
            announce_conversation(&state.hub, &updated);
        }
    }
    Ok((StatusCode::CREATED, Json(appended.message)))
}
