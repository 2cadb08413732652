//! Access tokens (or any short-lived credential, e.g. AWS's temporary key triples) cached per
//! credential until shortly before they expire. One fetch at a time per credential: callers
//! that arrive during a refresh wait for it and take its token, so a burst of requests after
//! expiry makes one token request, not one each.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::LlmError;

/// The most a token is refreshed ahead of its expiry (azure-identity's and google-auth's
/// five minutes); a short-lived token is refreshed a tenth of its lifetime ahead.
const MAX_MARGIN: Duration = Duration::from_secs(300);

/// A token as the issuer answered it.
pub struct Fetched<T = String> {
    pub token: T,
    pub expires_in: Duration,
}

struct Cached<T> {
    token: T,
    refresh_at: Instant,
}

type Slot<T> = Arc<tokio::sync::Mutex<Option<Cached<T>>>>;

pub struct TokenCache<T = String> {
    slots: Mutex<HashMap<String, Slot<T>>>,
    max_margin: Duration,
}

impl<T> Default for TokenCache<T> {
    fn default() -> Self {
        Self::with_max_margin(MAX_MARGIN)
    }
}

impl<T> TokenCache<T> {
    /// A cache that refreshes at most `max_margin` ahead of expiry (a tenth of a short
    /// lifetime), for issuers whose SDKs use another margin than five minutes.
    pub fn with_max_margin(max_margin: Duration) -> Self {
        TokenCache {
            slots: Mutex::default(),
            max_margin,
        }
    }
}

impl<T: Clone> TokenCache<T> {
    /// The cached token for `key`, or the one `fetch` gets (cached when it succeeds; a failure
    /// is not, so the next caller tries again).
    pub async fn get<F, Fut>(&self, key: &str, fetch: F) -> Result<T, LlmError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched<T>, LlmError>>,
    {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_string())
            .or_default()
            .clone();
        let mut held = slot.lock().await;
        if let Some(c) = held.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        let fetched = fetch().await?;
        let margin = self.max_margin.min(fetched.expires_in / 10);
        *held = Some(Cached {
            token: fetched.token.clone(),
            refresh_at: Instant::now() + fetched.expires_in.saturating_sub(margin),
        });
        Ok(fetched.token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn fetched(n: usize, secs: u64) -> Fetched {
        Fetched {
            token: format!("t{n}"),
            expires_in: Duration::from_secs(secs),
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(TokenCache::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (cache, calls) = (cache.clone(), calls.clone());
                tokio::spawn(async move {
                    cache
                        .get("k", || async {
                            let n = calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok(fetched(n, 3600))
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), "t0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn expired_tokens_are_fetched_again_and_failures_not_kept() {
        let cache = TokenCache::default();
        // Lives 0 s: refreshed on the next call.
        let t = cache.get("k", || async { Ok(fetched(1, 0)) }).await;
        assert_eq!(t.unwrap(), "t1");
        let e = cache
            .get("k", || async { Err(LlmError::bad_request("refused")) })
            .await;
        assert!(e.is_err());
        let t = cache.get("k", || async { Ok(fetched(2, 3600)) }).await;
        assert_eq!(t.unwrap(), "t2");
        let t = cache.get("k", || async { Ok(fetched(3, 3600)) }).await;
        assert_eq!(t.unwrap(), "t2", "a live token is reused");
        let t = cache.get("other", || async { Ok(fetched(4, 3600)) }).await;
        assert_eq!(t.unwrap(), "t4", "each key has its own token");
    }
}
