//! Criteria, exclusions, a Lucene-style query subset, and sorting over JSON documents.
//!
//! CBC names fields generically in criteria, queries and sort specs, so everything here works on
//! any document (alert, device, process, observation, override), in either representation the
//! simulator keeps: `serde_json` maps ([`Doc`]: devices, overrides, request bodies) or the
//! store's compact documents ([`CDoc`](super::compact::CDoc): alerts, processes, observations).
//! The matchers see both through [`JsonVal`] / [`JsonObj`] and are monomorphized for each.
//!
//! # Field names
//! A field is looked up as a top-level key first. When that key is absent, `a.b` walks into
//! nested objects, and `prefix_rest` falls back to the nested field `rest` of an object (or of
//! every object in an array) stored under `prefix`, so the criteria names CBC uses for nested
//! alert fields work: `workflow_status` → `workflow.status`, `determination_value` →
//! `determination.value`, `workflow_change_timestamp` → `workflow.change_timestamp`,
//! `watchlists_id` → `watchlists[].id`. Array fields match when any element matches.
//!
//! # Query syntax (the subset supported)
//! * `field:value` — ASCII case-insensitive equality. A string value that is a path also matches
//!   on its last component (`process_name:powershell.exe` matches
//!   `c:\windows\...\powershell.exe`). Numbers compare numerically (`netconn_port:445`),
//!   booleans as `true`/`false`.
//! * `field:"quoted value"` — the same, with spaces and special characters; `\"` and `\\` are
//!   the only escapes inside quotes (other backslashes are kept, so Windows paths work).
//! * Wildcards `*` (any run) and `?` (one character) in unquoted values: `device_name:win-*`.
//! * `field:*` — the field is present and not null. `*` or `*:*` alone matches everything.
//! * Ranges `field:[lo TO hi]` (inclusive), `{lo TO hi}` (exclusive), mixed brackets, `*` for an
//!   open end; numeric when both ends are numbers, timestamps when they parse as RFC 3339,
//!   otherwise case-insensitive text order.
//! * `field:(a OR b c)` — a group applied to one field.
//! * Bare terms without a field match a case-insensitive substring of any string value (or an
//!   equal number) at the top level or one level down; wildcards make them whole-value globs.
//! * Operators `AND`/`&&`, `OR`/`||`, `NOT`/`!`, a leading `-` (must not) or `+` (must),
//!   parentheses. Adjacent clauses are AND-ed (CBC's default operator). Precedence:
//!   NOT > AND > OR. Keywords are upper case only, as in Lucene.
//! * Outside quotes a backslash escapes one Lucene special character
//!   (`+ - & | ! ( ) { } [ ] ^ " ~ * ? : \ /` or a space); before any other character it is kept
//!   literally.
//!
//! Not supported: fuzzy (`~`), boosts (`^`), regular expressions, proximity searches.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Number, Value};

use super::compact::{CKind, CObj, CVal};
#[cfg(any(doc, test))]
use super::world::Doc;

/// Deepest nesting of parentheses / unary operators accepted, so hostile queries cannot exhaust
/// the stack while parsing or matching.
const MAX_DEPTH: usize = 64;
/// Longest query accepted, in bytes: matching cost grows with the pattern length.
pub const MAX_QUERY_LEN: usize = 16 * 1024;
/// From this many values on, a criteria field is matched through a hash set instead of one
/// comparison per value (a workflow request can name thousands of alert ids).
const SET_THRESHOLD: usize = 8;

// ------------------------------------------------------------------------------------------------
// Document access

/// What a JSON value is, as the matchers see it.
pub enum Kind<'a, O> {
    Null,
    Bool(bool),
    Number(Number),
    String(&'a str),
    /// Elements through [`JsonVal::items`].
    Array,
    Object(O),
}

/// A borrowed JSON value of either representation.
pub trait JsonVal<'a>: Copy + 'a {
    type Obj: JsonObj<'a, Val = Self>;
    fn kind(self) -> Kind<'a, Self::Obj>;
    /// The elements of an array (nothing for anything else).
    fn items(self) -> impl Iterator<Item = Self> + 'a;

    fn is_null(self) -> bool {
        matches!(self.kind(), Kind::Null)
    }
    fn as_str(self) -> Option<&'a str> {
        match self.kind() {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }
    fn as_f64(self) -> Option<f64> {
        match self.kind() {
            Kind::Number(n) => n.as_f64(),
            _ => None,
        }
    }
}

/// A borrowed JSON object of either representation.
pub trait JsonObj<'a>: Copy + 'a {
    type Val: JsonVal<'a, Obj = Self>;
    fn get(self, key: &str) -> Option<Self::Val>;
    fn values(self) -> impl Iterator<Item = Self::Val> + 'a;
}

impl<'a> JsonVal<'a> for &'a Value {
    type Obj = &'a Map<String, Value>;
    fn kind(self) -> Kind<'a, Self::Obj> {
        match self {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Bool(*b),
            Value::Number(n) => Kind::Number(n.clone()),
            Value::String(s) => Kind::String(s),
            Value::Array(_) => Kind::Array,
            Value::Object(m) => Kind::Object(m),
        }
    }
    fn items(self) -> impl Iterator<Item = Self> + 'a {
        self.as_array().into_iter().flatten()
    }
    fn is_null(self) -> bool {
        Value::is_null(self)
    }
    fn as_str(self) -> Option<&'a str> {
        Value::as_str(self)
    }
}

impl<'a> JsonObj<'a> for &'a Map<String, Value> {
    type Val = &'a Value;
    fn get(self, key: &str) -> Option<&'a Value> {
        Map::get(self, key)
    }
    fn values(self) -> impl Iterator<Item = &'a Value> + 'a {
        Map::values(self)
    }
}

impl<'a> JsonVal<'a> for CVal<'a> {
    type Obj = CObj<'a>;
    fn kind(self) -> Kind<'a, CObj<'a>> {
        match CVal::kind(self) {
            CKind::Null => Kind::Null,
            CKind::Bool(b) => Kind::Bool(b),
            CKind::Number(n) => Kind::Number(n),
            CKind::String(s) => Kind::String(s),
            CKind::Array(_) => Kind::Array,
            CKind::Object(o) => Kind::Object(o),
        }
    }
    fn items(self) -> impl Iterator<Item = Self> + 'a {
        match CVal::kind(self) {
            CKind::Array(a) => Some(a.iter()),
            _ => None,
        }
        .into_iter()
        .flatten()
    }
    fn is_null(self) -> bool {
        CVal::is_null(self)
    }
    fn as_str(self) -> Option<&'a str> {
        CVal::as_str(self)
    }
}

impl<'a> JsonObj<'a> for CObj<'a> {
    type Val = CVal<'a>;
    fn get(self, key: &str) -> Option<CVal<'a>> {
        CObj::get(self, key)
    }
    fn values(self) -> impl Iterator<Item = CVal<'a>> + 'a {
        CObj::values(self)
    }
}

// ------------------------------------------------------------------------------------------------
// Field lookup

/// Calls `pred` on every non-null scalar (or array element) of `field` in `doc` until it returns
/// true. See the module docs for how field names resolve.
pub fn any_value<'a, O: JsonObj<'a>>(
    doc: O,
    field: &str,
    pred: &mut dyn FnMut(O::Val) -> bool,
) -> bool {
    if let Some(v) = doc.get(field) {
        return any_element(v, pred);
    }
    if let Some((head, rest)) = field.split_once('.')
        && let Some(v) = doc.get(head)
    {
        return any_nested(v, rest, pred);
    }
    for (i, _) in field.match_indices('_') {
        if let Some(v) = doc.get(&field[..i])
            && matches!(v.kind(), Kind::Object(_) | Kind::Array)
        {
            return any_nested(v, &field[i + 1..], pred);
        }
    }
    false
}

fn any_nested<'a, V: JsonVal<'a>>(v: V, rest: &str, pred: &mut dyn FnMut(V) -> bool) -> bool {
    match v.kind() {
        Kind::Object(m) => any_value(m, rest, pred),
        Kind::Array => v
            .items()
            .any(|item| matches!(item.kind(), Kind::Object(m) if any_value(m, rest, pred))),
        _ => false,
    }
}

fn any_element<'a, V: JsonVal<'a>>(v: V, pred: &mut dyn FnMut(V) -> bool) -> bool {
    match v.kind() {
        Kind::Null => false,
        Kind::Array => v.items().any(|x| !x.is_null() && pred(x)),
        _ => pred(v),
    }
}

/// The first non-null value of `field` (first element for arrays).
pub fn first_value<'a, O: JsonObj<'a>>(doc: O, field: &str) -> Option<O::Val> {
    let mut found = None;
    any_value(doc, field, &mut |v| {
        found = Some(v);
        true
    });
    found
}

/// The text CBC shows for a scalar in facets and ids: strings as is, numbers and booleans in
/// their JSON form.
pub fn scalar_text<'a>(v: impl JsonVal<'a>) -> Option<String> {
    match v.kind() {
        Kind::String(s) => Some(s.to_string()),
        Kind::Number(n) => Some(n.to_string()),
        Kind::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

// ------------------------------------------------------------------------------------------------
// Errors

/// Why a request's filters were rejected. The server maps `Syntax` to CBC's
/// `{"reason": "query_malformed_syntax"}` and `Invalid` to an `error_code` body.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterError {
    Syntax { message: String, offset: usize },
    Invalid(String),
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::Syntax { message, offset } => {
                write!(f, "{message} (at offset {offset})")
            }
            FilterError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for FilterError {}

fn invalid(msg: impl Into<String>) -> FilterError {
    FilterError::Invalid(msg.into())
}

// ------------------------------------------------------------------------------------------------
// Matchers

/// One glob token; escaped wildcard characters become literals.
#[derive(Debug, Clone, PartialEq)]
pub enum GlobTok {
    Lit(char),
    Star,
    One,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Open,
    Incl(String),
    Excl(String),
}

/// How one term compares against one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    /// Equality; `num` is the text parsed as a number, for numeric fields.
    Exact {
        text: String,
        num: Option<f64>,
    },
    Glob(Vec<GlobTok>),
    Range {
        lo: Bound,
        hi: Bound,
    },
    Exists,
}

impl Matcher {
    fn exact(text: String) -> Matcher {
        let num = text.trim().parse::<f64>().ok().filter(|n| n.is_finite());
        Matcher::Exact { text, num }
    }

    /// Does one field value match (field-scoped semantics)?
    fn matches<'a>(&self, v: impl JsonVal<'a>) -> bool {
        match self {
            Matcher::Exists => true,
            Matcher::Exact { text, num } => match v.kind() {
                Kind::String(s) => {
                    s.eq_ignore_ascii_case(text)
                        || basename(s).is_some_and(|b| b.eq_ignore_ascii_case(text))
                }
                Kind::Number(n) => matches!((num, n.as_f64()), (Some(a), Some(b)) if *a == b),
                Kind::Bool(b) => text.eq_ignore_ascii_case(if b { "true" } else { "false" }),
                _ => false,
            },
            Matcher::Glob(pat) => match v.kind() {
                Kind::String(s) => glob(pat, s) || basename(s).is_some_and(|b| glob(pat, b)),
                Kind::Number(_) | Kind::Bool(_) => scalar_text(v).is_some_and(|t| glob(pat, &t)),
                _ => false,
            },
            Matcher::Range { lo, hi } => in_range(v, lo, hi),
        }
    }

    /// Does one value match a bare (field-less) term?
    fn matches_bare<'a>(&self, v: impl JsonVal<'a>) -> bool {
        match (self, v.kind()) {
            (Matcher::Exact { text, .. }, Kind::String(s)) => contains_ignore_case(s, text),
            _ => self.matches(v),
        }
    }
}

fn basename(s: &str) -> Option<&str> {
    s.rfind(['\\', '/']).map(|i| &s[i + 1..])
}

fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Iterative glob match with backtracking to the last star: linear-ish, no recursion.
fn glob(pat: &[GlobTok], text: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < t.len() {
        match pat.get(p) {
            Some(GlobTok::Star) => {
                star = Some((p, i));
                p += 1;
            }
            Some(GlobTok::One) => {
                p += 1;
                i += 1;
            }
            Some(GlobTok::Lit(c)) if c.eq_ignore_ascii_case(&t[i]) => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|tok| *tok == GlobTok::Star)
}

/// A comparable view of a scalar, for ranges and sorting.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scalar<'a> {
    Bool(bool),
    Num(f64),
    Time(Timestamp),
    Str(&'a str),
}

impl<'a> Scalar<'a> {
    fn of(v: impl JsonVal<'a>) -> Option<Scalar<'a>> {
        match v.kind() {
            Kind::Bool(b) => Some(Scalar::Bool(b)),
            Kind::Number(n) => n.as_f64().map(Scalar::Num),
            Kind::String(s) => Some(match parse_time_like(s) {
                Some(t) => Scalar::Time(t),
                None => Scalar::Str(s),
            }),
            _ => None,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Scalar::Bool(_) => 0,
            Scalar::Num(_) => 1,
            Scalar::Time(_) => 2,
            Scalar::Str(_) => 3,
        }
    }

    fn cmp(&self, other: &Scalar<'_>) -> Ordering {
        match (self, other) {
            (Scalar::Bool(a), Scalar::Bool(b)) => a.cmp(b),
            (Scalar::Num(a), Scalar::Num(b)) => a.total_cmp(b),
            (Scalar::Time(a), Scalar::Time(b)) => a.cmp(b),
            (Scalar::Str(a), Scalar::Str(b)) => cmp_ignore_case(a, b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// Parses strings shaped like CBC timestamps only, so ordinary text is never mistaken for one
/// (and most strings are rejected after a couple of byte checks).
fn parse_time_like(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() >= 20 && b[4] == b'-' && b[10] == b'T' {
        s.parse().ok()
    } else {
        None
    }
}

/// Compares a document value with a range bound's text in the bound's own type.
fn cmp_to_bound<'a>(v: impl JsonVal<'a>, bound: &str) -> Option<Ordering> {
    if let Ok(n) = bound.parse::<f64>() {
        let x = match v.kind() {
            Kind::Number(x) => x.as_f64()?,
            Kind::String(s) => s.trim().parse::<f64>().ok()?,
            _ => return None,
        };
        return Some(x.total_cmp(&n));
    }
    if let Ok(t) = bound.parse::<Timestamp>() {
        let x: Timestamp = v.as_str()?.parse().ok()?;
        return Some(x.cmp(&t));
    }
    Some(cmp_ignore_case(&scalar_text(v)?, bound))
}

fn in_range<'a>(v: impl JsonVal<'a>, lo: &Bound, hi: &Bound) -> bool {
    let lo_ok = match lo {
        Bound::Open => true,
        Bound::Incl(b) => cmp_to_bound(v, b).is_some_and(|o| o != Ordering::Less),
        Bound::Excl(b) => cmp_to_bound(v, b) == Some(Ordering::Greater),
    };
    let hi_ok = match hi {
        Bound::Open => true,
        Bound::Incl(b) => cmp_to_bound(v, b).is_some_and(|o| o != Ordering::Greater),
        Bound::Excl(b) => cmp_to_bound(v, b) == Some(Ordering::Less),
    };
    lo_ok && hi_ok
}

// ------------------------------------------------------------------------------------------------
// Query expressions

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    All,
    Term {
        field: Option<String>,
        matcher: Matcher,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    pub fn matches<'a>(&self, doc: impl JsonObj<'a>) -> bool {
        match self {
            Expr::All => true,
            Expr::Term {
                field: Some(f),
                matcher,
            } => any_value(doc, f, &mut |v| matcher.matches(v)),
            Expr::Term {
                field: None,
                matcher,
            } => bare_match(doc, matcher),
            Expr::And(items) => items.iter().all(|e| e.matches(doc)),
            Expr::Or(items) => items.iter().any(|e| e.matches(doc)),
            Expr::Not(e) => !e.matches(doc),
        }
    }
}

fn bare_match<'a>(doc: impl JsonObj<'a>, m: &Matcher) -> bool {
    fn walk<'a>(v: impl JsonVal<'a>, m: &Matcher, depth: u8) -> bool {
        match v.kind() {
            Kind::Null => false,
            Kind::Array => v.items().any(|x| walk(x, m, depth)),
            Kind::Object(o) if depth > 0 => o.values().any(|x| walk(x, m, depth - 1)),
            Kind::Object(_) => false,
            _ => m.matches_bare(v),
        }
    }
    doc.values().any(|v| walk(v, m, 1))
}

/// Parses a query string. An empty (or all-blank) query matches everything.
pub fn parse_query(src: &str) -> Result<Expr, FilterError> {
    if src.len() > MAX_QUERY_LEN {
        return Err(FilterError::Syntax {
            message: format!("query longer than {MAX_QUERY_LEN} bytes"),
            offset: MAX_QUERY_LEN,
        });
    }
    let mut p = Parser {
        src,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.at_end() {
        return Ok(Expr::All);
    }
    let e = p.parse_or(None)?;
    p.skip_ws();
    if !p.at_end() {
        return Err(p.err("unexpected ')'"));
    }
    Ok(e)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

/// Characters a backslash may escape outside quotes (Lucene's special characters plus space).
const ESCAPABLE: &str = "+-&|!(){}[]^\"~*?:\\/ ";

impl Parser<'_> {
    fn err(&self, message: &str) -> FilterError {
        FilterError::Syntax {
            message: message.to_string(),
            offset: self.pos,
        }
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Is `kw` at the cursor, followed by a delimiter (so `ANDROID` is not `AND`)?
    fn at_keyword(&self, kw: &str) -> bool {
        let rest = self.rest();
        rest.starts_with(kw)
            && rest[kw.len()..]
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || c == '(' || c == ')' || c == '"')
    }

    fn eat_any(&mut self, kws: &[&str]) -> bool {
        for kw in kws {
            if self.at_keyword(kw) {
                self.pos += kw.len();
                return true;
            }
        }
        false
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(self.err("query nested too deeply"))
        } else {
            Ok(())
        }
    }

    fn parse_or(&mut self, field: Option<&str>) -> Result<Expr, FilterError> {
        let mut items = vec![self.parse_and(field)?];
        loop {
            self.skip_ws();
            if !self.eat_any(&["OR", "||"]) {
                break;
            }
            items.push(self.parse_and(field)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn parse_and(&mut self, field: Option<&str>) -> Result<Expr, FilterError> {
        let mut items = vec![self.parse_unary(field)?];
        loop {
            self.skip_ws();
            if self.at_end()
                || self.peek() == Some(')')
                || self.at_keyword("OR")
                || self.at_keyword("||")
            {
                break;
            }
            // An explicit AND is optional: adjacent clauses are AND-ed anyway.
            self.eat_any(&["AND", "&&"]);
            items.push(self.parse_unary(field)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn parse_unary(&mut self, field: Option<&str>) -> Result<Expr, FilterError> {
        self.enter()?;
        self.skip_ws();
        let negated = if self.eat_any(&["NOT"]) {
            true
        } else if matches!(self.peek(), Some('!' | '-'))
            && self.rest()[1..]
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace())
        {
            self.bump();
            true
        } else {
            if self.peek() == Some('+') {
                self.bump();
            }
            false
        };
        let e = if negated {
            Expr::Not(Box::new(self.parse_unary(field)?))
        } else {
            self.parse_primary(field)?
        };
        self.depth -= 1;
        Ok(e)
    }

    fn parse_primary(&mut self, field: Option<&str>) -> Result<Expr, FilterError> {
        self.skip_ws();
        match self.peek() {
            None => return Err(self.err("expected a term")),
            Some(')') => return Err(self.err("unexpected ')'")),
            Some('(') => {
                self.bump();
                let e = self.parse_or(field)?;
                self.skip_ws();
                if self.bump() != Some(')') {
                    return Err(self.err("missing ')'"));
                }
                return Ok(e);
            }
            _ => {}
        }
        if ["AND", "OR", "&&", "||"].iter().any(|k| self.at_keyword(k)) {
            return Err(self.err("operator without a left-hand term"));
        }
        if field.is_some() {
            return self.parse_value(field);
        }
        // A field name is a plain identifier followed by ':'; anything else is a bare term.
        let name_len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '*'))
            .unwrap_or(self.rest().len());
        if name_len > 0 && self.rest()[name_len..].starts_with(':') {
            let name = self.rest()[..name_len].to_string();
            self.pos += name_len + 1;
            if self.peek().is_none_or(char::is_whitespace) {
                return Err(self.err("missing value after ':'"));
            }
            if name == "*" {
                let e = self.parse_value(Some("*"))?;
                return match e {
                    Expr::Term {
                        matcher: Matcher::Exists,
                        ..
                    } => Ok(Expr::All),
                    _ => Err(self.err("'*' as a field name needs the value '*'")),
                };
            }
            return if self.peek() == Some('(') {
                self.bump();
                let e = self.parse_or(Some(&name))?;
                self.skip_ws();
                if self.bump() != Some(')') {
                    return Err(self.err("missing ')'"));
                }
                Ok(e)
            } else {
                self.parse_value(Some(&name))
            };
        }
        self.parse_value(None)
    }

    /// One value (quoted, range, or word) for `field` (`None` = bare term).
    fn parse_value(&mut self, field: Option<&str>) -> Result<Expr, FilterError> {
        let term = |matcher| Expr::Term {
            field: field.map(str::to_string),
            matcher,
        };
        match self.peek() {
            Some('"') => {
                let text = self.quoted()?;
                Ok(term(Matcher::exact(text)))
            }
            Some(open @ ('[' | '{')) => {
                if field.is_none() {
                    return Err(self.err("a range needs a field"));
                }
                self.bump();
                let lo = self.range_bound(open == '[')?;
                self.skip_ws();
                if !self.eat_any(&["TO"]) {
                    return Err(self.err("expected TO in range"));
                }
                let hi_text = {
                    self.skip_ws();
                    self.range_word()?
                };
                let close = self.bump();
                let hi = match (close, hi_text) {
                    (Some(']' | '}'), None) => Bound::Open,
                    (Some(']'), Some(t)) => Bound::Incl(t),
                    (Some('}'), Some(t)) => Bound::Excl(t),
                    _ => return Err(self.err("missing ']' or '}' to close the range")),
                };
                Ok(term(Matcher::Range { lo, hi }))
            }
            _ => {
                let start = self.pos;
                let (text, glob) = self.word();
                if self.pos == start {
                    return Err(self.err("expected a value"));
                }
                Ok(match glob {
                    Some(toks) if toks.iter().all(|t| *t == GlobTok::Star) => {
                        if field.is_some() {
                            term(Matcher::Exists)
                        } else {
                            Expr::All
                        }
                    }
                    Some(toks) => term(Matcher::Glob(toks)),
                    None => term(Matcher::exact(text)),
                })
            }
        }
    }

    fn range_bound(&mut self, inclusive: bool) -> Result<Bound, FilterError> {
        self.skip_ws();
        Ok(match self.range_word()? {
            None => Bound::Open,
            Some(t) if inclusive => Bound::Incl(t),
            Some(t) => Bound::Excl(t),
        })
    }

    /// A range end: a quoted string or a word up to blank or a closing bracket; `*` = open.
    fn range_word(&mut self) -> Result<Option<String>, FilterError> {
        if self.peek() == Some('"') {
            return self.quoted().map(Some);
        }
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ']' || c == '}' {
                break;
            }
            self.bump();
        }
        let w = &self.src[start..self.pos];
        match w {
            "" => Err(self.err("missing range bound")),
            "*" => Ok(None),
            _ => Ok(Some(w.to_string())),
        }
    }

    fn quoted(&mut self) -> Result<String, FilterError> {
        let open = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    self.pos = open;
                    return Err(self.err("unterminated quoted string"));
                }
                Some('"') => return Ok(out),
                Some('\\') if matches!(self.peek(), Some('"' | '\\')) => {
                    out.extend(self.bump());
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// An unquoted word up to blank or parenthesis. Returns the unescaped text and, when it holds
    /// unescaped wildcards, its glob tokens.
    fn word(&mut self) -> (String, Option<Vec<GlobTok>>) {
        let mut text = String::new();
        let mut toks = Vec::new();
        let mut wild = false;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == '(' || c == ')' {
                break;
            }
            self.bump();
            match c {
                '\\' => match self.peek() {
                    Some(n) if ESCAPABLE.contains(n) => {
                        self.bump();
                        text.push(n);
                        toks.push(GlobTok::Lit(n));
                    }
                    _ => {
                        text.push('\\');
                        toks.push(GlobTok::Lit('\\'));
                    }
                },
                '*' => {
                    wild = true;
                    text.push(c);
                    toks.push(GlobTok::Star);
                }
                '?' => {
                    wild = true;
                    text.push(c);
                    toks.push(GlobTok::One);
                }
                _ => {
                    text.push(c);
                    toks.push(GlobTok::Lit(c));
                }
            }
        }
        (text, wild.then_some(toks))
    }
}

// ------------------------------------------------------------------------------------------------
// Time windows

/// A closed time window; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

impl Window {
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }

    /// Parses `{"range": "-30d"}` or `{"start": iso, "end": iso}` (either end optional). A
    /// relative range is open at the end, so documents stamped a moment after `now` still match.
    pub fn parse(v: &Map<String, Value>, now: Timestamp) -> Result<Window, FilterError> {
        if let Some(r) = v.get("range").filter(|r| !r.is_null()) {
            let r = r
                .as_str()
                .ok_or_else(|| invalid("time range 'range' must be a string"))?;
            let d = parse_relative(r)?;
            return Ok(Window {
                start: Some(now.saturating_sub(d).unwrap_or(Timestamp::MIN)),
                end: None,
            });
        }
        let ts = |key: &str| -> Result<Option<Timestamp>, FilterError> {
            match v.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => s.parse::<Timestamp>().map(Some).map_err(|_| {
                    invalid(format!(
                        "time range '{key}' is not an ISO-8601 timestamp: {s}"
                    ))
                }),
                Some(_) => Err(invalid(format!("time range '{key}' must be a string"))),
            }
        };
        let (start, end) = (ts("start")?, ts("end")?);
        if start.is_none() && end.is_none() {
            return Err(invalid("time range needs 'range' or 'start'/'end'"));
        }
        Ok(Window { start, end })
    }
}

/// `-30d`, `-2h`, `-1w`, `-15m`, `-10s`, `-3M` (30-day months), `-1y` (365 days).
pub fn parse_relative(r: &str) -> Result<SignedDuration, FilterError> {
    let bad = || {
        invalid(format!(
            "invalid relative time range '{r}' (expected e.g. -30d)"
        ))
    };
    let body = r.trim().strip_prefix('-').unwrap_or(r.trim());
    let unit = body.chars().last().ok_or_else(bad)?;
    let n: i64 = body[..body.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| bad())?;
    let secs: i64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        'M' => 30 * 86_400,
        'y' => 365 * 86_400,
        _ => return Err(bad()),
    };
    if n < 0 {
        return Err(bad());
    }
    Ok(SignedDuration::from_secs(n.saturating_mul(secs)))
}

// ------------------------------------------------------------------------------------------------
// Criteria and filters

#[derive(Debug, Clone)]
enum Cond {
    /// The field matches any of the values (OR within a field).
    AnyOf {
        field: String,
        matchers: Vec<Matcher>,
        set: Option<ExactSet>,
    },
    MinSeverity(f64),
    Time {
        field: String,
        window: Window,
    },
}

impl Cond {
    fn matches<'a>(&self, doc: impl JsonObj<'a>) -> bool {
        match self {
            Cond::AnyOf {
                field,
                set: Some(set),
                ..
            } => any_value(doc, field, &mut |v| set.contains(v)),
            Cond::AnyOf {
                field,
                matchers,
                set: None,
            } => any_value(doc, field, &mut |v| matchers.iter().any(|m| m.matches(v))),
            Cond::MinSeverity(min) => first_value(doc, "severity")
                .and_then(JsonVal::as_f64)
                .is_some_and(|s| s >= *min),
            Cond::Time { field, window } => any_value(doc, field, &mut |v| {
                v.as_str()
                    .and_then(|s| s.parse::<Timestamp>().ok())
                    .is_some_and(|t| window.contains(t))
            }),
        }
    }
}

/// Many exact values of one criteria field, hashed. Matches exactly what the `Matcher::Exact`s
/// it replaces match: ASCII case-insensitive text (whole value or last path component), equal
/// numbers, `true`/`false`.
#[derive(Debug, Clone)]
struct ExactSet {
    texts: HashSet<String>,
    nums: HashSet<u64>,
}

impl ExactSet {
    fn build(matchers: &[Matcher]) -> Option<ExactSet> {
        if matchers.len() < SET_THRESHOLD {
            return None;
        }
        let mut set = ExactSet {
            texts: HashSet::new(),
            nums: HashSet::new(),
        };
        for m in matchers {
            let Matcher::Exact { text, num } = m else {
                return None;
            };
            set.texts.insert(text.to_ascii_lowercase());
            set.nums.extend(num.map(num_key));
        }
        Some(set)
    }

    fn contains<'a>(&self, v: impl JsonVal<'a>) -> bool {
        match v.kind() {
            Kind::String(s) => {
                self.texts.contains(&s.to_ascii_lowercase())
                    || basename(s).is_some_and(|b| self.texts.contains(&b.to_ascii_lowercase()))
            }
            Kind::Number(n) => n.as_f64().is_some_and(|n| self.nums.contains(&num_key(n))),
            Kind::Bool(b) => self.texts.contains(if b { "true" } else { "false" }),
            _ => false,
        }
    }
}

/// Hash key of a number: equal floats, equal keys (`-0.0` is `0.0`).
fn num_key(n: f64) -> u64 {
    if n == 0.0 { 0 } else { n.to_bits() }
}

fn parse_conds(v: Option<&Value>, what: &str, now: Timestamp) -> Result<Vec<Cond>, FilterError> {
    let map = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(invalid(format!("'{what}' must be an object"))),
    };
    let mut conds = Vec::with_capacity(map.len());
    for (field, value) in map {
        let scalar = |x: &Value| -> Result<Option<Matcher>, FilterError> {
            match x {
                Value::Null => Ok(None),
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                    Ok(scalar_text(x).map(Matcher::exact))
                }
                _ => Err(invalid(format!(
                    "{what}.{field}: values must be strings, numbers or booleans"
                ))),
            }
        };
        if field == "minimum_severity" {
            let min = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| invalid(format!("{what}.minimum_severity must be a number")))?;
            conds.push(Cond::MinSeverity(min));
            continue;
        }
        let matchers = match value {
            Value::Null => continue,
            Value::Object(o) => {
                conds.push(Cond::Time {
                    field: field.clone(),
                    window: Window::parse(o, now)?,
                });
                continue;
            }
            Value::Array(items) => {
                let mut ms = Vec::with_capacity(items.len());
                for x in items {
                    ms.extend(scalar(x)?);
                }
                ms
            }
            other => scalar(other)?.into_iter().collect(),
        };
        // An empty value list constrains nothing, like CBC's console sending `[]`.
        if !matchers.is_empty() {
            let set = ExactSet::build(&matchers);
            conds.push(Cond::AnyOf {
                field: field.clone(),
                matchers,
                set,
            });
        }
    }
    Ok(conds)
}

/// The filters of a search body: `criteria` (AND across fields, OR within), `exclusions`
/// (a document matching any excluded field value is dropped), `query`, and `time_range`.
#[derive(Debug, Clone)]
pub struct Filter {
    criteria: Vec<Cond>,
    exclusions: Vec<Cond>,
    query: Option<Expr>,
    /// The body's top-level `time_range`. Not applied by [`Filter::matches`]: each caller applies
    /// it to its own time field (alerts: `backend_timestamp`, through a sorted index).
    pub time_range: Option<Window>,
}

impl Filter {
    /// A filter that matches everything.
    pub fn all() -> Filter {
        Filter {
            criteria: Vec::new(),
            exclusions: Vec::new(),
            query: None,
            time_range: None,
        }
    }

    pub fn from_body(body: &Map<String, Value>, now: Timestamp) -> Result<Filter, FilterError> {
        let query = match body.get("query") {
            None | Some(Value::Null) => None,
            Some(Value::String(q)) => match parse_query(q)? {
                Expr::All => None,
                e => Some(e),
            },
            Some(_) => return Err(invalid("'query' must be a string")),
        };
        let time_range = match body.get("time_range") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(Window::parse(o, now)?),
            Some(_) => return Err(invalid("'time_range' must be an object")),
        };
        Ok(Filter {
            criteria: parse_conds(body.get("criteria"), "criteria", now)?,
            exclusions: parse_conds(body.get("exclusions"), "exclusions", now)?,
            query,
            time_range,
        })
    }

    /// True when the filter selects something narrower than "everything" (ignoring
    /// `time_range`): bulk changes insist on it.
    pub fn is_selective(&self) -> bool {
        !self.criteria.is_empty() || self.query.is_some()
    }

    /// The window of the first `criteria` time condition on exactly `field`, if any: every
    /// match has a value of `field` inside it (stores use it to pick candidates from an index).
    pub fn time_window(&self, field: &str) -> Option<Window> {
        self.criteria.iter().find_map(|c| match c {
            Cond::Time { field: f, window } if f == field => Some(*window),
            _ => None,
        })
    }

    /// True when [`Filter::matches`] accepts every document (`time_range` aside).
    pub fn matches_everything(&self) -> bool {
        self.criteria.is_empty() && self.exclusions.is_empty() && self.query.is_none()
    }

    pub fn matches<'a>(&self, doc: impl JsonObj<'a>) -> bool {
        self.criteria.iter().all(|c| c.matches(doc))
            && !self.exclusions.iter().any(|c| c.matches(doc))
            && self.query.as_ref().is_none_or(|q| q.matches(doc))
    }
}

// ------------------------------------------------------------------------------------------------
// Sorting

#[derive(Debug, Clone, PartialEq)]
pub struct SortSpec {
    pub field: String,
    pub descending: bool,
}

/// Parses `sort: [{"field": f, "order": "ASC"|"DESC"}]` (null or absent = no sort; order
/// defaults to ASC).
pub fn parse_sort(v: Option<&Value>) -> Result<Vec<SortSpec>, FilterError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("'sort' must be an array of {field, order}")),
    };
    items
        .iter()
        .map(|item| {
            let field = item
                .get("field")
                .and_then(Value::as_str)
                .filter(|f| !f.is_empty())
                .ok_or_else(|| invalid("every sort entry needs a 'field' string"))?;
            let descending = match item.get("order") {
                None | Some(Value::Null) => false,
                Some(Value::String(o)) if o.eq_ignore_ascii_case("asc") => false,
                Some(Value::String(o)) if o.eq_ignore_ascii_case("desc") => true,
                Some(_) => return Err(invalid("sort order must be ASC or DESC")),
            };
            Ok(SortSpec {
                field: field.to_string(),
                descending,
            })
        })
        .collect()
}

/// Parses the reputation-override style `sort_field` / `sort_order` pair.
pub fn parse_sort_pair(
    field: Option<&Value>,
    order: Option<&Value>,
    default: SortSpec,
) -> Result<SortSpec, FilterError> {
    let field = match field {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::String(f)) if !f.is_empty() => f.clone(),
        Some(_) => return Err(invalid("'sort_field' must be a string")),
    };
    let descending = match order {
        None | Some(Value::Null) => false,
        Some(Value::String(o)) if o.eq_ignore_ascii_case("asc") => false,
        Some(Value::String(o)) if o.eq_ignore_ascii_case("desc") => true,
        Some(_) => return Err(invalid("'sort_order' must be ASC or DESC")),
    };
    Ok(SortSpec { field, descending })
}

fn cmp_keys(a: Option<&Scalar<'_>>, b: Option<&Scalar<'_>>, descending: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) if descending => y.cmp(x),
        (Some(x), Some(y)) => x.cmp(y),
    }
}

/// Stable sort of `items` by `specs`. Keys are extracted once per item (not per comparison),
/// which matters for 100 000 alerts.
pub fn sort_by_specs<'a, T: Copy, O: JsonObj<'a>>(
    items: &mut [T],
    doc: impl Fn(T) -> O,
    specs: &[SortSpec],
) {
    if specs.is_empty() || items.len() < 2 {
        return;
    }
    let mut keyed: Vec<(Vec<Option<Scalar<'a>>>, T)> = items
        .iter()
        .map(|&t| {
            let d = doc(t);
            (
                specs
                    .iter()
                    .map(|s| first_value(d, &s.field).and_then(Scalar::of))
                    .collect(),
                t,
            )
        })
        .collect();
    keyed.sort_by(|(ka, _), (kb, _)| {
        for ((x, y), spec) in ka.iter().zip(kb).zip(specs) {
            let o = cmp_keys(x.as_ref(), y.as_ref(), spec.descending);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    for (slot, (_, t)) in items.iter_mut().zip(keyed) {
        *slot = t;
    }
}

// ------------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Doc {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test documents are objects"),
        }
    }

    fn alert() -> Doc {
        doc(json!({
            "id": "a1",
            "severity": 7,
            "device_name": "WIN-FIN-01",
            "device_id": 6023,
            "process_name": "c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe",
            "ttps": ["MITRE_T1059_001_POWERSHELL", "FILELESS"],
            "workflow": {"status": "OPEN", "closure_reason": "NO_REASON"},
            "watchlists": [{"id": "w1", "name": "ATT&CK"}],
            "netconn_port": 445,
            "mdr_alert": false,
            "reason": "Credential dumping detected",
            "backend_timestamp": "2024-05-01T10:00:00.000Z",
            "parent_cmdline": null
        }))
    }

    fn q(s: &str) -> bool {
        parse_query(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .matches(&alert())
    }

    #[test]
    fn field_terms() {
        assert!(q("device_name:win-fin-01"));
        assert!(q("process_name:powershell.exe"));
        assert!(q("process_name:POWERSHELL.EXE AND severity:7"));
        assert!(!q("process_name:cmd.exe"));
        assert!(q("netconn_port:445"));
        assert!(!q("netconn_port:4450"));
        assert!(q("mdr_alert:false"));
        assert!(q("ttps:FILELESS"));
        assert!(q("workflow_status:OPEN"));
        assert!(q("workflow.status:open"));
        assert!(q("watchlists_id:w1"));
        assert!(!q("workflow_status:CLOSED"));
    }

    #[test]
    fn operators_and_grouping() {
        assert!(q("device_name:nope OR severity:7"));
        assert!(!q("device_name:nope AND severity:7"));
        assert!(
            !q("device_name:nope severity:7"),
            "adjacent clauses are AND-ed"
        );
        assert!(q("NOT device_name:nope"));
        assert!(q("-device_name:nope"));
        assert!(!q("!severity:7"));
        assert!(q(
            "(device_name:nope OR ttps:FILELESS) AND severity:[5 TO 10]"
        ));
        assert!(q("device_name:(nope OR WIN-FIN-01)"));
        assert!(!q("severity:{7 TO 10]"));
        assert!(q("severity:[7 TO *]"));
        assert!(q(
            "backend_timestamp:[2024-05-01T00:00:00Z TO 2024-05-02T00:00:00Z]"
        ));
        assert!(!q("backend_timestamp:[2024-05-02T00:00:00Z TO *]"));
    }

    #[test]
    fn wildcards_quotes_bare_terms() {
        assert!(q("device_name:WIN-*"));
        assert!(q("device_name:win-fin-0?"));
        assert!(!q("device_name:win-hr-*"));
        assert!(q("process_name:power*.exe"));
        assert!(q("parent_cmdline:* OR device_name:*"));
        assert!(!q("parent_cmdline:*"), "null counts as absent");
        assert!(q("reason:\"credential dumping detected\""));
        assert!(q("dumping"));
        assert!(q("\"credential dumping\""));
        assert!(!q("kerberoast"));
        assert!(q("*"));
        assert!(q("*:*"));
        assert!(q(
            "process_name:c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe"
        ));
        assert!(q(
            "process_name:\"c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe\""
        ));
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "(a",
            "a)",
            "AND a",
            "a OR",
            "field:",
            "\"open",
            "severity:[1 TO",
            "severity:[1 5]",
            "NOT",
            "()",
            "x:(a",
            "[1 TO 2]",
        ] {
            assert!(
                matches!(parse_query(bad), Err(FilterError::Syntax { .. })),
                "{bad:?} should be a syntax error"
            );
        }
        let deep = "(".repeat(10_000) + "a" + &")".repeat(10_000);
        assert!(parse_query(&deep).is_err());
        let nots = "NOT ".repeat(10_000) + "a";
        assert!(parse_query(&nots).is_err());
        assert_eq!(parse_query("   ").ok(), Some(Expr::All));
    }

    #[test]
    fn criteria_and_exclusions() {
        let now: Timestamp = "2024-05-02T00:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let f = |body: Value| Filter::from_body(&doc(body), now).map(|f| f.matches(&alert()));
        assert_eq!(
            f(json!({"criteria": {"device_id": ["6023"], "severity": [7, 8]}})),
            Ok(true)
        );
        assert_eq!(
            f(json!({"criteria": {"device_id": [1], "severity": [7]}})),
            Ok(false)
        );
        assert_eq!(f(json!({"criteria": {"minimum_severity": 8}})), Ok(false));
        assert_eq!(
            f(json!({"criteria": {"workflow_status": ["OPEN", "IN_PROGRESS"]}})),
            Ok(true)
        );
        assert_eq!(
            f(json!({"criteria": {"backend_timestamp": {"range": "-1d"}}})),
            Ok(true)
        );
        assert_eq!(
            f(json!({"criteria": {"backend_timestamp": {"range": "-1h"}}})),
            Ok(false)
        );
        assert_eq!(
            f(
                json!({"criteria": {"backend_timestamp": {"start": "2024-05-01T09:00:00Z", "end": "2024-05-01T11:00:00Z"}}})
            ),
            Ok(true)
        );
        assert_eq!(f(json!({"exclusions": {"ttps": ["FILELESS"]}})), Ok(false));
        assert_eq!(
            f(json!({"exclusions": {"ttps": ["NOPE"], "severity": [1]}})),
            Ok(true)
        );
        assert_eq!(f(json!({"criteria": {"id": []}})), Ok(true));
        assert!(f(json!({"criteria": {"id": [{"x": 1}]}})).is_err());
        assert!(f(json!({"criteria": {"backend_timestamp": {"range": "yesterday"}}})).is_err());
        assert!(f(json!({"criteria": []})).is_err());
        assert!(matches!(
            f(json!({"query": "a AND"})),
            Err(FilterError::Syntax { .. })
        ));
        // Long value lists go through a hash set with the same semantics.
        let many: Vec<Value> = (0..50).map(|n| json!(format!("other-{n}"))).collect();
        let with = |extra: Value| {
            let mut v = many.clone();
            v.push(extra);
            v
        };
        assert_eq!(
            f(json!({"criteria": {"device_id": with(json!("6023"))}})),
            Ok(true)
        );
        assert_eq!(
            f(json!({"criteria": {"device_id": with(json!(6023.0))}})),
            Ok(true)
        );
        assert_eq!(
            f(json!({"criteria": {"process_name": with(json!("PowerShell.EXE"))}})),
            Ok(true)
        );
        assert_eq!(
            f(json!({"criteria": {"mdr_alert": with(json!(false))}})),
            Ok(true)
        );
        assert_eq!(
            f(json!({"criteria": {"device_name": with(json!("win-fin"))}})),
            Ok(false)
        );
        assert_eq!(
            f(json!({"criteria": {"device_name": many.clone()}})),
            Ok(false)
        );
        assert!(parse_query(&"a ".repeat(MAX_QUERY_LEN)).is_err());
    }

    #[test]
    fn sorting() {
        let docs: Vec<Doc> = [
            json!({"n": 2, "s": "b", "t": "2024-05-01T10:00:00.5Z"}),
            json!({"n": 10, "s": "A", "t": "2024-05-01T10:00:00Z"}),
            json!({"s": "c"}),
        ]
        .into_iter()
        .map(doc)
        .collect();
        let order = |field: &str, descending: bool| {
            let mut idx: Vec<usize> = (0..docs.len()).collect();
            sort_by_specs(
                &mut idx,
                |i| &docs[i],
                &[SortSpec {
                    field: field.into(),
                    descending,
                }],
            );
            idx
        };
        assert_eq!(order("n", false), vec![0, 1, 2]);
        assert_eq!(order("n", true), vec![1, 0, 2], "missing values stay last");
        assert_eq!(order("s", false), vec![1, 0, 2], "text order ignores case");
        assert_eq!(
            order("t", false),
            vec![1, 0, 2],
            "timestamps compare as times"
        );
    }

    proptest::proptest! {
        /// Hostile input never panics the parser or the matcher.
        #[test]
        fn any_query_parses_or_errs_without_panicking(q in "[ -~\\u{80}-\\u{2fff}]{0,80}") {
            if let Ok(e) = parse_query(&q) {
                let _ = e.matches(&alert());
            }
        }

        #[test]
        fn lucene_shaped_queries_never_panic(
            q in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("AND ".to_string()),
                    proptest::strategy::Just("OR ".to_string()),
                    proptest::strategy::Just("NOT ".to_string()),
                    proptest::strategy::Just("(".to_string()),
                    proptest::strategy::Just(")".to_string()),
                    proptest::strategy::Just("\"".to_string()),
                    proptest::strategy::Just("[1 TO *] ".to_string()),
                    proptest::strategy::Just("severity:".to_string()),
                    proptest::strategy::Just("*".to_string()),
                    proptest::strategy::Just("\\".to_string()),
                    "[a-z:?*-]{1,6} ",
                ],
                0..12,
            )
        ) {
            if let Ok(e) = parse_query(&q.concat()) {
                let _ = e.matches(&alert());
            }
        }
    }

    #[test]
    fn relative_ranges() {
        assert_eq!(parse_relative("-30d"), Ok(SignedDuration::from_hours(720)));
        assert_eq!(parse_relative("-2h"), Ok(SignedDuration::from_hours(2)));
        assert!(parse_relative("-d").is_err());
        assert!(parse_relative("").is_err());
        assert!(parse_relative("-5x").is_err());
    }
}
