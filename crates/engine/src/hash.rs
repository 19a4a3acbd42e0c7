//! The engine's lookup tables hash a word (8 bytes) at a time, FxHash-style, with a
//! SplitMix64 finish so every input bit reaches the bits the table uses: small, fast and
//! deterministic on every platform. The standard SipHash resists hash flooding, which these
//! tables do not need (they are built from the retailer's own snapshot; shopper input is only
//! looked up), and it showed up in profiles; so did hashing a byte at a time (FNV-1a), as SKUs
//! and names are looked up for every line of every quote.

use std::hash::{BuildHasherDefault, Hasher};

pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<WordHash>>;
pub(crate) type HashSet<K> = std::collections::HashSet<K, BuildHasherDefault<WordHash>>;

#[derive(Default)]
pub(crate) struct WordHash(u64);

impl WordHash {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for WordHash {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some((word, tail)) = rest.split_first_chunk::<8>() {
            self.add(u64::from_le_bytes(*word));
            rest = tail;
        }
        if !rest.is_empty() {
            // Built byte by byte: a copy into a buffer is a call to `memcpy` in Wasm.
            let word = rest
                .iter()
                .rev()
                .fold(0u64, |w, &b| (w << 8) | u64::from(b));
            self.add(word);
            // The length, as a step of its own, keeps "ab" and "ab\0" apart, and a short last
            // word apart from a full one ("SKU-123" and "SKU-1238": a length folded into the
            // word's top byte collided with a real eighth byte).
            self.add(rest.len() as u64);
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, BuildHasherDefault};

    use super::WordHash;

    #[test]
    fn keys_that_differ_late_in_a_word_land_in_different_buckets() {
        let hash = |s: &str| BuildHasherDefault::<WordHash>::default().hash_one(s);
        let low_bits: std::collections::BTreeSet<u64> =
            (0..64).map(|i| hash(&format!("SKU-{i:04}")) & 63).collect();
        assert!(
            low_bits.len() > 32,
            "64 SKUs fill only {} of 64 buckets",
            low_bits.len()
        );
        assert_ne!(hash("ab"), hash("ab\0"));
        for (a, b) in [
            ("SKU-123", "SKU-1238"),
            ("VIS-Q80", "VIS-Q808"),
            ("SKU-0000-ABCDEF", "SKU-0000-ABCDEF8"),
        ] {
            assert_ne!(hash(a), hash(b), "{a} and {b}");
        }
    }
}
