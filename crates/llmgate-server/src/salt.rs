//! Model credentials at rest, encrypted as LiteLLM does with `LITELLM_SALT_KEY` (else the
//! master key): the key is SHA-256 of the salt key; values are NaCl secretbox
//! (XSalsa20-Poly1305, `nonce || tag || ciphertext`) in URL-safe base64 — LiteLLM's default —
//! or, with `general_settings.encryption_algorithm: aes-256-gcm`, `v2:gcm:` + base64url of
//! `nonce(12) || ciphertext || tag`. Both formats are read whatever the setting.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;
use crypto_secretbox::aead::{Aead, AeadCore, KeyInit, OsRng};
use crypto_secretbox::XSalsa20Poly1305;
use sha2::{Digest, Sha256};

const GCM_PREFIX: &str = "v2:gcm:";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    XSalsa20Poly1305,
    Aes256Gcm,
}

/// The derived key and the algorithm new values are written with.
#[derive(Clone)]
pub struct SaltKey {
    key: [u8; 32],
    algorithm: Algorithm,
}

impl std::fmt::Debug for SaltKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SaltKey({:?})", self.algorithm)
    }
}

impl SaltKey {
    pub fn new(secret: &str, algorithm: Algorithm) -> SaltKey {
        SaltKey {
            key: Sha256::digest(secret.as_bytes()).into(),
            algorithm,
        }
    }

    pub fn encrypt(&self, plain: &str) -> String {
        match self.algorithm {
            Algorithm::XSalsa20Poly1305 => {
                let cipher = XSalsa20Poly1305::new(&self.key.into());
                let nonce = XSalsa20Poly1305::generate_nonce(&mut OsRng);
                // Encryption with a valid key and nonce cannot fail.
                let sealed = cipher.encrypt(&nonce, plain.as_bytes()).unwrap_or_default();
                let mut out = nonce.to_vec();
                out.extend_from_slice(&sealed);
                URL_SAFE.encode(out)
            }
            Algorithm::Aes256Gcm => {
                use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
                use ring::rand::{SecureRandom, SystemRandom};
                let mut nonce = [0u8; 12];
                let _ = SystemRandom::new().fill(&mut nonce);
                let mut buf = plain.as_bytes().to_vec();
                if let Ok(k) = UnboundKey::new(&AES_256_GCM, &self.key) {
                    let _ = LessSafeKey::new(k).seal_in_place_append_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::empty(),
                        &mut buf,
                    );
                }
                let mut out = nonce.to_vec();
                out.extend_from_slice(&buf);
                format!("{GCM_PREFIX}{}", URL_SAFE.encode(out))
            }
        }
    }

    /// The plaintext of a value this key encrypted; None for anything else.
    pub fn decrypt(&self, value: &str) -> Option<String> {
        if let Some(b64) = value.strip_prefix(GCM_PREFIX) {
            use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
            let sealed = URL_SAFE.decode(b64).ok()?;
            if sealed.len() < 12 + 16 {
                return None;
            }
            let (nonce, rest) = sealed.split_at(12);
            let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.key).ok()?);
            let mut buf = rest.to_vec();
            let plain = key
                .open_in_place(
                    Nonce::try_assume_unique_for_key(nonce).ok()?,
                    Aad::empty(),
                    &mut buf,
                )
                .ok()?;
            return String::from_utf8(plain.to_vec()).ok();
        }
        let raw = URL_SAFE
            .decode(value)
            .or_else(|_| STANDARD.decode(value))
            .ok()?;
        if raw.len() < 24 + 16 {
            return None;
        }
        let (nonce, sealed) = raw.split_at(24);
        let cipher = XSalsa20Poly1305::new(&self.key.into());
        let plain = cipher.decrypt(nonce.into(), sealed).ok()?;
        String::from_utf8(plain).ok()
    }

    /// Every string value of `params` encrypted (what LiteLLM stores in
    /// `LiteLLM_ProxyModelTable.litellm_params`).
    pub fn encrypt_params(
        &self,
        params: &serde_json::Map<String, serde_json::Value>,
    ) -> serde_json::Map<String, serde_json::Value> {
        params
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => serde_json::Value::String(self.encrypt(s)),
                    other => other.clone(),
                };
                (k.clone(), v)
            })
            .collect()
    }

    /// The stored params with every value this key can decrypt replaced by its plaintext
    /// (values written unencrypted are kept as they are, as LiteLLM does).
    pub fn decrypt_params(
        &self,
        params: &serde_json::Map<String, serde_json::Value>,
    ) -> serde_json::Map<String, serde_json::Value> {
        params
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => {
                        serde_json::Value::String(self.decrypt(s).unwrap_or_else(|| s.clone()))
                    }
                    other => other.clone(),
                };
                (k.clone(), v)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_algorithms_and_reads_either() {
        let a = SaltKey::new("sk-salt", Algorithm::XSalsa20Poly1305);
        let g = SaltKey::new("sk-salt", Algorithm::Aes256Gcm);
        let x = a.encrypt("sk-upstream-secret");
        assert_ne!(x, "sk-upstream-secret");
        assert_eq!(g.decrypt(&x).as_deref(), Some("sk-upstream-secret"));
        let y = g.encrypt("hello");
        assert!(y.starts_with("v2:gcm:"));
        assert_eq!(a.decrypt(&y).as_deref(), Some("hello"));
        assert_eq!(
            SaltKey::new("other", Algorithm::Aes256Gcm).decrypt(&x),
            None
        );
        assert_eq!(a.decrypt("gpt-4o"), None);
    }

    /// A value PyNaCl wrote (`encrypt_value_helper("hello world")` with salt key "sk-test-salt").
    #[test]
    fn reads_pynacl_ciphertext() {
        let k = SaltKey::new("sk-test-salt", Algorithm::XSalsa20Poly1305);
        assert_eq!(k.decrypt(PYNACL_HELLO).as_deref(), Some("hello world"));
    }

    const PYNACL_HELLO: &str =
        "qoKa5Z5pCO-grRJ_fFW6ukQw2StsmxthoDgZS7Az7zkx10DmK7PCIYaiZqdHPYbZecID";
}
