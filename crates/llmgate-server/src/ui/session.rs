//! The dashboard's sessions: LiteLLM's `POST /login` (form) and `POST /v2/login` (JSON), a
//! logout, and the session cookie the management API's middleware accepts in place of a key.
//! A session acts as the master key, as a virtual key, or as an internal user who logged in
//! with the password they set from an invitation (`routes/invitations.rs`).
//!
//! A session is a random 256-bit id in an `HttpOnly`, `SameSite=Strict` cookie that expires;
//! the database keeps only its SHA-256 (`LLMGate_UISessionTable`), read on every request that
//! presents it, so a login or a logout holds on every instance at once. A state-changing call
//! with the cookie must carry the session's CSRF token in `x-csrf-token`, equal to the
//! (script-readable) CSRF cookie: a double-submit token also checked against the stored one.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use llmgate_store::sessions::{self, UiSession};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{admit_key, constant_time_eq, hash_key, AuthContext};
use crate::error::GatewayError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "llmgate_session";
pub const CSRF_COOKIE: &str = "llmgate_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// LiteLLM's `LITELLM_UI_SESSION_DURATION` default.
const DEFAULT_DURATION_MS: i64 = 24 * 3_600_000;

/// The value of cookie `name`, from every `Cookie` header.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub fn has_cookie(headers: &HeaderMap) -> bool {
    cookie(headers, SESSION_COOKIE).is_some()
}

fn random_token() -> String {
    use base64::Engine;
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 32];
    // The system's CSPRNG; it does not fail on any platform we build for.
    let _ = SystemRandom::new().fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn expired() -> GatewayError {
    GatewayError::Auth(
        "Authentication Error, the dashboard session has expired or was logged out. Log in again."
            .into(),
    )
}

/// The stored session the request's cookie names (None: no cookie, unknown or expired).
async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<UiSession>, GatewayError> {
    let Some(value) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
    sessions::get(store, &hash_key(&value), llmgate_store::now_ms())
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "session lookup failed");
            GatewayError::Unavailable("Authentication Error, the database is unavailable".into())
        })
}

/// The caller a session cookie stands for; on a state-changing method only with its CSRF
/// token. A key session is the key itself: blocked, expired, deleted or regenerated, it ends.
pub async fn authenticate(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<AuthContext, GatewayError> {
    let s = current(state, headers).await?.ok_or_else(expired)?;
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let header = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let cookie = cookie(headers, CSRF_COOKIE).unwrap_or_default();
        let ok = !header.is_empty()
            & constant_time_eq(header.as_bytes(), cookie.as_bytes())
            & constant_time_eq(header.as_bytes(), s.csrf_token.as_bytes());
        if !ok {
            return Err(GatewayError::Forbidden {
                message: "CSRF token missing or invalid: a dashboard session must send its token in the x-csrf-token header".into(),
                kind: "csrf_error",
            });
        }
    }
    match &s.key_token {
        None => Ok(AuthContext {
            api_key: state.master_key.clone(),
            is_master: true,
            key: None,
            is_proxy_admin: false,
            client_ip: None,
        }),
        Some(token) if token.starts_with(USER_SESSION) => {
            user_session(state, &token[USER_SESSION.len()..]).await
        }
        Some(token) => {
            let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
            let key = match state.gov.keys.get(store, token).await {
                Ok(Some(k)) => k,
                Ok(None) => return Err(expired()),
                Err(e) => {
                    tracing::warn!(error = %e, "key lookup failed");
                    return Err(GatewayError::Unavailable(
                        "Authentication Error, the key database is unavailable".into(),
                    ));
                }
            };
            admit_key(state, store, key, "(dashboard session)").await
        }
    }
}

/// `key_token` of a session a user opened with their password (no key hash starts so): the
/// session acts as a key of that user's that exists for the request only, so it is scoped to
/// what is theirs, and ends when the user is deleted; their role is read on every request.
pub const USER_SESSION: &str = "user:";

async fn user_session(state: &AppState, user_id: &str) -> Result<AuthContext, GatewayError> {
    let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
    match state.gov.keys.users.get(store, user_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(expired()),
        Err(e) => {
            tracing::warn!(error = %e, "user lookup failed");
            return Err(GatewayError::Unavailable(
                "Authentication Error, the user database is unavailable".into(),
            ));
        }
    }
    let key = llmgate_store::keys::KeyRow {
        token: format!("{USER_SESSION}{user_id}"),
        user_id: Some(user_id.to_string()),
        ..Default::default()
    };
    admit_key(
        state,
        store,
        crate::governance::Live::detached(key),
        "(dashboard session)",
    )
    .await
}

/// A password as LiteLLM checks it: the stored value is its SHA-256 (hex, what
/// `/onboarding/claim_token` writes), or the password itself (set by hand in the database).
/// Unlike LiteLLM, a stored hash is not also accepted as the password (a leaked hash logs no
/// one in).
pub fn password_matches(given: &str, stored: &str) -> bool {
    let is_hash = stored.len() == 64 && stored.bytes().all(|b| b.is_ascii_hexdigit());
    constant_time_eq(hash_key(given).as_bytes(), stored.as_bytes())
        | (!is_hash & constant_time_eq(given.as_bytes(), stored.as_bytes()))
}

#[derive(Deserialize, Default)]
struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// The one answer to wrong credentials: nothing about which part was wrong (LiteLLM's words).
fn invalid_credentials() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {
            "message": "Invalid credentials used to access UI.\nCheck 'UI_USERNAME', 'UI_PASSWORD' in .env file",
            "type": "auth_error",
            "param": "invalid_credentials",
            "code": "401",
        }})),
    )
        .into_response()
}

fn session_duration_ms() -> i64 {
    std::env::var("LITELLM_UI_SESSION_DURATION")
        .ok()
        .and_then(|d| crate::governance::budgets::duration_ms(&d))
        .filter(|d| *d > 0)
        .unwrap_or(DEFAULT_DURATION_MS)
}

/// Who the credentials log in as: the admin (`UI_USERNAME` — default `admin` — with
/// `UI_PASSWORD`, which defaults to the master key; or the master key itself), else a valid
/// virtual key given as the password (the session then acts as that key).
async fn check(state: &AppState, c: &Credentials) -> Result<Option<UiSession>, GatewayError> {
    let Some(master) = state.master_key.as_deref() else {
        return Err(GatewayError::BadRequest(
            "Master Key not set for Proxy. Please set Master Key to use Admin UI. Set `LITELLM_MASTER_KEY` in .env or set general_settings:master_key in config.yaml.".into(),
        ));
    };
    let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
    let ui_username = std::env::var("UI_USERNAME").unwrap_or_else(|_| "admin".into());
    let ui_password = std::env::var("UI_PASSWORD").unwrap_or_else(|_| master.to_string());
    let user_ok = constant_time_eq(c.username.as_bytes(), ui_username.as_bytes());
    let pass_ok = constant_time_eq(c.password.as_bytes(), ui_password.as_bytes());
    let is_master = constant_time_eq(c.password.as_bytes(), master.as_bytes());
    let now = llmgate_store::now_ms();
    let duration = session_duration_ms();
    let session =
        |role: &str, user_id: Option<String>, key_token: Option<String>, exp: i64| UiSession {
            session_id: String::new(),
            csrf_token: random_token(),
            user_role: role.into(),
            user_id,
            key_token,
            expires: exp,
            created_at: None,
        };
    if (user_ok & pass_ok) | is_master {
        return Ok(Some(session(
            "proxy_admin",
            Some(std::env::var("PROXY_ADMIN_ID").unwrap_or_else(|_| "default_user_id".into())),
            None,
            now + duration,
        )));
    }
    if c.password.is_empty() {
        return Ok(None);
    }
    // `ui_access_mode: admin_only`: only proxy admins use the dashboard.
    let admin_only = state
        .config
        .general_settings
        .extra
        .get("ui_access_mode")
        .and_then(|v| v.as_str())
        == Some("admin_only");
    let only_admins = || GatewayError::Forbidden {
        message: "Only proxy admins can use the dashboard (`ui_access_mode: admin_only`).".into(),
        kind: "auth_error",
    };
    // An internal user with the password they set from an invitation (user_id or user_email).
    if !c.username.is_empty() {
        let user = llmgate_store::invitations::password_user(store, &c.username)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "user lookup failed");
                GatewayError::Unavailable(
                    "Authentication Error, the user database is unavailable".into(),
                )
            })?;
        if let Some(u) = user.filter(|u| password_matches(&c.password, &u.password)) {
            let role = u.user_role.unwrap_or_else(|| "internal_user".into());
            if admin_only && role != "proxy_admin" {
                return Err(only_admins());
            }
            let token = format!("{USER_SESSION}{}", u.user_id);
            return Ok(Some(session(
                &role,
                Some(u.user_id),
                Some(token),
                now + duration,
            )));
        }
    }
    let token = hash_key(&c.password);
    let key = match state.gov.keys.get(store, &token).await {
        Ok(Some(k)) => k,
        Ok(None) => return Ok(None),
        Err(e) => {
            tracing::warn!(error = %e, "key lookup failed");
            return Err(GatewayError::Unavailable(
                "Authentication Error, the key database is unavailable".into(),
            ));
        }
    };
    let Ok(ctx) = admit_key(state, store, key, "").await else {
        return Ok(None);
    };
    if admin_only && !ctx.is_proxy_admin {
        return Err(only_admins());
    }
    let Some(key) = ctx.key else { return Ok(None) };
    let role = match &key.row.user_id {
        _ if ctx.is_proxy_admin => "proxy_admin".to_string(),
        Some(uid) => match state.gov.keys.users.get(store, uid).await {
            Ok(Some(u)) => u
                .row
                .user_role
                .clone()
                .unwrap_or_else(|| "internal_user".into()),
            _ => "internal_user".into(),
        },
        None => "internal_user".into(),
    };
    let exp = key
        .row
        .expires
        .map_or(now + duration, |e| e.min(now + duration));
    Ok(Some(session(
        &role,
        key.row.user_id.clone(),
        Some(key.row.token.clone()),
        exp,
    )))
}

/// Whether the request reached us over HTTPS (directly behind a TLS-terminating proxy).
fn secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn set_cookies(res: &mut Response, id: &str, csrf: &str, max_age_s: i64, secure: bool) {
    let flag = if secure { "; Secure" } else { "" };
    for c in [
        format!(
            "{SESSION_COOKIE}={id}; Path=/; Max-Age={max_age_s}; HttpOnly; SameSite=Strict{flag}"
        ),
        format!("{CSRF_COOKIE}={csrf}; Path=/; Max-Age={max_age_s}; SameSite=Strict{flag}"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// A browser's cross-site form or script may not log a visitor in (login CSRF): an `Origin`
/// that is not this host (`Host` or `X-Forwarded-Host`) is refused. Clients that send no `Origin` (curl, scripts) are not
/// browsers acting for someone else.
pub(crate) fn cross_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let authority = origin.split_once("://").map_or(origin, |(_, a)| a);
    // This host as the browser addressed it: `Host`, or a reverse proxy's `X-Forwarded-Host`.
    let named = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|h| h.trim().eq_ignore_ascii_case(authority))
    };
    !(named("host") || named("x-forwarded-host"))
}

pub(crate) fn cross_site_refused() -> Response {
    GatewayError::Forbidden {
        message: "cross-site login refused: the Origin is not this gateway".into(),
        kind: "csrf_error",
    }
    .into_response()
}

/// Checks the credentials and opens a session; `None` when they are wrong.
async fn open(
    state: &AppState,
    c: &Credentials,
) -> Result<Option<(String, UiSession)>, GatewayError> {
    let Some(s) = check(state, c).await? else {
        return Ok(None);
    };
    persist(state, s).await.map(Some)
}

/// Opens a session for a user who has just set their password (`/onboarding/claim_token`).
pub(crate) async fn open_for_user(
    state: &AppState,
    user_id: &str,
    role: &str,
) -> Result<(String, UiSession), GatewayError> {
    let s = UiSession {
        session_id: String::new(),
        csrf_token: random_token(),
        user_role: role.into(),
        user_id: Some(user_id.into()),
        key_token: Some(format!("{USER_SESSION}{user_id}")),
        expires: llmgate_store::now_ms() + session_duration_ms(),
        created_at: None,
    };
    persist(state, s).await
}

/// Stores the session under a new cookie value, which it returns.
async fn persist(state: &AppState, mut s: UiSession) -> Result<(String, UiSession), GatewayError> {
    let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
    let value = random_token();
    s.session_id = hash_key(&value);
    let now = llmgate_store::now_ms();
    if let Err(e) = sessions::delete_expired(store, now).await {
        tracing::debug!(error = %e, "expired sessions not removed");
    }
    sessions::insert(store, &s)
        .await
        .map_err(|e| GatewayError::Unavailable(format!("the session was not stored: {e}")))?;
    Ok((value, s))
}

pub(crate) fn logged_in(
    mut res: Response,
    headers: &HeaderMap,
    value: &str,
    s: &UiSession,
) -> Response {
    let max_age = ((s.expires - llmgate_store::now_ms()) / 1000).max(1);
    set_cookies(&mut res, value, &s.csrf_token, max_age, secure(headers));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `POST /login`: LiteLLM's form login (`username`, `password`); 303 to the dashboard.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if cross_site(&headers) {
        return cross_site_refused();
    }
    let c: Credentials = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    match open(&state, &c).await {
        Ok(Some((value, s))) => {
            let mut res = StatusCode::SEE_OTHER.into_response();
            res.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_static("/ui/?login=success"),
            );
            logged_in(res, &headers, &value, &s)
        }
        Ok(None) => invalid_credentials(),
        Err(e) => e.into_response(),
    }
}

/// `POST /v2/login`: the same with a JSON body; answers where to go and who logged in.
pub async fn login_json(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if cross_site(&headers) {
        return cross_site_refused();
    }
    let c: Credentials = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(_) => {
            return GatewayError::BadRequest(
                "the body must be a JSON object with username and password".into(),
            )
            .into_response()
        }
    };
    match open(&state, &c).await {
        Ok(Some((value, s))) => {
            let res = Json(json!({
                "redirect_url": "/ui/?login=success",
                "user_role": s.user_role,
                "user_id": s.user_id,
            }))
            .into_response();
            logged_in(res, &headers, &value, &s)
        }
        Ok(None) => invalid_credentials(),
        Err(e) => e.into_response(),
    }
}

/// `GET /ui/session`: who the session cookie logs in as (`logged_in: false` without one: the
/// page asks before it knows, and that is no error).
pub async fn whoami(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let s = match current(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let mut res = Json(json!({"logged_in": false})).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return res;
        }
        Err(e) => return e.into_response(),
    };
    // A key session lasts only as long as its key works.
    let mut key_alias = None;
    if s.key_token.is_some() {
        match authenticate(&state, &Method::GET, &headers).await {
            Ok(ctx) => key_alias = ctx.key.and_then(|k| k.row.key_alias.clone()),
            Err(e) => return e.into_response(),
        }
    }
    let mut res = Json(json!({
        "logged_in": true,
        "user_role": s.user_role,
        "user_id": s.user_id,
        "key_alias": key_alias,
        "expires": llmgate_store::time::iso(s.expires),
    }))
    .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `POST /logout`: deletes the session (with its CSRF token) and clears the cookies.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(value) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = authenticate(&state, &Method::POST, &headers).await {
            // An expired or deleted session is already logged out; a missing token is not.
            if matches!(e, GatewayError::Forbidden { .. }) {
                return e.into_response();
            }
        }
        if let Some(store) = state.gov.store.as_ref() {
            if let Err(e) = sessions::delete(store, &hash_key(&value)).await {
                return GatewayError::Unavailable(format!("the session was not deleted: {e}"))
                    .into_response();
            }
        }
    }
    let mut res = Json(json!({"message": "logged out"})).into_response();
    set_cookies(&mut res, "", "", 0, secure(&headers));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn cookies_are_read_from_every_header() {
        let h = headers(&[
            ("cookie", "a=1; llmgate_csrf=tok"),
            ("cookie", "llmgate_session=abc"),
        ]);
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, CSRF_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "missing"), None);
        // An empty value is no cookie.
        assert!(!has_cookie(&headers(&[("cookie", "llmgate_session=")])));
    }

    #[test]
    fn only_same_origin_logins() {
        assert!(!cross_site(&headers(&[("host", "gw:4000")])));
        assert!(!cross_site(&headers(&[
            ("host", "gw:4000"),
            ("origin", "http://gw:4000")
        ])));
        assert!(cross_site(&headers(&[
            ("host", "gw:4000"),
            ("origin", "https://evil.example")
        ])));
        assert!(!cross_site(&headers(&[
            ("host", "10.0.0.5:4000"),
            ("x-forwarded-host", "llm.example.com"),
            ("origin", "https://llm.example.com")
        ])));
    }

    #[test]
    fn passwords_match_as_litellm_checks_them() {
        // LiteLLM's `hash_token`: the SHA-256 hex of the password.
        let stored = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
        assert!(password_matches("password", stored));
        assert!(password_matches("plain-set-by-hand", "plain-set-by-hand"));
        assert!(!password_matches("Password", stored));
        assert!(!password_matches("", stored));
        // The hash itself is no password.
        assert!(!password_matches(stored, stored));
    }

    #[test]
    fn tokens_are_random_and_url_safe() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
