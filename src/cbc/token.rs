//! The API token. It never prints: `Debug` and `Display` show a fixed placeholder, so a token
//! cannot leak through an error message, a log line or a `{:?}` of a config struct.

use std::fmt;

/// `X-Auth-Token` value: `<API secret key>/<API ID>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token, trimming surrounding whitespace (files often end with a newline).
    /// Rejects empty values and values that cannot be an HTTP header value.
    pub fn new(raw: impl Into<String>) -> Result<Token, TokenError> {
        let s = raw.into();
        let t = s.trim();
        if t.is_empty() {
            return Err(TokenError::Empty);
        }
        if t.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
            return Err(TokenError::BadCharacters);
        }
        Ok(Token(t.to_owned()))
    }

    /// The secret itself, for the one place that builds the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The API ID half (after the slash), which is not secret and helps tell keys apart.
    pub fn api_id(&self) -> Option<&str> {
        self.0.rsplit_once('/').map(|(_, id)| id)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the API token is empty")]
    Empty,
    #[error(
        "the API token contains spaces or control characters (expected <API secret key>/<API ID>)"
    )]
    BadCharacters,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let t = Token::new("SECRETSECRET/APIID1\n").unwrap();
        assert_eq!(t.expose(), "SECRETSECRET/APIID1");
        assert!(!format!("{t:?}").contains("SECRET"));
        assert!(!format!("{t}").contains("SECRET"));
        assert_eq!(t.api_id(), Some("APIID1"));
    }

    #[test]
    fn rejects_empty_and_header_breaking_tokens() {
        assert_eq!(Token::new("  \n"), Err(TokenError::Empty));
        assert_eq!(Token::new("a b/c"), Err(TokenError::BadCharacters));
        assert_eq!(
            Token::new("ab/c\r\nX-Evil: 1"),
            Err(TokenError::BadCharacters)
        );
    }
}
