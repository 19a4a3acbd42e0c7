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

/// The pickup code of fulfilment order `id` under `key`: the first 40 bits of
/// HMAC-SHA256(key, "pickup:" + id), as [`PICKUP_CODE_CHARS`] characters of
/// [`PICKUP_ALPHABET`]. Unguessable without the key, and the same whenever it is derived, so
/// the server can show a ready pickup's code to its shopper again without storing it.
pub fn derived_pickup_code(key: &[u8], id: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(format!("pickup:{id}").as_bytes());
    let digest = mac.finalize().into_bytes();
    let bits = digest[..5]
        .iter()
        .fold(0u64, |bits, b| (bits << 8) | u64::from(*b));
    (0..PICKUP_CODE_CHARS)
        .rev()
        .map(|i| char::from(PICKUP_ALPHABET[((bits >> (5 * i)) & 31) as usize]))
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
        let stored = pickup_code_hash("ful1", "AB01-CD2E");
        assert_eq!(pickup_code_hash("ful1", "ab o1 cd2e"), stored);
        assert_eq!(pickup_code_hash("ful1", "ABOI-CD2E"), stored);
        assert_ne!(pickup_code_hash("ful2", "AB01CD2E"), stored, "salted by id");
        assert_ne!(pickup_code_hash("ful1", "AB01CD2F"), stored);
        let derived = derived_pickup_code(b"key one", "ful1");
        assert_eq!(derived.len(), PICKUP_CODE_CHARS);
        assert!(derived.bytes().all(|b| PICKUP_ALPHABET.contains(&b)));
        assert_eq!(
            derived,
            derived_pickup_code(b"key one", "ful1"),
            "derived again"
        );
        assert_ne!(derived, derived_pickup_code(b"key two", "ful1"), "keyed");
        assert_ne!(
            derived,
            derived_pickup_code(b"key one", "ful2"),
            "per order"
        );
    }
}
