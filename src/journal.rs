//! The journal: an SQLite file in the data directory that records every world-changing action
//! (PRODUCT.md §5, issue 4 §8). This is the only module that touches the database.
//!
//! # The protocol
//!
//! 1. [`Journal::record_intent`] **before** the request leaves the process. It returns only once
//!    the row is committed (WAL, `synchronous=FULL`), so a crash, a `kill -9` or a power cut
//!    after it cannot lose the fact that the request may have been sent.
//! 2. [`Journal::record_outcome`] when the answer is known: `succeeded`, `failed`, or `unclear`
//!    (timeout, connection reset: the request may or may not have taken effect).
//! 3. On start, [`Journal::unresolved`] lists intents with no outcome or an `unclear` one; the
//!    console reads CBC to find out what happened and records `reconciled` (it did take effect)
//!    or `abandoned` (it did not, or the analyst gave up), or `succeeded`/`failed`.
//!
//! Outcomes are never overwritten: they are rows of their own table, so the history of an
//! action (`unclear` at 10:02, then `reconciled` at 10:15) is kept. An action takes one outcome,
//! plus one more only when the latest is `unclear` and the new one is final (see
//! [`Journal::record_outcome`]). Whether an action *may* be taken (approval required, read-only
//! mode) is decided by the reducer, not here: the journal records what was attempted.
//!
//! # Storage
//!
//! * Times are stored as `INTEGER` Unix **nanoseconds** (UTC), so a [`Timestamp`] round-trips
//!   exactly and rows sort numerically; `datetime(at_ns / 1e9, 'unixepoch')` shows them in the
//!   `sqlite3` shell. Times outside 1677–2262 are refused ([`JournalError::TimeOutOfRange`]).
//! * Names of kinds and statuses are stored as their stable snake_case names
//!   ([`ActionKind::as_str`], [`OutcomeStatus::as_str`]).
//! * Strings are stored exactly as given (escape sequences, NUL, megabytes of text): display
//!   sanitising happens in `text.rs`, never here.
//! * The schema version is `PRAGMA user_version`; [`SCHEMA_VERSION`] migrations are applied in
//!   order inside one `BEGIN IMMEDIATE` transaction, so two processes opening a new file at once
//!   migrate it once. A file from a newer socdeck is refused rather than written to.
//! * Two socdeck processes (or two [`Journal`]s) may share the file: writes serialise on
//!   SQLite's lock, waiting up to [`BUSY_TIMEOUT`].
//!
//! # Files and permissions
//!
//! [`Journal::open`] creates missing parent directories with mode 0700 and a missing file with
//! mode 0600 (SQLite gives its `-wal` and `-shm` files the mode of the database). Existing
//! directories and files keep their mode: a data directory chosen by the user is theirs.

use std::fmt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior};

/// The file name of the journal inside the data directory.
pub const FILE_NAME: &str = "journal.db";

mod drafts;
mod outbox;
pub use drafts::Draft;
pub use outbox::{Call, NewItem, OutboxItem};

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long a write waits for another process holding the database lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Migration `i` takes the schema from version `i` to `i + 1`. Append, never edit: a file at
/// version `n` has had exactly the first `n` applied. (The next issue adds report drafts and the
/// outbox as migration 2.)
const MIGRATIONS: &[&str] = &[
    // v1: actions (intents) and their outcomes.
    "CREATE TABLE actions (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ns            INTEGER NOT NULL,
        analyst          TEXT    NOT NULL,
        org_key          TEXT    NOT NULL,
        kind             TEXT    NOT NULL,
        alert_id         TEXT,
        device_id        INTEGER,
        target           TEXT    NOT NULL,
        params           TEXT    NOT NULL,
        approver         TEXT,
        approval_channel TEXT,
        approval_at_ns   INTEGER,
        CHECK ((approver IS NULL) = (approval_channel IS NULL)
           AND (approver IS NULL) = (approval_at_ns IS NULL))
     );
     CREATE INDEX actions_by_time ON actions(at_ns, id);
     CREATE TABLE outcomes (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        action_id INTEGER NOT NULL REFERENCES actions(id),
        at_ns     INTEGER NOT NULL,
        status    TEXT    NOT NULL,
        detail    TEXT    NOT NULL
     );
     CREATE INDEX outcomes_by_action ON outcomes(action_id, id);",
    // v2: report drafts (see `drafts.rs`).
    drafts::MIGRATION,
    // v3: the report outbox and the phone-call log (see `outbox.rs`).
    outbox::MIGRATION,
];

/// The id of an action (its intent row).
pub type ActionId = i64;

/// What an action does. The names ([`ActionKind::as_str`]) are stored in the journal and must
/// never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// Set the triage level (workflow change + structured note).
    Triage,
    /// Take ownership of an alert.
    Take,
    /// Network-isolate a device.
    QuarantineOn,
    /// Release a device from isolation.
    QuarantineOff,
    /// Reputation override `BLACK_LIST` for a SHA-256.
    Ban,
    /// Reputation override `WHITE_LIST` for a SHA-256.
    Allow,
    /// A note on an alert.
    Note,
}

impl ActionKind {
    pub const ALL: [ActionKind; 7] = [
        ActionKind::Triage,
        ActionKind::Take,
        ActionKind::QuarantineOn,
        ActionKind::QuarantineOff,
        ActionKind::Ban,
        ActionKind::Allow,
        ActionKind::Note,
    ];

    /// The stable snake_case name (`quarantine_on`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Triage => "triage",
            ActionKind::Take => "take",
            ActionKind::QuarantineOn => "quarantine_on",
            ActionKind::QuarantineOff => "quarantine_off",
            ActionKind::Ban => "ban",
            ActionKind::Allow => "allow",
            ActionKind::Note => "note",
        }
    }
}

impl FromStr for ActionKind {
    type Err = UnknownName;

    /// The inverse of [`ActionKind::as_str`] (exact, lower case).
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        ActionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "action kind",
                name: s.to_owned(),
            })
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an action ended. The names ([`OutcomeStatus::as_str`]) are stored and must never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeStatus {
    /// CBC accepted the request.
    Succeeded,
    /// CBC refused it, or it certainly did not leave.
    Failed,
    /// Unknown whether it took effect (timeout, connection lost after sending).
    Unclear,
    /// Established afterwards by reading CBC: the action did take effect.
    Reconciled,
    /// Established afterwards that it did not take effect, or the analyst gave it up.
    Abandoned,
}

impl OutcomeStatus {
    pub const ALL: [OutcomeStatus; 5] = [
        OutcomeStatus::Succeeded,
        OutcomeStatus::Failed,
        OutcomeStatus::Unclear,
        OutcomeStatus::Reconciled,
        OutcomeStatus::Abandoned,
    ];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Succeeded => "succeeded",
            OutcomeStatus::Failed => "failed",
            OutcomeStatus::Unclear => "unclear",
            OutcomeStatus::Reconciled => "reconciled",
            OutcomeStatus::Abandoned => "abandoned",
        }
    }

    /// Every status but `Unclear` ends the action.
    pub fn is_final(self) -> bool {
        self != OutcomeStatus::Unclear
    }
}

impl FromStr for OutcomeStatus {
    type Err = UnknownName;

    /// The inverse of [`OutcomeStatus::as_str`] (exact, lower case).
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        OutcomeStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "outcome status",
                name: s.to_owned(),
            })
    }
}

impl fmt::Display for OutcomeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an [`ActionKind`] or [`OutcomeStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

/// The customer's approval of an action, as the analyst recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Who approved (customer contact).
    pub approver: String,
    /// How (phone, email, ...), free text.
    pub channel: String,
    /// When the customer approved.
    pub at: Timestamp,
}

/// What an analyst is about to do, recorded before the request is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub at: Timestamp,
    pub analyst: String,
    pub org_key: String,
    pub kind: ActionKind,
    pub alert_id: Option<String>,
    pub device_id: Option<i64>,
    /// What is acted on, for humans: device name and id, SHA-256, alert id.
    pub target: String,
    /// Parameters, e.g. `level=High`, `toggle=ON`.
    pub params: String,
    pub approval: Option<Approval>,
}

/// How an action ended (or that it is unclear).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub at: Timestamp,
    pub status: OutcomeStatus,
    /// Error text, CBC job id, what reconciliation found...
    pub detail: String,
}

/// An intent and its latest outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRecord {
    pub id: ActionId,
    pub intent: Intent,
    /// The latest outcome; `None` while there is none.
    pub outcome: Option<Outcome>,
}

impl ActionRecord {
    /// No outcome yet, or the latest is `unclear`: the console must find out what happened.
    pub fn is_unresolved(&self) -> bool {
        self.outcome
            .as_ref()
            .is_none_or(|o| o.status == OutcomeStatus::Unclear)
    }
}

/// The connection settings actually in force (for diagnostics and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalSettings {
    /// `wal`.
    pub journal_mode: String,
    /// 2 = FULL.
    pub synchronous: i64,
    pub foreign_keys: bool,
    /// Milliseconds.
    pub busy_timeout_ms: i64,
    pub user_version: u32,
}

/// Why the journal could not be opened or used. Every variant about the file names its path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Creating the directory or file, or inspecting it, failed.
    #[error("journal {}: cannot {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// SQLite could not open or set up the file (corrupt, not a database, unreadable...).
    #[error("journal {}: cannot open: {source}{}", path.display(), open_hint(source))]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// SQLite could not switch the file to write-ahead logging (some network file systems).
    #[error(
        "journal {}: write-ahead logging is not available there (journal_mode stays {mode}); \
         put the data directory on a local file system",
        path.display()
    )]
    NoWal { path: PathBuf, mode: String },

    /// The file was written by a newer socdeck.
    #[error(
        "journal {}: schema version {found} is newer than this socdeck understands ({supported}); \
         use the newer socdeck, or move the file aside to start a new journal",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// A query failed on an open journal.
    #[error("journal {}: {source}", path.display())]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// A stored row holds something this version cannot read.
    #[error("journal {}: action {id}: {problem}", path.display())]
    BadRow {
        path: PathBuf,
        id: ActionId,
        problem: String,
    },

    /// [`Journal::record_outcome`] for an id with no intent.
    #[error("journal: no action with id {0}")]
    UnknownAction(ActionId),

    /// A second outcome where only `unclear` → final is allowed.
    #[error("journal: action {id} already has outcome {latest}; cannot record {new}")]
    OutcomeConflict {
        id: ActionId,
        latest: OutcomeStatus,
        new: OutcomeStatus,
    },

    /// A time outside what the journal stores (years 1677–2262).
    #[error("journal: time {0} is outside the range the journal stores (1677–2262)")]
    TimeOutOfRange(Timestamp),

    /// The blocking task running a [`JournalHandle`] call panicked or was cancelled.
    #[error("journal: background task failed: {0}")]
    Task(String),
}

fn open_hint(e: &rusqlite::Error) -> &'static str {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            " (the file is damaged or not a socdeck journal; move it aside and socdeck starts a new one)"
        }
        Some(rusqlite::ErrorCode::CannotOpen)
        | Some(rusqlite::ErrorCode::PermissionDenied)
        | Some(rusqlite::ErrorCode::ReadOnly) => {
            " (check that you own the file and its directory and can write to them)"
        }
        _ => "",
    }
}

/// An open journal: one SQLite connection. Not `Sync`; share it through [`JournalHandle`].
pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

const SELECT_RECORD: &str = "SELECT a.id, a.at_ns, a.analyst, a.org_key, a.kind, a.alert_id,
        a.device_id, a.target, a.params, a.approver, a.approval_channel, a.approval_at_ns,
        o.at_ns, o.status, o.detail
     FROM actions a
     LEFT JOIN outcomes o
       ON o.id = (SELECT max(id) FROM outcomes WHERE action_id = a.id)";

impl Journal {
    /// `$XDG_DATA_HOME/socdeck/journal.db`, else `~/.local/share/socdeck/journal.db`; `None`
    /// when there is no home directory.
    pub fn default_path() -> Option<PathBuf> {
        let env = crate::config::Env::from_process();
        crate::config::data_dir(&env)
            .ok()
            .map(|d| d.join(FILE_NAME))
    }

    /// Opens (creating if needed) the journal at `path`, sets WAL, `synchronous=FULL`, foreign
    /// keys and the busy timeout, and brings the schema up to [`SCHEMA_VERSION`].
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let io = |action, source| JournalError::Io {
            path: path.to_owned(),
            action,
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| io("create its directory", e))?;
        }
        // Create the file ourselves so it is 0600 from the first byte; an existing file is
        // opened as is.
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| io("open", e))?;

        let open_err = |source| JournalError::Open {
            path: path.to_owned(),
            source,
        };
        // NO_MUTEX: a Journal is used from one thread at a time (the type is not Sync).
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        let journal = Journal {
            conn,
            path: path.to_owned(),
        };
        journal.configure()?;
        migrate(&journal.conn, &journal.path, MIGRATIONS)?;
        Ok(journal)
    }

    /// Connection settings; the busy timeout comes first so that the WAL switch and the
    /// migration wait for another process instead of failing with "database is locked".
    fn configure(&self) -> Result<(), JournalError> {
        let open_err = |source| JournalError::Open {
            path: self.path.clone(),
            source,
        };
        self.conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Reading the schema first makes a garbage file fail here, with SQLITE_NOTADB.
        self.conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(open_err)?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JournalError::NoWal {
                path: self.path.clone(),
                mode,
            });
        }
        self.conn
            .execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(open_err)
    }

    /// The file this journal writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
        |source| JournalError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// The settings in force on this connection.
    pub fn settings(&self) -> Result<JournalSettings, JournalError> {
        let q = |p: &str| -> Result<rusqlite::types::Value, JournalError> {
            self.conn
                .query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
                .map_err(self.sql())
        };
        use rusqlite::types::Value::{Integer, Text};
        let int = |v| match v {
            Integer(i) => i,
            _ => -1,
        };
        Ok(JournalSettings {
            journal_mode: match q("journal_mode")? {
                Text(s) => s,
                _ => String::new(),
            },
            synchronous: int(q("synchronous")?),
            foreign_keys: int(q("foreign_keys")?) == 1,
            busy_timeout_ms: int(q("busy_timeout")?),
            user_version: int(q("user_version")?) as u32,
        })
    }

    /// Records an intent and returns its id once it is committed to disk. Call it before the
    /// request is sent.
    pub fn record_intent(&self, intent: &Intent) -> Result<ActionId, JournalError> {
        let approval = intent.approval.as_ref();
        let approval_at = approval.map(|a| to_ns(a.at)).transpose()?;
        self.conn
            .execute(
                "INSERT INTO actions (at_ns, analyst, org_key, kind, alert_id, device_id, target,
                     params, approver, approval_channel, approval_at_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                rusqlite::params![
                    to_ns(intent.at)?,
                    intent.analyst,
                    intent.org_key,
                    intent.kind.as_str(),
                    intent.alert_id,
                    intent.device_id,
                    intent.target,
                    intent.params,
                    approval.map(|a| &a.approver),
                    approval.map(|a| &a.channel),
                    approval_at,
                ],
            )
            .map_err(self.sql())?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how action `id` ended. The first outcome may have any status. A second one is
    /// accepted only when the latest is `unclear` and the new one is final (not `unclear`
    /// again: an attempt that still cannot tell records nothing); anything else is
    /// [`JournalError::OutcomeConflict`]. The check and the insert are one transaction, so two
    /// consoles reconciling the same action cannot both succeed.
    pub fn record_outcome(&self, id: ActionId, outcome: &Outcome) -> Result<(), JournalError> {
        let at = to_ns(outcome.at)?;
        let sql = self.sql();
        // IMMEDIATE takes the write lock up front: a deferred read-then-write transaction can
        // fail with SQLITE_BUSY in WAL mode without waiting for the busy timeout.
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(&sql)?;
        let exists = tx
            .query_row("SELECT 1 FROM actions WHERE id = ?1", [id], |_| Ok(()))
            .optional()
            .map_err(&sql)?;
        if exists.is_none() {
            return Err(JournalError::UnknownAction(id));
        }
        let latest: Option<String> = tx
            .query_row(
                "SELECT status FROM outcomes WHERE action_id = ?1 ORDER BY id DESC LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(&sql)?;
        if let Some(latest) = latest {
            let latest = latest
                .parse::<OutcomeStatus>()
                .map_err(|e| self.bad(id, e))?;
            if latest != OutcomeStatus::Unclear || !outcome.status.is_final() {
                return Err(JournalError::OutcomeConflict {
                    id,
                    latest,
                    new: outcome.status,
                });
            }
        }
        tx.execute(
            "INSERT INTO outcomes (action_id, at_ns, status, detail) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![id, at, outcome.status.as_str(), outcome.detail],
        )
        .map_err(&sql)?;
        tx.commit().map_err(&sql)
    }

    /// Actions with no outcome, or whose latest outcome is `unclear`, oldest first (the order
    /// they were attempted, which is the order to reconcile them in).
    pub fn unresolved(&self) -> Result<Vec<ActionRecord>, JournalError> {
        self.query(
            &format!(
                "{SELECT_RECORD} WHERE o.id IS NULL OR o.status = 'unclear' ORDER BY a.id ASC"
            ),
            rusqlite::params![],
        )
    }

    /// Up to `limit` actions whose intent time is at or after `since` (all when `None`), newest
    /// first (by intent time, then by id).
    pub fn audit(
        &self,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<ActionRecord>, JournalError> {
        let since = match since {
            Some(t) => to_ns(t)?,
            None => i64::MIN,
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(
            &format!(
                "{SELECT_RECORD} WHERE a.at_ns >= ?1 ORDER BY a.at_ns DESC, a.id DESC LIMIT ?2"
            ),
            rusqlite::params![since, limit],
        )
    }

    /// One action with its latest outcome.
    pub fn get(&self, id: ActionId) -> Result<Option<ActionRecord>, JournalError> {
        Ok(self
            .query(
                &format!("{SELECT_RECORD} WHERE a.id = ?1"),
                rusqlite::params![id],
            )?
            .pop())
    }

    /// Every outcome of action `id`, oldest first.
    pub fn outcomes(&self, id: ActionId) -> Result<Vec<Outcome>, JournalError> {
        let sql = self.sql();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at_ns, status, detail FROM outcomes WHERE action_id = ?1 ORDER BY id",
            )
            .map_err(&sql)?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })
            .map_err(&sql)?;
        let mut out = Vec::new();
        for row in rows {
            let (at, status, detail) = row.map_err(&sql)?;
            out.push(Outcome {
                at: from_ns(at),
                status: status.parse().map_err(|e| self.bad(id, e))?,
                detail,
            });
        }
        Ok(out)
    }

    fn bad(&self, id: ActionId, e: impl fmt::Display) -> JournalError {
        JournalError::BadRow {
            path: self.path.clone(),
            id,
            problem: e.to_string(),
        }
    }

    fn query(
        &self,
        sql_text: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ActionRecord>, JournalError> {
        let sql = self.sql();
        let mut stmt = self.conn.prepare_cached(sql_text).map_err(&sql)?;
        let rows = stmt.query_map(params, RawRecord::from_row).map_err(&sql)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(&sql)?.into_record(self)?);
        }
        Ok(out)
    }
}

/// A row as stored, before the names are parsed.
struct RawRecord {
    id: ActionId,
    at: i64,
    analyst: String,
    org_key: String,
    kind: String,
    alert_id: Option<String>,
    device_id: Option<i64>,
    target: String,
    params: String,
    approver: Option<String>,
    approval_channel: Option<String>,
    approval_at: Option<i64>,
    outcome_at: Option<i64>,
    outcome_status: Option<String>,
    outcome_detail: Option<String>,
}

impl RawRecord {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<RawRecord> {
        Ok(RawRecord {
            id: r.get(0)?,
            at: r.get(1)?,
            analyst: r.get(2)?,
            org_key: r.get(3)?,
            kind: r.get(4)?,
            alert_id: r.get(5)?,
            device_id: r.get(6)?,
            target: r.get(7)?,
            params: r.get(8)?,
            approver: r.get(9)?,
            approval_channel: r.get(10)?,
            approval_at: r.get(11)?,
            outcome_at: r.get(12)?,
            outcome_status: r.get(13)?,
            outcome_detail: r.get(14)?,
        })
    }

    fn into_record(self, j: &Journal) -> Result<ActionRecord, JournalError> {
        let id = self.id;
        let approval = match (self.approver, self.approval_channel, self.approval_at) {
            (Some(approver), Some(channel), Some(at)) => Some(Approval {
                approver,
                channel,
                at: from_ns(at),
            }),
            _ => None,
        };
        let outcome = match (self.outcome_at, self.outcome_status) {
            (Some(at), Some(status)) => Some(Outcome {
                at: from_ns(at),
                status: status.parse().map_err(|e| j.bad(id, e))?,
                detail: self.outcome_detail.unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(ActionRecord {
            id,
            intent: Intent {
                at: from_ns(self.at),
                analyst: self.analyst,
                org_key: self.org_key,
                kind: self.kind.parse().map_err(|e| j.bad(id, e))?,
                alert_id: self.alert_id,
                device_id: self.device_id,
                target: self.target,
                params: self.params,
                approval,
            },
            outcome,
        })
    }
}

fn to_ns(t: Timestamp) -> Result<i64, JournalError> {
    i64::try_from(t.as_nanosecond()).map_err(|_| JournalError::TimeOutOfRange(t))
}

fn from_ns(ns: i64) -> Timestamp {
    // Every i64 of nanoseconds is within Timestamp's range.
    Timestamp::from_nanosecond(i128::from(ns)).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Applies the migrations the file lacks, in one immediate transaction that re-reads the
/// version under the lock (another process may have migrated meanwhile).
fn migrate(conn: &Connection, path: &Path, migrations: &[&str]) -> Result<(), JournalError> {
    let open_err = |source| JournalError::Open {
        path: path.to_owned(),
        source,
    };
    let supported = migrations.len() as u32;
    let version = |c: &Connection| c.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0));
    let current = version(conn).map_err(open_err)?;
    if current == supported {
        return Ok(());
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(open_err)?;
    let current = version(&tx).map_err(open_err)?;
    if current > supported {
        return Err(JournalError::NewerSchema {
            path: path.to_owned(),
            found: current,
            supported,
        });
    }
    for step in &migrations[current as usize..] {
        tx.execute_batch(step).map_err(open_err)?;
    }
    // PRAGMA does not take parameters; the value is our own integer.
    tx.execute_batch(&format!("PRAGMA user_version = {supported}"))
        .map_err(open_err)?;
    tx.commit().map_err(open_err)
}

/// A cheap, clonable handle for async code: every call runs on tokio's blocking pool, so an
/// `fsync` never stalls the console's loop. Calls through clones of one handle are serialised
/// by a mutex; separate handles (or processes) on the same file are serialised by SQLite.
#[derive(Clone, Debug)]
pub struct JournalHandle {
    inner: Arc<Mutex<Journal>>,
}

impl JournalHandle {
    pub fn new(journal: Journal) -> JournalHandle {
        JournalHandle {
            inner: Arc::new(Mutex::new(journal)),
        }
    }

    /// Opens the journal at `path` on the blocking pool.
    pub async fn open(path: PathBuf) -> Result<JournalHandle, JournalError> {
        let journal = tokio::task::spawn_blocking(move || Journal::open(&path))
            .await
            .map_err(|e| JournalError::Task(e.to_string()))??;
        Ok(JournalHandle::new(journal))
    }

    /// Runs `f` with the journal on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, JournalError>
    where
        T: Send + 'static,
        F: FnOnce(&Journal) -> Result<T, JournalError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&lock(&inner)))
            .await
            .map_err(|e| JournalError::Task(e.to_string()))?
    }

    /// [`Journal::record_intent`].
    pub async fn intent(&self, intent: Intent) -> Result<ActionId, JournalError> {
        self.run(move |j| j.record_intent(&intent)).await
    }

    /// [`Journal::record_outcome`].
    pub async fn outcome(&self, id: ActionId, outcome: Outcome) -> Result<(), JournalError> {
        self.run(move |j| j.record_outcome(id, &outcome)).await
    }

    /// [`Journal::unresolved`].
    pub async fn unresolved(&self) -> Result<Vec<ActionRecord>, JournalError> {
        self.run(|j| j.unresolved()).await
    }

    /// [`Journal::audit`].
    pub async fn audit(
        &self,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<ActionRecord>, JournalError> {
        self.run(move |j| j.audit(since, limit)).await
    }

    /// The file path (no I/O).
    pub fn path(&self) -> PathBuf {
        lock(&self.inner).path.clone()
    }
}

/// A panic while holding the lock cannot leave the connection half-written (an open
/// transaction rolls back when dropped), so a poisoned mutex is still usable.
fn lock(m: &Mutex<Journal>) -> MutexGuard<'_, Journal> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_stable() {
        for k in ActionKind::ALL {
            assert_eq!(k.as_str().parse::<ActionKind>(), Ok(k));
        }
        for s in OutcomeStatus::ALL {
            assert_eq!(s.as_str().parse::<OutcomeStatus>(), Ok(s));
        }
        // Stored on disk: changing one breaks existing journals.
        let kinds: Vec<&str> = ActionKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "triage",
                "take",
                "quarantine_on",
                "quarantine_off",
                "ban",
                "allow",
                "note"
            ]
        );
        let statuses: Vec<&str> = OutcomeStatus::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            statuses,
            ["succeeded", "failed", "unclear", "reconciled", "abandoned"]
        );
        assert!("Triage".parse::<ActionKind>().is_err());
        assert!("".parse::<OutcomeStatus>().is_err());
    }

    #[test]
    fn times_round_trip_in_range_and_refuse_outside() {
        let t: Timestamp = "2026-03-01T10:20:30.123456789Z".parse().unwrap();
        assert_eq!(from_ns(to_ns(t).unwrap()), t);
        let far: Timestamp = "2300-01-01T00:00:00Z".parse().unwrap();
        assert!(matches!(to_ns(far), Err(JournalError::TimeOutOfRange(_))));
    }

    #[test]
    fn migrations_apply_in_order_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let conn = Connection::open(&path).unwrap();
        let steps = ["CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y INTEGER)"];
        migrate(&conn, &path, &steps[..1]).unwrap();
        let v: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
        // A later build adds step 2; step 1 must not run again (it would fail: table exists).
        migrate(&conn, &path, &steps).unwrap();
        let v: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 2);
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('a','b')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 2);
        // An older build meeting the v2 file refuses it.
        let err = migrate(&conn, &path, &steps[..1]).unwrap_err();
        assert!(
            matches!(
                err,
                JournalError::NewerSchema {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("m.db"), "{err}");
    }
}
