//! Digests: the content hash the scan records for `--fix`, and the stable FNV-1a used by
//! fingerprints and redaction.

/// A digest of a file's bytes, recorded by the scan and compared before a fix writes the file.
pub fn content_hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// 64-bit FNV-1a: small, stable across versions and platforms.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
