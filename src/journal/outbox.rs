//! The outbox: one row per (report delivery, channel, recipient), written before the send and
//! updated after it, so a channel that was down is retried alone and nothing is lost when the
//! process dies mid-send. Plus the phone-call log that High alerts ask for.

use jiff::Timestamp;
use rusqlite::params;

use super::{Journal, JournalError, JournalHandle};

pub(super) const MIGRATION: &str = "CREATE TABLE outbox (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery    TEXT    NOT NULL,   -- one send of one report (all its channels)
        org_key     TEXT    NOT NULL,
        alert_id    TEXT    NOT NULL,
        kind        TEXT    NOT NULL,   -- first | second
        channel     TEXT    NOT NULL,   -- email | slack | teams
        target      TEXT    NOT NULL,   -- address, or the webhook's scheme and host
        idem_key    TEXT    NOT NULL UNIQUE,
        subject     TEXT    NOT NULL,
        body        TEXT    NOT NULL,
        status      TEXT    NOT NULL,   -- pending | sent | failed
        detail      TEXT    NOT NULL,
        created_ns  INTEGER NOT NULL,
        updated_ns  INTEGER NOT NULL
     );
     CREATE INDEX outbox_by_alert ON outbox(org_key, alert_id, kind, id);
     CREATE TABLE calls (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        org_key   TEXT    NOT NULL,
        alert_id  TEXT    NOT NULL,
        at_ns     INTEGER NOT NULL,
        analyst   TEXT    NOT NULL,
        person    TEXT    NOT NULL,
        outcome   TEXT    NOT NULL
     );
     CREATE INDEX calls_by_alert ON calls(org_key, alert_id, at_ns);";

/// One channel of one report delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub delivery: String,
    pub org_key: String,
    pub alert_id: String,
    pub kind: String,
    pub channel: String,
    pub target: String,
    /// Sent with the request (Message-ID / Idempotency-Key): a retry is the same message.
    pub idem_key: String,
    pub subject: String,
    pub body: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub detail: String,
    pub updated: Timestamp,
}

/// A logged phone call about an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub at: Timestamp,
    pub analyst: String,
    pub person: String,
    pub outcome: String,
}

/// What to queue: one channel and recipient of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub channel: String,
    pub target: String,
}

impl Journal {
    /// Queues every channel of a delivery as `pending` in one transaction; returns the rows.
    /// Idempotency keys are `<delivery>:<channel>:<n>`, stable across retries.
    #[allow(clippy::too_many_arguments)] // one row's columns, named at the call site
    pub fn queue_delivery(
        &self,
        delivery: &str,
        org_key: &str,
        alert_id: &str,
        kind: &str,
        subject: &str,
        body: &str,
        items: &[NewItem],
        at: Timestamp,
    ) -> Result<Vec<OutboxItem>, JournalError> {
        let at = super::to_ns(at)?;
        let tx = self.conn.unchecked_transaction().map_err(self.sql())?;
        for (n, it) in items.iter().enumerate() {
            tx.execute(
                "INSERT INTO outbox (delivery, org_key, alert_id, kind, channel, target, idem_key,
                                     subject, body, status, detail, created_ns, updated_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', '', ?10, ?10)",
                params![
                    delivery,
                    org_key,
                    alert_id,
                    kind,
                    it.channel,
                    it.target,
                    format!("{delivery}:{}:{n}", it.channel),
                    subject,
                    body,
                    at
                ],
            )
            .map_err(self.sql())?;
        }
        tx.commit().map_err(self.sql())?;
        self.delivery_items(delivery)
    }

    /// Records how one channel went (`sent` or `failed`).
    pub fn mark_item(
        &self,
        id: i64,
        sent: bool,
        detail: &str,
        at: Timestamp,
    ) -> Result<(), JournalError> {
        let at = super::to_ns(at)?;
        self.conn
            .execute(
                "UPDATE outbox SET status = ?2, detail = ?3, updated_ns = ?4 WHERE id = ?1",
                params![id, if sent { "sent" } else { "failed" }, detail, at],
            )
            .map(drop)
            .map_err(self.sql())
    }

    pub fn delivery_items(&self, delivery: &str) -> Result<Vec<OutboxItem>, JournalError> {
        self.items_where("delivery = ?1", params![delivery])
    }

    /// Every channel ever queued for an alert's report, oldest first.
    pub fn report_items(
        &self,
        org_key: &str,
        alert_id: &str,
        kind: &str,
    ) -> Result<Vec<OutboxItem>, JournalError> {
        self.items_where(
            "org_key = ?1 AND alert_id = ?2 AND kind = ?3",
            params![org_key, alert_id, kind],
        )
    }

    fn items_where(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<OutboxItem>, JournalError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT id, delivery, org_key, alert_id, kind, channel, target, idem_key, subject,
                        body, status, detail, updated_ns
                 FROM outbox WHERE {filter} ORDER BY id"
            ))
            .map_err(self.sql())?;
        let rows = stmt
            .query_map(args, |r| {
                Ok(OutboxItem {
                    id: r.get(0)?,
                    delivery: r.get(1)?,
                    org_key: r.get(2)?,
                    alert_id: r.get(3)?,
                    kind: r.get(4)?,
                    channel: r.get(5)?,
                    target: r.get(6)?,
                    idem_key: r.get(7)?,
                    subject: r.get(8)?,
                    body: r.get(9)?,
                    status: r.get(10)?,
                    detail: r.get(11)?,
                    updated: super::from_ns(r.get(12)?),
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())
    }

    pub fn log_call(&self, org_key: &str, alert_id: &str, call: &Call) -> Result<(), JournalError> {
        let at = super::to_ns(call.at)?;
        self.conn
            .execute(
                "INSERT INTO calls (org_key, alert_id, at_ns, analyst, person, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    org_key,
                    alert_id,
                    at,
                    call.analyst,
                    call.person,
                    call.outcome
                ],
            )
            .map(drop)
            .map_err(self.sql())
    }

    pub fn calls(&self, org_key: &str, alert_id: &str) -> Result<Vec<Call>, JournalError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT at_ns, analyst, person, outcome FROM calls
                 WHERE org_key = ?1 AND alert_id = ?2 ORDER BY at_ns, id",
            )
            .map_err(self.sql())?;
        let rows = stmt
            .query_map(params![org_key, alert_id], |r| {
                Ok(Call {
                    at: super::from_ns(r.get(0)?),
                    analyst: r.get(1)?,
                    person: r.get(2)?,
                    outcome: r.get(3)?,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())
    }
}

impl JournalHandle {
    /// Runs `f` with the journal on the blocking pool (for the outbox's multi-step work).
    pub async fn with<T, F>(&self, f: F) -> Result<T, JournalError>
    where
        T: Send + 'static,
        F: FnOnce(&Journal) -> Result<T, JournalError> + Send + 'static,
    {
        self.run(f).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_queues_each_channel_and_retries_keep_their_keys() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.db")).unwrap();
        let t: Timestamp = "2026-11-30T10:00:00Z".parse().unwrap();
        let items = j
            .queue_delivery(
                "d1",
                "ORG",
                "a1",
                "first",
                "【第一報】件名",
                "本文",
                &[
                    NewItem {
                        channel: "email".into(),
                        target: "a@example.jp".into(),
                    },
                    NewItem {
                        channel: "slack".into(),
                        target: "https://hooks.slack.com".into(),
                    },
                ],
                t,
            )
            .unwrap();
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|i| i.status == "pending"));
        assert_eq!(items[0].idem_key, "d1:email:0");
        j.mark_item(items[0].id, true, "250 queued", t).unwrap();
        j.mark_item(items[1].id, false, "HTTP 500", t).unwrap();
        let now = j.report_items("ORG", "a1", "first").unwrap();
        assert_eq!(
            now.iter().map(|i| i.status.as_str()).collect::<Vec<_>>(),
            ["sent", "failed"]
        );
        assert_eq!(
            now[1].idem_key, "d1:slack:1",
            "the retry sends the same key"
        );
        // The same key cannot be queued twice.
        assert!(
            j.queue_delivery(
                "d1",
                "ORG",
                "a1",
                "first",
                "s",
                "b",
                &[NewItem {
                    channel: "email".into(),
                    target: "x".into()
                }],
                t
            )
            .is_err()
        );
        j.log_call(
            "ORG",
            "a1",
            &Call {
                at: t,
                analyst: "yamada".into(),
                person: "Sato (CISO)".into(),
                outcome: "reached; approves isolation".into(),
            },
        )
        .unwrap();
        assert_eq!(j.calls("ORG", "a1").unwrap()[0].person, "Sato (CISO)");
    }
}
