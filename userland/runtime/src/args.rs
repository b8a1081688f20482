//! args.rs - command-line parsing for the shell: splitting into words and
//! reading numbers. Pure logic, host-tested.

/// Split `line` into its first word and the rest (trimmed), if any word.
pub fn split_command(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    Some(match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], line[i..].trim_start()),
        None => (line, ""),
    })
}

/// Parse a decimal (or 0x-prefixed hex) unsigned number.
pub fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok();
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parse a number that must fit in u32.
pub fn parse_u32(s: &str) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

/// The words of `rest` joined by single spaces (what `echo` prints).
pub fn words(rest: &str) -> impl Iterator<Item = &str> {
    rest.split_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn split() {
        assert_eq!(split_command("  echo a  b "), Some(("echo", "a  b")));
        assert_eq!(split_command("ps"), Some(("ps", "")));
        assert_eq!(split_command("  \t "), None);
        assert_eq!(split_command("heap\t64"), Some(("heap", "64")));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64("1024"), Some(1024));
        assert_eq!(parse_u64(" 7 "), Some(7));
        assert_eq!(parse_u64("0x10"), Some(16));
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64("+1"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u64("12a"), None);
        assert_eq!(parse_u64("99999999999999999999999"), None);
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32("4294967295"), Some(u32::MAX));
    }

    #[test]
    fn echo_words() {
        let w: Vec<&str> = words(" a   b c ").collect();
        assert_eq!(w, ["a", "b", "c"]);
    }
}
