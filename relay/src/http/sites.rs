//! The Sites page's API: add a site, rename it, set the origins that may embed it, its
//! chat profile and retention, and show the tag that embeds it. Admins only; changes
//! only from the console's own origin.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::api::sites::{NewSite, SiteForm, SiteView};

use super::people::name_of;
use crate::auth::{Admin, AdminWriting};
use crate::error::{ApiError, ApiResult};
use crate::flow::Format;
use crate::profiles::default_profile;
use crate::state::AppState;
use crate::store::{NewSiteRow, Site, SiteChange, StoreError};

const MAX_KEY_CHARS: usize = 40;
const MAX_ORIGINS: usize = 50;
/// Ten years: longer is the same as keeping chats.
const MAX_RETENTION_DAYS: u32 = 3650;

/// `GET /api/admin/sites`: every site, with its embed tag.
pub(crate) async fn list(
    State(state): State<AppState>,
    _: Admin,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<SiteView>>> {
    let base = public_base(&state, &headers);
    let sites = state.store.sites().await?;
    Ok(Json(
        sites.into_iter().map(|site| view_of(site, &base)).collect(),
    ))
}

/// `POST /api/admin/sites`: a new site whose chat starts as the default profile.
pub(crate) async fn create(
    State(state): State<AppState>,
    _: AdminWriting,
    headers: HeaderMap,
    Json(input): Json<NewSite>,
) -> ApiResult<(StatusCode, Json<SiteView>)> {
    let profile = default_profile();
    let new = NewSiteRow {
        key: key_of(&input.key)?,
        name: name_of(&input.name)?,
        allowed_origins: origins_of(&input.allowed_origins)?,
        profile_name: profile.name.clone(),
        profile_definition: profile.render(Format::Json),
    };
    let site = state
        .store
        .create_site(new)
        .await
        .map_err(|err| match err {
            StoreError::Duplicate => {
                ApiError::new(ApiCode::NameTaken, "A site already has that key.")
            }
            other => other.into(),
        })?;
    let base = public_base(&state, &headers);
    Ok((StatusCode::CREATED, Json(view_of(site, &base))))
}

/// The site with `key`; `404 unknown_site` for none.
pub(crate) async fn by_key(state: &AppState, key: &str) -> ApiResult<Site> {
    state
        .store
        .site_by_key(key)
        .await?
        .ok_or_else(|| ApiError::new(ApiCode::UnknownSite, "No site has that key."))
}

/// `PUT /api/admin/sites/{key}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    _: AdminWriting,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(input): Json<SiteForm>,
) -> ApiResult<Json<SiteView>> {
    let site = by_key(&state, &key).await?;
    if input
        .retention_days
        .is_some_and(|days| days == 0 || days > MAX_RETENTION_DAYS)
    {
        return Err(ApiError::invalid(
            "Keep ended chats for 1 to 3650 days, or leave it empty to keep them.",
        ));
    }
    let change = SiteChange {
        name: name_of(&input.name)?,
        allowed_origins: origins_of(&input.allowed_origins)?,
        default_profile_id: input.profile_id,
        retention_days: input.retention_days,
        require_verified_identity: input.require_verified_identity,
    };
    let saved = state
        .store
        .update_site(site.id, change)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => ApiError::invalid("That profile is not one of this site's."),
            other => other.into(),
        })?;
    Ok(Json(view_of(saved, &public_base(&state, &headers))))
}

fn view_of(site: Site, base: &str) -> SiteView {
    SiteView {
        embed: format!(
            "<script src=\"{base}/embed.js\" data-site=\"{}\" async></script>",
            site.key
        ),
        key: site.key,
        name: site.name,
        allowed_origins: site.allowed_origins,
        profile_id: site.default_profile_id,
        retention_days: site.retention_days,
        secret: site.secret,
        require_verified_identity: site.require_verified_identity,
    }
}

/// Where visitors' browsers reach the relay: the `public_url` setting, else the address
/// the admin's browser used.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| host_is_plain(host))
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn host_is_plain(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".-:[]".contains(&byte))
}

/// A site key is part of the embed tag and of URLs: lowercase letters, digits, `-`.
fn key_of(text: &str) -> ApiResult<String> {
    let key = text.trim();
    let plain = key
        .bytes()
        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !plain || key.starts_with('-') {
        return Err(ApiError::invalid(
            "A site key has 1 to 40 lowercase letters, digits or dashes, and starts with a letter or digit.",
        ));
    }
    Ok(key.to_owned())
}

/// Each origin as a browser sends it (`scheme://host[:port]`, a leading `*.` allowed in
/// the host), or `*` for anywhere; lowercased, without a trailing slash, each once.
fn origins_of(list: &[String]) -> ApiResult<Vec<String>> {
    if list.len() > MAX_ORIGINS {
        return Err(ApiError::invalid("A site takes at most 50 origins."));
    }
    let mut origins: Vec<String> = Vec::with_capacity(list.len());
    for text in list {
        let origin = text.trim().trim_end_matches('/').to_ascii_lowercase();
        if origin.is_empty() {
            continue;
        }
        if !origin_is_valid(&origin) {
            return Err(ApiError::invalid(format!(
                "\"{}\" is not an origin: write it as https://shop.example.com (no path), \
                 https://*.example.com, or * for any site.",
                text.trim()
            )));
        }
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

fn origin_is_valid(origin: &str) -> bool {
    if origin == "*" {
        return true;
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host = host.strip_prefix("*.").unwrap_or(host);
    matches!(scheme, "http" | "https")
        && port.is_none_or(|port| !port.is_empty() && port.parse::<u16>().is_ok())
        && !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(list: &[&str]) -> ApiResult<Vec<String>> {
        origins_of(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn origins_are_plain_browser_origins_each_once() {
        assert_eq!(
            origins(&[
                "https://Shop.Example.com/",
                " http://localhost:8080",
                "",
                "https://shop.example.com"
            ])
            .unwrap(),
            ["https://shop.example.com", "http://localhost:8080"]
        );
        assert_eq!(
            origins(&["https://*.example.com", "*"]).unwrap(),
            ["https://*.example.com", "*"]
        );
        for bad in [
            "shop.example.com",
            "ftp://example.com",
            "https://example.com/path",
            "https://example.com; script-src *",
            "https://exa mple.com",
            "https://example.com:99999",
            "https://example.com:",
            "https://a..b",
            "https://ex*ample.com",
        ] {
            assert!(origins(&[bad]).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn keys_are_lowercase_words_with_dashes() {
        assert_eq!(key_of(" shop-2 ").unwrap(), "shop-2");
        for bad in ["", "Shop", "-shop", "shop site", "shop/2", &"a".repeat(41)] {
            assert!(key_of(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
