//! A conservative raw JSON scanner: finds where a value ends without building it.
//!
//! An alert search page is mostly fields a queue does not keep (~85 % of each alert's bytes).
//! Skipping them through serde (`IgnoredAny`) walks every string 8 bytes at a time and
//! dispatches per value; this scanner walks strings a word at a time without any of that and
//! knows only as much JSON as it needs to.
//!
//! It is stricter than serde_json, never looser: anything it does not positively recognise as
//! well-formed — an unusual escape, a control character, odd number syntax, deep nesting —
//! is [`Skip::Unsure`], and the caller then parses the whole value with serde_json, which
//! accepts or refuses it with its usual error. So a document is accepted exactly when
//! serde_json accepts it.

/// Where a scanned value ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The index just past the value.
    End(usize),
    /// The input ends inside the value.
    More,
    /// Not recognised as well-formed: let serde_json decide.
    Unsure,
}

/// Nesting deeper than this is left to serde_json (and its own recursion limit).
const MAX_DEPTH: u32 = 64;

/// The index of the first non-whitespace byte at or after `i`.
pub fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// The index of the first byte of `s` that ends a plain run of string text: `"`, `\\`, or a
/// control character (U+0000..U+001F, which JSON forbids unescaped). Sixteen bytes a step
/// with SSE2 (part of every x86-64 CPU), the last few a word at a time.
fn special(s: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let mut at = 0;
        // SAFETY: SSE2 is in the x86-64 baseline, so these intrinsics are always available;
        // every load is unaligned (`loadu`) and reads `s[at..at + 16]`, inside `s`.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let control = _mm_set1_epi8(0x1f);
            while at + 16 <= s.len() {
                let x = _mm_loadu_si128(s.as_ptr().add(at).cast::<__m128i>());
                // x <= 0x1f unsigned exactly when min(x, 0x1f) == x.
                let low = _mm_cmpeq_epi8(_mm_min_epu8(x, control), x);
                let hit = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                    low,
                );
                let mask = _mm_movemask_epi8(hit);
                if mask != 0 {
                    return Some(at + mask.trailing_zeros() as usize);
                }
                at += 16;
            }
        }
        special_words(&s[at..]).map(|i| at + i)
    }
    #[cfg(not(target_arch = "x86_64"))]
    special_words(s)
}

/// [`special`] eight bytes a step with word arithmetic (the "has less than" bit trick; the
/// lowest flagged byte is exact).
fn special_words(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let ctrl = w.wrapping_sub(ONES * 0x20) & !w;
        let q = w ^ (ONES * u64::from(b'"'));
        let q = q.wrapping_sub(ONES) & !q;
        let bs = w ^ (ONES * u64::from(b'\\'));
        let bs = bs.wrapping_sub(ONES) & !bs;
        let hit = (ctrl | q | bs) & HIGH;
        if hit != 0 {
            return Some(at + hit.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| at + i)
}

/// Skips the string starting at `b[i] == b'"'`; the flag says whether it held an escape.
pub fn string_escaped(b: &[u8], i: usize) -> (Skip, bool) {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        let Some(k) = special(&b[j..]) else {
            return (Skip::More, escaped);
        };
        j += k;
        match b[j] {
            b'"' => return (Skip::End(j + 1), escaped),
            b'\\' => escaped = true,
            _ => return (Skip::Unsure, escaped),
        }
        // The escapes serde_json accepts in a string it skips.
        match b.get(j + 1) {
            None => return (Skip::More, escaped),
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
            Some(b'u') => {
                let hex = &b[(j + 2).min(b.len())..(j + 6).min(b.len())];
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return (Skip::Unsure, escaped);
                }
                if hex.len() < 4 {
                    return (Skip::More, escaped);
                }
                j += 6;
            }
            Some(_) => return (Skip::Unsure, escaped),
        }
    }
}

/// Skips the string starting at `b[i] == b'"'`.
pub fn string(b: &[u8], i: usize) -> Skip {
    string_escaped(b, i).0
}

/// Skips the value starting at `b[i]` (not whitespace).
pub fn value(b: &[u8], i: usize) -> Skip {
    value_at(b, i, 0)
}

fn value_at(b: &[u8], i: usize, depth: u32) -> Skip {
    let Some(&c) = b.get(i) else {
        return Skip::More;
    };
    match c {
        b'"' => string(b, i),
        b'{' | b'[' => {
            if depth >= MAX_DEPTH {
                return Skip::Unsure;
            }
            container(b, i, depth + 1)
        }
        b't' => literal(b, i, b"true"),
        b'f' => literal(b, i, b"false"),
        b'n' => literal(b, i, b"null"),
        b'-' | b'0'..=b'9' => number(b, i),
        _ => Skip::Unsure,
    }
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Skip {
    let have = &b[i..(i + word.len()).min(b.len())];
    if !word.starts_with(have) {
        Skip::Unsure
    } else if have.len() < word.len() {
        Skip::More
    } else {
        Skip::End(i + word.len())
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, which is what serde_json accepts. A number
/// reaching the end of the input may go on: `More`.
fn number(b: &[u8], i: usize) -> Skip {
    let digits = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let mut j = i;
    if b[j] == b'-' {
        j += 1;
    }
    match b.get(j) {
        None => return Skip::More,
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => j = digits(j + 1),
        Some(_) => return Skip::Unsure,
    }
    if b.get(j) == Some(&b'.') {
        let k = digits(j + 1);
        if k == j + 1 {
            return if k == b.len() {
                Skip::More
            } else {
                Skip::Unsure
            };
        }
        j = k;
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let k = digits(j);
        if k == j {
            return if k == b.len() {
                Skip::More
            } else {
                Skip::Unsure
            };
        }
        j = k;
    }
    if j == b.len() {
        return Skip::More;
    }
    Skip::End(j)
}

/// An object or array starting at `b[i]`.
fn container(b: &[u8], i: usize, depth: u32) -> Skip {
    let object = b[i] == b'{';
    let close = if object { b'}' } else { b']' };
    let mut j = ws(b, i + 1);
    match b.get(j) {
        None => return Skip::More,
        Some(&c) if c == close => return Skip::End(j + 1),
        Some(_) => {}
    }
    loop {
        if object {
            match b.get(j) {
                None => return Skip::More,
                Some(b'"') => {}
                Some(_) => return Skip::Unsure,
            }
            j = match string(b, j) {
                Skip::End(e) => ws(b, e),
                other => return other,
            };
            match b.get(j) {
                None => return Skip::More,
                Some(b':') => j = ws(b, j + 1),
                Some(_) => return Skip::Unsure,
            }
        }
        j = match value_at(b, j, depth) {
            Skip::End(e) => ws(b, e),
            other => return other,
        };
        match b.get(j) {
            None => return Skip::More,
            Some(b',') => j = ws(b, j + 1),
            Some(&c) if c == close => return Skip::End(j + 1),
            Some(_) => return Skip::Unsure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the scanner says `End` to, serde_json accepts as exactly that value; what it
    /// cannot finish is `More`; the rest it leaves to serde_json.
    #[test]
    fn ends_only_where_serde_json_ends() {
        let cases: &[(&str, Skip)] = &[
            (r#""abc" "#, Skip::End(5)),
            (r#""a\"b\\c\/\b\f\n\r\t\u00e9\uD83D\uDE00","#, Skip::End(39)),
            (r#""a\x""#, Skip::Unsure),
            (r#""a\u12G4""#, Skip::Unsure),
            ("\"a\u{1}b\"", Skip::Unsure),
            ("\"tab\there\"", Skip::Unsure),
            (r#""unterminated"#, Skip::More),
            (r#""cut\"#, Skip::More),
            (r#""cut\u00"#, Skip::More),
            ("0,", Skip::End(1)),
            ("-12.5e+3}", Skip::End(8)),
            ("01", Skip::End(1)),
            ("1.", Skip::More),
            ("1.x", Skip::Unsure),
            ("1e", Skip::More),
            ("1e+]", Skip::Unsure),
            ("-", Skip::More),
            ("-x", Skip::Unsure),
            ("+1", Skip::Unsure),
            ("12", Skip::More),
            ("true,", Skip::End(4)),
            ("tru", Skip::More),
            ("trux", Skip::Unsure),
            ("null]", Skip::End(4)),
            (r#"{"a": [1, {"b": null}], "c": "d"} "#, Skip::End(33)),
            (r#"{ } "#, Skip::End(3)),
            (r#"[ ] "#, Skip::End(3)),
            (r#"{"a" 1}"#, Skip::Unsure),
            (r#"{"a":1,}"#, Skip::Unsure),
            (r#"[1,]"#, Skip::Unsure),
            (r#"[1 2]"#, Skip::Unsure),
            (r#"{1:2}"#, Skip::Unsure),
            (r#"{"a":[1,2"#, Skip::More),
            (r#"'a'"#, Skip::Unsure),
        ];
        for &(json, want) in cases {
            let got = value(json.as_bytes(), 0);
            assert_eq!(got, want, "{json}");
            if let Skip::End(e) = got {
                let v: Result<serde_json::Value, _> = serde_json::from_str(&json[..e]);
                assert!(v.is_ok(), "{json}: serde_json refuses {:?}", &json[..e]);
            }
        }
        let deep = "[".repeat(70) + &"]".repeat(70);
        assert_eq!(value(deep.as_bytes(), 0), Skip::Unsure);
        let ok = "[".repeat(60) + &"]".repeat(60);
        assert_eq!(value(ok.as_bytes(), 0), Skip::End(120));
        let long = format!("\"{}\u{7}\"", "x".repeat(100));
        assert_eq!(value(long.as_bytes(), 0), Skip::Unsure);
        // Every position of the special byte in and around a word.
        for n in 0..20 {
            let body = "é".repeat(n / 2) + &"x".repeat(n % 2);
            for (tail, want) in [("\"", true), ("\u{1f}\"", false), ("\\n\"", true)] {
                let json = format!("\"{body}{tail} ");
                let got = value(json.as_bytes(), 0);
                assert_eq!(
                    got,
                    if want {
                        Skip::End(json.len() - 1)
                    } else {
                        Skip::Unsure
                    },
                    "{json:?}"
                );
            }
        }
        assert_eq!(string_escaped(br#""a\tb""#, 0), (Skip::End(6), true));
        // Both ways of finding the special byte agree, wherever it is and whatever it is.
        for len in 0..40 {
            for at in 0..=len {
                for special_byte in [b'"', b'\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff] {
                    let mut s = vec![b'a'; len];
                    s.extend_from_slice("é".as_bytes());
                    if at < s.len() {
                        s[at] = special_byte;
                    }
                    let want = s.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
                    assert_eq!(special(&s), want, "{s:?}");
                    assert_eq!(special_words(&s), want, "{s:?}");
                }
            }
        }
        assert_eq!(string_escaped(br#""ab""#, 0), (Skip::End(4), false));
    }
}
