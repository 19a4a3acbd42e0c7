//! Unguessable identifiers and tokens, and the clock: the only sources of randomness and time.

use sha2::{Digest, Sha256};

/// `prefix` + 32 hex characters of OS randomness (128 bits): safe to use as a capability.
pub fn random_id(prefix: &str) -> String {
    format!("{prefix}{}", random_hex::<16>())
}

/// A session token: 256 bits of OS randomness as hex.
pub fn session_token() -> String {
    random_hex::<32>()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    hex(&bytes)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
