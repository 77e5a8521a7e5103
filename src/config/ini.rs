//! A small INI reader with the rules of Python's `configparser` defaults, which is what the CBC SDK
//! uses for `credentials.cbc`:
//!
//! * `[name]` starts a section (names are case-sensitive and kept verbatim); `[DEFAULT]` holds
//!   values inherited by every section.
//! * `key = value` or `key: value`, split at the first `=` or `:`; keys are lower-cased; key and
//!   value are trimmed; values may contain `=` and `:`.
//! * Lines whose first non-blank character is `#` or `;` are comments. There are no inline
//!   comments: `url = https://x ; note` keeps ` ; note` in the value (as the SDK does).
//! * A line indented more than its key continues the previous value (joined with `\n`).
//! * Within one file a repeated section or a repeated key in a section is an error.
//! * A UTF-8 BOM is skipped; UTF-16 files with a BOM are decoded (Windows editors write them).
//!
//! Not implemented: `%(name)s` interpolation (values are taken literally).
//!
//! Error messages never quote the offending line (it might hold a token): only line numbers.

use std::collections::BTreeMap;

/// One parsed file: sections in order of appearance, plus `[DEFAULT]`.
#[derive(Debug, Default)]
pub(crate) struct IniFile {
    pub sections: Vec<IniSection>,
    pub defaults: BTreeMap<String, IniValue>,
}

#[derive(Debug)]
pub(crate) struct IniSection {
    pub name: String,
    pub line: usize,
    pub values: BTreeMap<String, IniValue>,
}

#[derive(Clone)]
pub(crate) struct IniValue {
    pub value: String,
    pub line: usize,
}

impl std::fmt::Debug for IniValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be tokens: never print them.
        write!(
            f,
            "IniValue(line {}, {} chars)",
            self.line,
            self.value.len()
        )
    }
}

/// A syntax error: 1-based line and column and a message without file content.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct IniError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Decodes file bytes: UTF-8 (BOM optional) or UTF-16 with a BOM.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, IniError> {
    let bad = |what: &str| IniError {
        line: 1,
        column: 1,
        message: format!("the file is not valid {what} text"),
    };
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8(rest.to_vec()).map_err(|_| bad("UTF-8"));
    }
    let utf16 = |rest: &[u8], le: bool| -> Result<String, IniError> {
        if !rest.len().is_multiple_of(2) {
            return Err(bad("UTF-16"));
        }
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| bad("UTF-16"))
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        // Report where the bad byte is, by line.
        let at = e.utf8_error().valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        IniError {
            line,
            column: 1,
            message: "the file is not valid UTF-8 text".to_owned(),
        }
    })
}

/// Parses INI text.
pub(crate) fn parse(text: &str) -> Result<IniFile, IniError> {
    let mut file = IniFile::default();
    // Which section receives keys: None = before any header, Some(None) = DEFAULT,
    // Some(Some(i)) = file.sections[i].
    let mut current: Option<Option<usize>> = None;
    let mut seen_default = false;
    // The key whose value may continue on indented lines: (key, indent of its line).
    let mut cont: Option<(String, usize)> = None;
    let mut pending_blank = 0usize;

    for (idx, raw) in text.split('\n').enumerate() {
        let lineno = idx + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let stripped = line.trim();
        let indent = line.len() - line.trim_start().len();
        if stripped.is_empty() {
            if cont.is_some() {
                pending_blank += 1;
            }
            continue;
        }
        if stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        if let (Some((key, key_indent)), Some(sect)) = (&cont, current)
            && indent > *key_indent
        {
            let values = match sect {
                None => &mut file.defaults,
                Some(i) => &mut file.sections[i].values,
            };
            if let Some(v) = values.get_mut(key) {
                for _ in 0..pending_blank {
                    v.value.push('\n');
                }
                v.value.push('\n');
                v.value.push_str(stripped);
            }
            pending_blank = 0;
            continue;
        }
        cont = None;
        pending_blank = 0;

        if let Some(inner) = stripped.strip_prefix('[')
            && let Some(end) = inner.rfind(']')
            && end > 0
        {
            let name = &inner[..end];
            if name == "DEFAULT" {
                if seen_default {
                    return Err(err(
                        lineno,
                        indent,
                        "section [DEFAULT] appears twice in this file",
                    ));
                }
                seen_default = true;
                current = Some(None);
                continue;
            }
            if file.sections.iter().any(|s| s.name == name) {
                return Err(err(
                    lineno,
                    indent,
                    format!("profile [{name}] appears twice in this file"),
                ));
            }
            file.sections.push(IniSection {
                name: name.to_owned(),
                line: lineno,
                values: BTreeMap::new(),
            });
            current = Some(Some(file.sections.len() - 1));
            continue;
        }

        let Some(sect) = current else {
            return Err(err(
                lineno,
                indent,
                "a setting appears before any [profile] header (the file must start with e.g. [default])",
            ));
        };
        let Some(pos) = stripped.find(['=', ':']) else {
            return Err(err(
                lineno,
                indent,
                "expected `key = value`, a `[profile]` header or a comment",
            ));
        };
        let key = stripped[..pos].trim().to_lowercase();
        if key.is_empty() {
            return Err(err(
                lineno,
                indent,
                "a line starts with `=` or `:` but has no key",
            ));
        }
        let value = stripped[pos + 1..].trim().to_owned();
        let values = match sect {
            None => &mut file.defaults,
            Some(i) => &mut file.sections[i].values,
        };
        if values.contains_key(&key) {
            return Err(err(
                lineno,
                indent,
                format!("key `{key}` is set twice in the same section"),
            ));
        }
        values.insert(
            key.clone(),
            IniValue {
                value,
                line: lineno,
            },
        );
        cont = Some((key, indent));
    }
    Ok(file)
}

fn err(line: usize, indent: usize, message: impl Into<String>) -> IniError {
    IniError {
        line,
        column: indent + 1,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(f: &'a IniFile, sect: &str, key: &str) -> Option<&'a str> {
        f.sections
            .iter()
            .find(|s| s.name == sect)?
            .values
            .get(key)
            .map(|v| v.value.as_str())
    }

    #[test]
    fn configparser_basics() {
        let text = "; comment\n# another\n[default]\nurl = https://h:8443/x?a=b\r\nTOKEN=AB/CD\n\
                    org_key : ORG1\n  \n[Other Profile]\nssl_verify=False\nempty=\n";
        let f = parse(text).unwrap();
        assert_eq!(get(&f, "default", "url"), Some("https://h:8443/x?a=b"));
        assert_eq!(get(&f, "default", "token"), Some("AB/CD"));
        assert_eq!(get(&f, "default", "org_key"), Some("ORG1"));
        assert_eq!(get(&f, "Other Profile", "ssl_verify"), Some("False"));
        assert_eq!(get(&f, "Other Profile", "empty"), Some(""));
        assert_eq!(f.sections[1].line, 8);
        assert_eq!(f.sections[0].values["token"].line, 5);
    }

    #[test]
    fn no_inline_comments_and_continuations() {
        let f = parse("[a]\nurl = https://x ; note\ntok = one\n  two\n").unwrap();
        assert_eq!(get(&f, "a", "url"), Some("https://x ; note"));
        assert_eq!(get(&f, "a", "tok"), Some("one\ntwo"));
    }

    #[test]
    fn default_section_is_separate() {
        let f = parse("[DEFAULT]\norg_key=X\n[p]\nurl=https://h\n").unwrap();
        assert_eq!(f.defaults["org_key"].value, "X");
        assert_eq!(f.sections.len(), 1);
    }

    #[test]
    fn errors_give_line_and_never_content() {
        let e = parse("token=CANARY-x\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(!e.message.contains("CANARY"));
        let e = parse("[a]\nurl=https://x\nCANARY-no-delimiter\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 1));
        assert!(!e.message.contains("CANARY"));
        let e = parse("[a]\n[b]\n[a]\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse("[a]\ntoken=1\ntoken=CANARY-dup\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(!e.message.contains("CANARY"));
    }

    #[test]
    fn decodes_boms() {
        assert_eq!(decode(b"\xEF\xBB\xBF[a]").unwrap(), "[a]");
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("[a]".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(decode(&le).unwrap(), "[a]");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("[b]".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(decode(&be).unwrap(), "[b]");
        assert_eq!(decode(b"[a]\n\xFF").unwrap_err().line, 2);
    }
}
