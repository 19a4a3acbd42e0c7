//! The engine's lookup tables hash with FNV-1a: small, fast and deterministic. The standard
//! SipHash resists hash flooding, which these tables do not need (they are built from the
//! retailer's own snapshot; shopper input is only looked up), and it showed up in profiles.

use std::hash::{BuildHasherDefault, Hasher};

pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fnv>>;
pub(crate) type HashSet<K> = std::collections::HashSet<K, BuildHasherDefault<Fnv>>;

pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
