//! User codes (RFC 8628 §6.1): 8 characters from 20 consonants that cannot be mistaken for one
//! another (no vowels, so no words; no 0/O, 1/I/L confusion) — about 34 bits, shown as
//! `BCDF-GHJK`, typed in any case with or without the dash.

use crate::crypto::random_bytes;

/// The alphabet RFC 8628 §6.1 suggests.
pub const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters in a user code.
pub const LENGTH: usize = 8;

/// A fresh user code, normalised (no dash).
pub fn generate() -> Result<String, crate::crypto::CryptoError> {
    let mut out = String::with_capacity(LENGTH);
    while out.len() < LENGTH {
        // Rejection sampling: 240 = 12 × 20, so bytes below it map uniformly.
        for b in random_bytes::<16>()? {
            if b < 240 && out.len() < LENGTH {
                out.push(char::from(ALPHABET[usize::from(b % 20)]));
            }
        }
    }
    Ok(out)
}

/// Normalises what a person typed: upper case, dashes and spaces dropped; `None` when it cannot
/// be a user code.
pub fn normalize(typed: &str) -> Option<String> {
    let s: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{2010}'..='\u{2015}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == LENGTH && s.bytes().all(|b| ALPHABET.contains(&b))).then_some(s)
}

/// The code as shown: `BCDF-GHJK`.
pub fn display(code: &str) -> String {
    if code.len() == LENGTH && code.is_ascii() {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_codes_normalise_to_themselves() {
        for _ in 0..100 {
            let c = generate().unwrap_or_default();
            assert_eq!(c.len(), 8);
            assert_eq!(normalize(&c).as_deref(), Some(c.as_str()));
            assert_eq!(
                normalize(&display(&c).to_lowercase()).as_deref(),
                Some(c.as_str())
            );
        }
    }

    #[test]
    fn refuses_non_codes() {
        assert_eq!(normalize("BCDF-GHJ"), None);
        assert_eq!(normalize("ABCD-EFGH"), None);
        assert_eq!(normalize("bcdf ghjk").as_deref(), Some("BCDFGHJK"));
    }

    proptest! {
        #[test]
        fn normalize_never_panics(s in ".{0,40}") {
            let _ = normalize(&s);
        }
    }
}
