//! `POST /api/v1/visitors/identify`: the site's server says who a user is.

use axum::Json;
use axum::extract::State;
use porchlight_protocol::Identity;
use porchlight_protocol::api::ApiError as ErrorBody;
use porchlight_protocol::api::v1::{IdentifiedUser, IdentifyUser};

use super::Body;
use crate::auth::{ApiWriter, random_token, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::IdentityUpdate;

/// Identify a user (trusted: the key proves it). Their chats on any browser where the
/// page proves the same user id are theirs; traits merge, context (when given)
/// replaces theirs.
#[utoipa::path(
    post,
    path = "/api/v1/visitors/identify",
    tag = "visitors",
    request_body = IdentifyUser,
    responses(
        (status = 200, description = "The user's visitor", body = IdentifiedUser),
        (status = 422, description = "A bad body", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn identify(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Body(user): Body<IdentifyUser>,
) -> ApiResult<Json<IdentifiedUser>> {
    let user_id = user.user_id.trim().to_owned();
    if user_id.is_empty() {
        return Err(ApiError::invalid("user_id is required."));
    }
    let claimed = Identity {
        user_id: user_id.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        company: user.company.clone(),
        traits: user.traits.clone(),
        context: user.context.clone().unwrap_or_default(),
        token: None,
    };
    claimed.check().map_err(ApiError::invalid)?;
    let visitor = state
        .store
        .identify_user(
            caller.site.id,
            IdentityUpdate {
                user_id: Some(user_id.clone()),
                verified: true,
                name: user.name,
                email: user.email,
                company: user.company,
                traits: user.traits,
                context: user.context,
                spare_token_hash: token_hash(&random_token()),
            },
        )
        .await?;
    Ok(Json(IdentifiedUser {
        visitor_id: visitor.id,
        user_id,
    }))
}
