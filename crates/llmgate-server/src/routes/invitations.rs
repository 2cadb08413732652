//! LiteLLM's invitation links and onboarding: an admin invites a user (`/invitation/*`), the
//! user opens `/ui/?invitation_id=<id>`, the page asks `/onboarding/get_token` for a
//! short-lived onboarding token, and `/onboarding/claim_token` (with it) sets the user's
//! password — stored as LiteLLM stores it, the SHA-256 hex of it, so a database shared with
//! LiteLLM keeps working — marks the invitation accepted and opens a dashboard session.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine;
use llmgate_store::entities::{UserRow, USERS};
use llmgate_store::invitations::{self, Invitation};
use llmgate_store::now_ms;
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin::{admin_store, db, run};
use super::proxy::parse_body;
use crate::auth::{constant_time_eq, hash_key, AuthContext};
use crate::error::GatewayError;
use crate::state::AppState;

/// LiteLLM's invitations last 7 days.
const INVITATION_MS: i64 = 7 * 24 * 3_600_000;
/// How long the onboarding token of `/onboarding/get_token` may be used (LiteLLM: 15 minutes).
const ONBOARDING_MS: i64 = 15 * 60_000;
const ONBOARDING_TYPE: &str = "litellm_onboarding";

fn bad(m: impl Into<String>) -> GatewayError {
    GatewayError::BadRequest(m.into())
}

fn invitation_json(i: &Invitation) -> Value {
    let t = llmgate_store::time::iso;
    json!({
        "id": i.id,
        "user_id": i.user_id,
        "is_accepted": i.is_accepted,
        "accepted_at": i.accepted_at.map(t),
        "expires_at": t(i.expires_at),
        "created_at": t(i.created_at),
        "created_by": i.created_by,
        "updated_at": t(i.updated_at),
        "updated_by": i.updated_by,
    })
}

/// Who is acting, as LiteLLM records it in `created_by`/`updated_by`.
fn actor(auth: &AuthContext) -> String {
    auth.user_id().map(str::to_string).unwrap_or_else(|| {
        std::env::var("PROXY_ADMIN_ID").unwrap_or_else(|_| "default_user_id".into())
    })
}

async fn load(store: &llmgate_store::Store, id: &str) -> Result<Invitation, GatewayError> {
    invitations::get(store, id)
        .await
        .map_err(db)?
        .ok_or_else(|| bad("Invitation id does not exist in the database."))
}

#[derive(Deserialize)]
pub struct NewInvitation {
    user_id: String,
    #[serde(flatten)]
    _extra: HashMap<String, Value>,
}

/// `POST /invitation/new` {user_id}: the invitation row (valid 7 days).
pub async fn new(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/invitation/new")?;
        let b: NewInvitation = parse_body(&body)?;
        if USERS.get::<UserRow>(store, &b.user_id).await.map_err(db)?.is_none() {
            return Err(bad("User id does not exist in 'LiteLLM_UserTable'. Fix this by creating user via `/user/new`."));
        }
        let now = now_ms();
        let by = actor(&auth);
        let row = Invitation {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: b.user_id,
            is_accepted: false,
            accepted_at: None,
            expires_at: now + INVITATION_MS,
            created_at: now,
            created_by: by.clone(),
            updated_at: now,
            updated_by: by,
        };
        if let Err(e) = invitations::insert(store, &row).await {
            // LiteLLM's schema makes `created_by` a user (its UI login adds the admin's row):
            // on such a database the acting admin gets a row too, as there.
            let missing = USERS
                .get::<UserRow>(store, &row.created_by)
                .await
                .map_err(db)?
                .is_none();
            if !(e.is_refusal() && missing) {
                return Err(db(e));
            }
            let admin = UserRow {
                user_id: row.created_by.clone(),
                user_role: Some("proxy_admin".into()),
                created_at: Some(now),
                updated_at: Some(now),
                ..Default::default()
            };
            USERS.insert(store, &admin).await.map_err(db)?;
            invitations::insert(store, &row).await.map_err(db)?;
        }
        Ok(Json(invitation_json(&row)).into_response())
    })
    .await
}

/// `GET /invitation/info?invitation_id=`.
pub async fn info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/invitation/info")?;
        let id = q
            .get("invitation_id")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| bad("invitation_id is required (?invitation_id=...)"))?;
        Ok(Json(invitation_json(&load(store, id).await?)).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct UpdateInvitation {
    invitation_id: String,
    is_accepted: bool,
    #[serde(flatten)]
    _extra: HashMap<String, Value>,
}

/// `POST /invitation/update` {invitation_id, is_accepted}.
pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/invitation/update")?;
        let b: UpdateInvitation = parse_body(&body)?;
        let mut row = load(store, &b.invitation_id).await?;
        let now = now_ms();
        row.is_accepted = b.is_accepted;
        // As LiteLLM: the update's time is the acceptance time.
        row.accepted_at = Some(now);
        row.updated_at = now;
        row.updated_by = actor(&auth);
        invitations::update(store, &row).await.map_err(db)?;
        Ok(Json(invitation_json(&row)).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct DeleteInvitation {
    invitation_id: String,
    #[serde(flatten)]
    _extra: HashMap<String, Value>,
}

/// `POST /invitation/delete` {invitation_id}: the deleted row.
pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/invitation/delete")?;
        let b: DeleteInvitation = parse_body(&body)?;
        let row = load(store, &b.invitation_id).await?;
        invitations::delete(store, &row.id).await.map_err(db)?;
        Ok(Json(invitation_json(&row)).into_response())
    })
    .await
}

// ---------- onboarding (no key: the invitation is the credential) ----------

fn master(state: &AppState) -> Result<&str, GatewayError> {
    state.master_key.as_deref().ok_or_else(|| {
        GatewayError::Internal("Master Key not set for Proxy. Please set Master Key to use Admin UI. Set `LITELLM_MASTER_KEY` in .env or set general_settings:master_key in config.yaml.".into())
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An HS256 JWT signed with the master key, as LiteLLM signs its UI tokens.
fn sign(secret: &str, claims: &Value) -> String {
    let head = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64(claims.to_string().as_bytes());
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{head}.{body}").as_bytes());
    format!("{head}.{body}.{}", b64(tag.as_ref()))
}

/// The claims of a JWT [`sign`] made and that has not expired.
fn verify(secret: &str, token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (head, body, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(tag)
        .ok()?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::verify(&key, format!("{head}.{body}").as_bytes(), &tag).ok()?;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .ok()?,
    )
    .ok()?;
    let exp = claims.get("exp")?.as_i64()?;
    (exp * 1000 > now_ms()).then_some(claims)
}

fn refused(m: impl Into<String>) -> GatewayError {
    GatewayError::Auth(m.into())
}

/// The invitation, if it may still be claimed: it exists, has not expired, is not used.
async fn claimable(store: &llmgate_store::Store, id: &str) -> Result<Invitation, GatewayError> {
    let row = invitations::get(store, id)
        .await
        .map_err(db)?
        .ok_or_else(|| refused("Invitation link does not exist in db."))?;
    if row.expires_at <= now_ms() {
        return Err(refused("Invitation link has expired."));
    }
    if row.is_accepted {
        return Err(refused(
            "Invitation link has already been used. Ask your admin for a new one.",
        ));
    }
    Ok(row)
}

async fn user(store: &llmgate_store::Store, id: &str) -> Result<UserRow, GatewayError> {
    USERS
        .get::<UserRow>(store, id)
        .await
        .map_err(db)?
        .ok_or_else(|| refused("The invited user no longer exists."))
}

/// `GET /onboarding/get_token?invite_link=<id>`: LiteLLM's `{login_url, token, user_email}`;
/// the token (15 minutes) is what `/onboarding/claim_token` takes as its bearer.
pub async fn get_token(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    run(async {
        let secret = master(&state)?;
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        let id = q
            .get("invite_link")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| bad("invite_link is required (?invite_link=<invitation id>)"))?;
        let inv = claimable(store, id).await?;
        let u = user(store, &inv.user_id).await?;
        let token = sign(
            secret,
            &json!({
                "token_type": ONBOARDING_TYPE,
                "invitation_link": inv.id,
                "user_id": inv.user_id,
                "user_email": u.user_email,
                "exp": (now_ms() + ONBOARDING_MS).min(inv.expires_at) / 1000,
            }),
        );
        Ok(Json(json!({
            "login_url": format!("/ui/onboarding?token={token}"),
            "token": token,
            "user_email": u.user_email,
        }))
        .into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct Claim {
    invitation_link: String,
    user_id: String,
    password: String,
    #[serde(flatten)]
    _extra: HashMap<String, Value>,
}

/// `POST /onboarding/claim_token` {invitation_link, user_id, password}, with the onboarding
/// token as bearer: sets the password, marks the invitation accepted (once: a second claim is
/// refused) and logs the user in (the session cookies; `token` is LiteLLM's UI token shape).
pub async fn claim_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if crate::ui::session::cross_site(&headers) {
        return crate::ui::session::cross_site_refused();
    }
    run(async {
        let secret = master(&state)?;
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        let c: Claim = parse_body(&body)?;
        let inv = claimable(store, &c.invitation_link).await?;
        if inv.user_id != c.user_id {
            return Err(refused(format!(
                "Invalid invitation link. The user id submitted does not match the user id this link is attached to. Got={}, Expected={}",
                c.user_id, inv.user_id
            )));
        }
        let bearer = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let session_ok = verify(secret, bearer).is_some_and(|claims| {
            claims["token_type"] == ONBOARDING_TYPE
                && constant_time_eq(
                    claims["invitation_link"].as_str().unwrap_or("").as_bytes(),
                    inv.id.as_bytes(),
                )
                && claims["user_id"] == inv.user_id.as_str()
        });
        if !session_ok {
            return Err(refused("Invalid onboarding session for invitation link."));
        }
        if c.password.is_empty() {
            return Err(bad("password must not be empty"));
        }
        let u = user(store, &inv.user_id).await?;
        let now = now_ms();
        if !invitations::accept(store, &inv.id, &inv.user_id, now)
            .await
            .map_err(db)?
        {
            return Err(refused(
                "Invitation link has already been used. Ask your admin for a new one.",
            ));
        }
        match invitations::set_password(store, &inv.user_id, &hash_key(&c.password), now).await {
            Ok(true) => {}
            failed => {
                // The invitation stays usable when the password was not written.
                let _ = invitations::unaccept(store, &inv.id).await;
                return Err(match failed {
                    Err(e) => db(e),
                    _ => refused("The invited user no longer exists."),
                });
            }
        }
        let role = u.user_role.clone().unwrap_or_else(|| "internal_user".into());
        let (value, s) = crate::ui::session::open_for_user(&state, &u.user_id, &role).await?;
        let token = sign(
            secret,
            &json!({
                "user_id": u.user_id,
                "user_email": u.user_email,
                "user_role": role,
                "login_method": "username_password",
                "premium_user": false,
                "exp": s.expires / 1000,
            }),
        );
        let res = Json(json!({
            "login_url": "/ui/?login=success",
            "token": token,
            "user_email": u.user_email,
            "user": {"user_id": u.user_id, "user_email": u.user_email, "user_role": role},
        }))
        .into_response();
        Ok(crate::ui::session::logged_in(res, &headers, &value, &s))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_their_secret_and_before_expiry() {
        let live = json!({"a": 1, "exp": now_ms() / 1000 + 60});
        let t = sign("sk-1", &live);
        assert_eq!(verify("sk-1", &t), Some(live));
        assert_eq!(verify("sk-2", &t), None);
        let old = sign("sk-1", &json!({"exp": now_ms() / 1000 - 1}));
        assert_eq!(verify("sk-1", &old), None);
        assert_eq!(verify("sk-1", "a.b"), None);
        // A tampered body fails the signature.
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = b64(br#"{"a":2,"exp":99999999999}"#);
        parts[1] = &forged;
        assert_eq!(verify("sk-1", &parts.join(".")), None);
    }
}
