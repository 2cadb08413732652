//! Who is calling, as the ledger needs to know: the identity the auth middleware established,
//! and how keys are hashed and abbreviated.

/// What a handler knows about the caller.
#[derive(Debug, Clone)]
pub struct AuthContext {
    /// The key the caller presented (None when auth is off).
    pub api_key: Option<String>,
    pub is_master: bool,
    /// The virtual key, when the caller used one.
    pub key: Option<std::sync::Arc<super::CachedKey>>,
    /// The key belongs to a user whose `user_role` is `proxy_admin`.
    pub is_proxy_admin: bool,
    /// The caller's address (`X-Forwarded-For`'s first hop with
    /// `general_settings.use_x_forwarded_for`), for spend logs.
    pub client_ip: Option<String>,
}

impl AuthContext {
    /// Master key, a proxy admin's key, or no auth configured at all.
    pub fn is_admin(&self) -> bool {
        self.is_master || self.is_proxy_admin || self.key.is_none()
    }

    /// The user the caller's virtual key belongs to.
    pub fn user_id(&self) -> Option<&str> {
        self.key.as_ref()?.row.user_id.as_deref()
    }

    /// The team the caller's virtual key belongs to.
    pub fn team_id(&self) -> Option<&str> {
        self.key.as_ref()?.row.team_id.as_deref()
    }
}

/// `sk-...abcd`: enough to recognise a key in a message without revealing it.
pub fn abbreviate(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("sk-...{tail}")
}

/// LiteLLM stores and reports keys as the SHA-256 of the secret.
pub fn hash_key(key: &str) -> String {
    use sha2::{Digest, Sha256};
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // On every request: hex by table, one allocation (a `format!` per byte cost 20x more).
    let mut out = String::with_capacity(64);
    for b in Sha256::digest(key.as_bytes()) {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}
