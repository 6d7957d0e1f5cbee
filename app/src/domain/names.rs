//! The one rule for names people give things: experiments, runs, registered models, A/B tests
//! and their variants and metrics, datasets, lineage jobs and namespaces, API token labels.
//!
//! A name is not empty, is at most a bounded number of characters, and holds no control
//! characters (C0, DEL, C1) and no bidirectional or invisible formatting characters: U+202E
//! (right-to-left override) makes `gpj.exe` display as `exe.jpg`, and a model name that reads
//! as another one is a false statement in an approval record. The characters are those of
//! Unicode's `Bidi_Control` property (UAX #9) plus the zero-width and byte-order marks.
//! Errors never quote the name: it may be megabytes long, or deceptive itself.

use crate::domain::Invalid;

/// The default longest name, in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// Whether `c` reorders or hides text: the `Bidi_Control` characters (U+061C, U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069) and U+200B–U+200D, U+2060, U+FEFF.
pub fn is_formatting(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Checks a name and returns it trimmed; the error says what is wrong and where, without
/// repeating the name.
pub fn check_name(s: &str, max_chars: usize) -> Result<&str, Invalid> {
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    let n = t.chars().count();
    if n > max_chars {
        return Err(format!("is {n} characters long; the limit is {max_chars}").into());
    }
    if let Some((i, c)) = t.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(format!(
            "contains the control character U+{:04X} at position {}",
            c as u32,
            i + 1
        )
        .into());
    }
    if let Some((i, c)) = t.chars().enumerate().find(|(_, c)| is_formatting(*c)) {
        return Err(format!(
            "contains the invisible formatting character U+{:04X} at position {}",
            c as u32,
            i + 1
        )
        .into());
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass_trimmed() {
        assert_eq!(check_name("  churn model v2 ", 64), Ok("churn model v2"));
        assert_eq!(check_name("Prüfung — 数据集", 64), Ok("Prüfung — 数据集"));
        assert_eq!(
            check_name("عربى", 64),
            Ok("عربى"),
            "right-to-left text itself is fine"
        );
    }

    #[test]
    fn empty_long_control_and_bidi_are_refused_without_quoting() {
        assert_eq!(
            check_name(" \t ", 64).unwrap_err(),
            "must not be empty".into()
        );
        let long = "x".repeat(900_000);
        let e = check_name(&long, 256).unwrap_err();
        assert_eq!(e, "is 900000 characters long; the limit is 256".into());
        assert_eq!(
            check_name("a\0b", 64).unwrap_err(),
            "contains the control character U+0000 at position 2".into()
        );
        assert_eq!(
            check_name("invoice\u{202E}fdp.exe", 64).unwrap_err(),
            "contains the invisible formatting character U+202E at position 8".into()
        );
        for c in ['\u{7f}', '\u{85}', '\n'] {
            assert!(check_name(&format!("a{c}b"), 64).is_err(), "{c:?}");
        }
        for c in ['\u{200B}', '\u{2066}', '\u{FEFF}', '\u{061C}', '\u{200F}'] {
            assert!(check_name(&format!("a{c}b"), 64).is_err(), "{c:?}");
        }
    }
}
