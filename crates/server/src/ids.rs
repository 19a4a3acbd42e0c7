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

/// Crockford's base32 alphabet: digits and capitals without I, L, O and U, so a code read out
/// or typed is not misread; 32 symbols, so one random byte's low five bits pick one unbiased.
const PICKUP_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a pickup code: 40 bits, against [`omnicart_order::MAX_PICKUP_ATTEMPTS`] guesses.
pub const PICKUP_CODE_CHARS: usize = 8;

/// A pickup code of OS randomness, [`PICKUP_CODE_CHARS`] characters of [`PICKUP_ALPHABET`].
pub fn pickup_code() -> String {
    let mut bytes = [0u8; PICKUP_CODE_CHARS];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
        .iter()
        .map(|b| char::from(PICKUP_ALPHABET[usize::from(b & 31)]))
        .collect()
}

/// The stored digest of a pickup code for fulfilment order `id`: the code as typed, read the
/// Crockford way (case, spaces and dashes ignored; O is 0, I and L are 1), salted with the id.
pub fn pickup_code_hash(id: &str, code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    sha256_hex(format!("pickup:{id}:{normal}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pickup_codes_are_eight_readable_characters_checked_the_crockford_way() {
        let code = pickup_code();
        assert_eq!(code.len(), PICKUP_CODE_CHARS);
        assert!(code.bytes().all(|b| PICKUP_ALPHABET.contains(&b)));
        assert_ne!(code, pickup_code(), "random");
        let stored = pickup_code_hash("ful1", "AB01-CD2E");
        assert_eq!(pickup_code_hash("ful1", "ab o1 cd2e"), stored);
        assert_eq!(pickup_code_hash("ful1", "ABOI-CD2E"), stored);
        assert_ne!(pickup_code_hash("ful2", "AB01CD2E"), stored, "salted by id");
        assert_ne!(pickup_code_hash("ful1", "AB01CD2F"), stored);
    }
}
