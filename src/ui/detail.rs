//! The alert detail screen: a header that always shows customer, device, policy, rule and the
//! running clock; pane tabs; and the Summary, Process tree, Lateral movement and Notes & history
//! panes. Every attacker-controlled string arrives here already sanitised (as a `Cell`) or goes
//! through `text::sanitize` on its way into a span.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::cell_spans;
use super::queue::sla_cell;
use crate::app::detail::{Detail, Evidence, Load, Pane, ProcTree};
use crate::app::pending::Tracked;
use crate::app::queue::Cell;
use crate::app::{App, ToastLevel};
use crate::config::theme::Slot;
use crate::text;

const HEADER_LINES: u16 = 4;

pub(super) fn draw(app: &App, d: &Detail, frame: &mut Frame, area: Rect) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(HEADER_LINES),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(app, d, frame, header);
    match d.pane {
        Pane::Summary => summary(app, d, frame, body),
        Pane::Tree => tree(app, d, frame, body),
        Pane::Lateral => lateral(app, d, frame, body),
        Pane::Notes => notes(app, d, frame, body),
    }
    draw_footer(app, frame, footer);
}

/// A time in the analyst's time zone, `none` when there is none.
fn local(app: &App, ts: Option<jiff::Timestamp>, fmt: &str, none: &str) -> String {
    ts.map_or_else(
        || none.to_string(),
        |x| {
            x.to_zoned_datetime(app.settings.display_tz.clone())
                .strftime(fmt)
                .to_string()
        },
    )
}

/// A value in a span: sanitised, capped.
fn safe(s: &str) -> String {
    text::sanitize_with_cap(s, 512).as_str().to_string()
}

fn draw_header(app: &App, d: &Detail, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let row = app.queue.get(&d.key);
    let alert = d.alert.ready();
    let org = app
        .orgs
        .get(d.key.org as usize)
        .map(|o| o.name.as_str())
        .unwrap_or("?");
    let device = alert
        .and_then(|a| a.device_name.as_deref())
        .map(safe)
        .or_else(|| row.map(|r| r.device.as_str().to_string()))
        .unwrap_or_else(|| "?".into());
    let policy = alert
        .and_then(|a| a.device_policy.as_deref())
        .map(safe)
        .or_else(|| row.map(|r| r.policy.as_str().to_string()))
        .unwrap_or_default();
    let mut first = vec![
        Span::styled(format!(" {} ", safe(org)), t.style(Slot::HeaderTitle)),
        Span::styled(format!(" {device} "), t.style(Slot::Header)),
        Span::styled(format!(" policy {policy} "), t.style(Slot::Muted)),
    ];
    if app.settings.read_only {
        first.push(Span::styled("[READ-ONLY]", t.style(Slot::BadgeReadOnly)));
    }
    // The clocks: the first report's, the second's, and an isolation in flight.
    let mut clocks = Vec::new();
    if let Some(r) = row {
        let (txt, slot) = sla_cell(app, r);
        clocks.push(Span::styled(format!(" 1st {} ", txt.trim()), t.style(slot)));
    }
    if let Some(text) = second_clock(app, d) {
        clocks.push(Span::styled(format!(" {text} "), t.style(Slot::Muted)));
    }
    let org_key = app
        .orgs
        .get(d.key.org as usize)
        .map(|o| o.org_key.as_str())
        .unwrap_or("");
    let rule = app.rules.lookup(
        org_key,
        alert
            .and_then(|a| a.device_policy.as_deref())
            .or_else(|| row.map(|r| r.policy.as_str())),
        alert.and_then(|a| a.device_policy_id),
    );
    if app.phone_pending.contains(&d.key) {
        clocks.push(Span::styled(
            " phone pending (L logs the call) ",
            t.style(Slot::BandWarning),
        ));
    }
    if let Some(x) = device_action(app, d) {
        clocks.push(Span::styled(
            format!(" {} {} ", x.spec.label(), x.state.label()),
            t.style(Slot::ToastWarning),
        ));
    }
    let second = vec![
        Span::styled(" Rule: ", t.style(Slot::PreviewLabel)),
        Span::styled(crate::app::rule_text(&rule), t.style(Slot::PreviewValue)),
    ];
    let mut tabs: Vec<Span> = Vec::new();
    for (i, p) in Pane::ALL.iter().enumerate() {
        let style = if *p == d.pane {
            t.style(Slot::RowSelected).add_modifier(Modifier::BOLD)
        } else {
            t.style(Slot::Muted)
        };
        tabs.push(Span::styled(format!(" {} {} ", i + 1, p.title()), style));
        tabs.push(Span::raw(" "));
    }
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(first),
            Line::from(clocks),
            Line::from(second),
            Line::from(tabs),
        ])
        .style(t.style(Slot::Header)),
        area,
    );
}

/// The second report's clock: sent, or due at the close of the next business day in the
/// customer's time zone, with the time left.
pub(super) fn second_clock(app: &App, d: &Detail) -> Option<String> {
    let row = app.queue.get(&d.key)?;
    if row.second_report_at().is_some() {
        return Some("2nd sent".into());
    }
    let org = app.orgs.get(d.key.org as usize)?;
    let received = row.received_at?;
    let due = org.calendar.second_report_due(received);
    let left = due.duration_since(app.now).as_secs();
    let zoned = due.to_zoned_datetime(org.calendar.tz.clone());
    let sign = if left < 0 { "-" } else { "" };
    let left = left.unsigned_abs();
    Some(format!(
        "2nd due {} ({sign}{}h{:02}m)",
        zoned.strftime("%a %H:%M"),
        left / 3600,
        (left % 3600) / 60
    ))
}

/// The newest action on this alert's device (quarantine state), if any.
fn device_action<'a>(app: &'a App, d: &Detail) -> Option<&'a Tracked> {
    let device_id = d
        .alert
        .ready()
        .and_then(|a| a.device_id)
        .or_else(|| app.queue.get(&d.key).and_then(|r| r.device_id))?;
    app.tracked
        .iter()
        .rev()
        .find(|x| x.device() == Some(device_id))
}

fn draw_footer(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    if let Some(toast) = app.toasts.back() {
        let slot = match toast.level {
            ToastLevel::Info => Slot::ToastInfo,
            ToastLevel::Warning => Slot::ToastWarning,
            ToastLevel::Error => Slot::ToastError,
        };
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(" {}", text::display_safe(&toast.text)),
                t.style(slot),
            )),
            area,
        );
        return;
    }
    let hint = if app.settings.read_only {
        Line::from(vec![
            Span::styled(" READ-ONLY ", t.style(Slot::BadgeReadOnly)),
            Span::styled(
                " actions disabled · Tab/1-4 panes · Esc back · ? help",
                t.style(Slot::Muted),
            ),
        ])
    } else {
        Line::styled(
            " Tab/1-4 panes · t level · a take · i quarantine · b ban · Esc back · ? help",
            t.style(Slot::Muted),
        )
    };
    frame.render_widget(Paragraph::new(hint), area);
}

fn loading<T>(app: &App, what: &str, l: &Load<T>) -> Option<Vec<Line<'static>>> {
    let t = &app.theme;
    match l {
        Load::Ready(_) => None,
        Load::Loading => Some(vec![Line::styled(
            format!(" loading {what}…"),
            t.style(Slot::Muted),
        )]),
        Load::Failed(e) => Some(vec![Line::styled(
            format!(" {what}: {}", text::display_safe(e)),
            t.style(Slot::ToastError),
        )]),
    }
}

fn kv(app: &App, k: &str, v: Vec<Span<'static>>) -> Line<'static> {
    let mut spans = vec![Span::styled(
        format!(" {k:<12} "),
        app.theme.style(Slot::PreviewLabel),
    )];
    spans.extend(v);
    Line::from(spans)
}

fn val(app: &App, s: &str) -> Vec<Span<'static>> {
    let cell = Cell::new(s, 2048);
    owned(cell_spans(
        &cell,
        app.theme.style(Slot::PreviewValue),
        app.theme.style(Slot::Escape),
    ))
}

fn owned(spans: Vec<Span<'_>>) -> Vec<Span<'static>> {
    spans
        .into_iter()
        .map(|s| Span::styled(s.content.into_owned(), s.style))
        .collect()
}

fn summary(app: &App, d: &Detail, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let lines = match (loading(app, "alert", &d.alert), d.alert.ready()) {
        (Some(l), _) => l,
        (None, Some(a)) => {
            let mut l = Vec::new();
            let when = |ts| local(app, ts, "%Y-%m-%d %H:%M:%S %Z", "");
            let row = app.queue.get(&d.key);
            let level = row
                .map(|r| {
                    let (lv, set) = r.level(&app.settings.levels);
                    format!("{lv}{}", if set { "" } else { " (suggested)" })
                })
                .unwrap_or_default();
            l.push(kv(
                app,
                "Alert",
                val(
                    app,
                    &format!(
                        "{} · {}",
                        a.id.as_deref().unwrap_or(""),
                        a.alert_type.as_deref().unwrap_or("")
                    ),
                ),
            ));
            l.push(kv(
                app,
                "Severity",
                val(
                    app,
                    &format!(
                        "{} · level {level}",
                        a.severity.map(|s| s.to_string()).unwrap_or("?".into())
                    ),
                ),
            ));
            l.push(kv(
                app,
                "Reason",
                val(app, a.reason.as_deref().unwrap_or("")),
            ));
            l.push(kv(app, "Received", val(app, &when(a.backend_timestamp))));
            let status = a
                .workflow
                .as_ref()
                .and_then(|w| w.status.as_deref())
                .unwrap_or("OPEN");
            let owner = row
                .and_then(|r| r.owner.as_ref())
                .map(|o| format!(" · owner {}", o.as_str()))
                .unwrap_or_default();
            l.push(kv(app, "Status", val(app, &format!("{status}{owner}"))));
            let q = match d.device.ready().and_then(|x| x.quarantined) {
                Some(true) => " · QUARANTINED",
                Some(false) => " · not quarantined",
                None => "",
            };
            l.push(kv(
                app,
                "Device",
                val(
                    app,
                    &format!(
                        "{} (id {}) · {} · {}{q}",
                        a.device_name.as_deref().unwrap_or("?"),
                        a.device_id.map(|i| i.to_string()).unwrap_or("?".into()),
                        a.device_os.as_deref().unwrap_or(""),
                        a.device_internal_ip.as_deref().unwrap_or("")
                    ),
                ),
            ));
            l.push(kv(
                app,
                "User",
                val(
                    app,
                    a.process_username
                        .as_deref()
                        .or(a.device_username.as_deref())
                        .unwrap_or(""),
                ),
            ));
            l.push(kv(
                app,
                "Process",
                val(app, a.process_name.as_deref().unwrap_or("")),
            ));
            l.push(kv(
                app,
                "Command",
                val(app, a.process_cmdline.as_deref().unwrap_or("")),
            ));
            l.push(kv(
                app,
                "SHA-256",
                val(app, a.process_sha256.as_deref().unwrap_or("")),
            ));
            l.push(kv(
                app,
                "Reputation",
                val(
                    app,
                    a.process_effective_reputation
                        .as_deref()
                        .or(a.process_reputation.as_deref())
                        .unwrap_or(""),
                ),
            ));
            l.push(kv(
                app,
                "Parent",
                val(
                    app,
                    &format!(
                        "{} {}",
                        a.parent_name.as_deref().unwrap_or(""),
                        a.parent_cmdline.as_deref().unwrap_or("")
                    ),
                ),
            ));
            l.push(kv(app, "TTPs", val(app, &a.ttps.join(", "))));
            l.push(kv(
                app,
                "Policy",
                val(
                    app,
                    &format!(
                        "{} · sensor action {}",
                        a.device_policy.as_deref().unwrap_or(""),
                        a.sensor_action.as_deref().unwrap_or("-")
                    ),
                ),
            ));
            if row.is_some_and(|r| r.flagged) {
                l.push(Line::styled(
                    " # this alert's text holds hidden or control characters (shown as escapes): itself a finding",
                    t.style(Slot::RowFlagged),
                ));
            }
            l
        }
        (None, None) => Vec::new(),
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((d.scroll, 0))
            .style(t.style(Slot::Base)),
        area,
    );
}

fn tree(app: &App, d: &Detail, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(tr): Option<&ProcTree> = d.tree.ready() else {
        let l = loading(app, "process tree", &d.tree).unwrap_or_default();
        frame.render_widget(Paragraph::new(l), area);
        return;
    };
    let full = d.full_cmdline && tr.node_at(d.tree_sel).is_some();
    let (list_area, full_area) = if full {
        let [a, b] = Layout::vertical([Constraint::Min(3), Constraint::Length(7)]).areas(area);
        (a, Some(b))
    } else {
        (area, None)
    };
    let h = list_area.height as usize;
    let start = d
        .tree_sel
        .saturating_sub(h.saturating_sub(1) / 2)
        .min(tr.lines.len().saturating_sub(h));
    let mut lines = Vec::new();
    for (i, (n, prefix)) in tr.lines.iter().enumerate().skip(start).take(h) {
        let node = &tr.nodes[*n];
        let selected = i == d.tree_sel;
        let base = if selected {
            t.style(Slot::RowSelected)
        } else if node.on_path {
            t.style(Slot::Row)
        } else {
            t.style(Slot::Muted)
        };
        let esc = t.style(Slot::Escape);
        let mut spans = vec![Span::styled(format!(" {prefix}"), base)];
        let fold = if node.children.is_empty() {
            "  "
        } else if tr.collapsed.contains(n) {
            "+ "
        } else {
            "- "
        };
        spans.push(Span::styled(fold, base));
        if node.is_alert {
            spans.push(Span::styled("▶ALERT ", t.style(Slot::BandBreached)));
        }
        spans.extend(cell_spans(
            &node.name,
            base.add_modifier(Modifier::BOLD),
            esc,
        ));
        spans.push(Span::styled(
            format!(
                "  {} ",
                node.pid.map(|p| format!("pid {p}")).unwrap_or_default()
            ),
            base,
        ));
        spans.extend(cell_spans(&node.user, base, esc));
        if let Some(sha) = &node.sha256 {
            spans.push(Span::styled(format!("  {}", &sha[..8]), base));
        }
        if !node.reputation.is_empty() {
            spans.push(Span::styled("  ", base));
            match short_reputation(node.reputation.as_str()) {
                Some((word, bad)) => spans.push(Span::styled(
                    word,
                    if bad {
                        t.style(Slot::BandBreached)
                    } else {
                        base
                    },
                )),
                None => spans.extend(cell_spans(&node.reputation, base, esc)),
            }
        }
        spans.push(Span::styled("  ", base));
        spans.extend(cell_spans(&node.cmdline, t.style(Slot::Muted), esc));
        lines.push(Line::from(spans));
    }
    if tr.cut > 0 {
        lines.push(Line::styled(
            format!(
                " … {} processes not shown (tree too deep or too large)",
                tr.cut
            ),
            t.style(Slot::ToastWarning),
        ));
    }
    frame.render_widget(Paragraph::new(lines).style(t.style(Slot::Base)), list_area);
    if let (Some(fa), Some(node)) = (full_area, tr.node_at(d.tree_sel)) {
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(t.style(Slot::Border))
            .title(Span::styled(
                " command line (f hides, y copies) ",
                t.style(Slot::PreviewLabel),
            ));
        frame.render_widget(
            Paragraph::new(Line::from(cell_spans(
                &node.cmdline,
                t.style(Slot::PreviewValue),
                t.style(Slot::Escape),
            )))
            .block(block)
            .wrap(Wrap { trim: false }),
            fa,
        );
    }
}

/// CBC reputations in a word (the tree has 80 columns to share); `true` for the bad ones.
fn short_reputation(r: &str) -> Option<(&'static str, bool)> {
    Some(match r {
        "KNOWN_MALWARE" => ("MALWARE", true),
        "SUSPECT_MALWARE" => ("SUSPECT", true),
        "COMPANY_BLACK_LIST" => ("BANNED", true),
        "PUP" => ("PUP", true),
        "NOT_LISTED" => ("unlisted", false),
        "ADAPTIVE_WHITE_LIST" => ("adaptive-ok", false),
        "COMMON_WHITE_LIST" => ("common-ok", false),
        "TRUSTED_WHITE_LIST" => ("trusted", false),
        "COMPANY_WHITE_LIST" => ("company-ok", false),
        "LOCAL_WHITE" => ("local-ok", false),
        "IGNORE" => ("ignored", false),
        _ => return None,
    })
}

fn lateral(app: &App, d: &Detail, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(lat) = d.lateral.ready() else {
        frame.render_widget(
            Paragraph::new(loading(app, "lateral movement", &d.lateral).unwrap_or_default()),
            area,
        );
        return;
    };
    let hhmm = |ts| local(app, ts, "%m-%d %H:%M", "?");
    let mut lines = vec![Line::styled(
        format!(
            " Other devices of this org linked to it, {} – {}",
            hhmm(lat.start),
            hhmm(lat.end)
        ),
        t.style(Slot::PreviewLabel),
    )];
    for e in &lat.errors {
        lines.push(Line::styled(
            format!(" ! {}", text::display_safe(e)),
            t.style(Slot::ToastError),
        ));
    }
    if lat.hits.is_empty() {
        lines.push(Line::styled(
            " No spread found: no other device ran the same SHA-256, saw the same user or connected on SMB/RDP/WinRM/RPC/SSH.",
            t.style(Slot::Muted),
        ));
    }
    let esc = t.style(Slot::Escape);
    for (i, h) in lat.hits.iter().enumerate() {
        let base = if i == d.lateral_sel {
            t.style(Slot::RowSelected)
        } else {
            t.style(Slot::Row)
        };
        let mut spans = vec![Span::styled(" ▸ ", base)];
        spans.extend(cell_spans(
            &h.device,
            base.add_modifier(Modifier::BOLD),
            esc,
        ));
        spans.push(Span::styled(
            format!("  first {}  ", hhmm(h.first_seen)),
            base,
        ));
        let mut ev: Vec<String> = Vec::new();
        for e in &h.evidence {
            let label = match e {
                Evidence::Network { outbound, .. } => {
                    format!("{}{}", if *outbound { "→ " } else { "← " }, e.label())
                }
                _ => e.label(),
            };
            // Several processes may have made the same kind of connection: say it once.
            if !ev.contains(&label) {
                ev.push(label);
            }
        }
        spans.push(Span::styled(text::display_safe(&ev.join(", ")), base));
        lines.push(Line::from(spans));
    }
    if !lat.edges.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(" Network graph", t.style(Slot::PreviewLabel)));
        for e in &lat.edges {
            let mut spans = vec![Span::raw("  ")];
            spans.extend(cell_spans(&e.from, t.style(Slot::Row), esc));
            spans.push(Span::styled(
                format!(
                    " ──{} {}──▶ ",
                    crate::app::detail::port_name(e.port),
                    e.port
                ),
                t.style(Slot::BandWarning),
            ));
            spans.extend(cell_spans(&e.to, t.style(Slot::Row), esc));
            spans.push(Span::styled(
                format!("  {}", hhmm(e.at)),
                t.style(Slot::Muted),
            ));
            lines.push(Line::from(spans));
        }
    }
    if !lat.hits.is_empty() {
        lines.push(Line::styled(
            " Enter: that device's alerts",
            t.style(Slot::Muted),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .style(t.style(Slot::Base))
            .scroll(((d.lateral_sel as u16 + 2).saturating_sub(area.height), 0)),
        area,
    );
}

fn notes(app: &App, d: &Detail, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let esc = t.style(Slot::Escape);
    let when = |ts| local(app, ts, "%m-%d %H:%M", "?");
    let mut lines = vec![Line::styled(" Notes", t.style(Slot::HelpSection))];
    match (&d.notes, loading(app, "notes", &d.notes)) {
        (_, Some(l)) => lines.extend(l),
        (Load::Ready(notes), None) => {
            if notes.is_empty() {
                lines.push(Line::styled("  (none)", t.style(Slot::Muted)));
            }
            for n in notes {
                lines.push(Line::styled(
                    format!(
                        "  {} {}",
                        when(n.create_timestamp),
                        safe(n.author.as_deref().unwrap_or("?"))
                    ),
                    t.style(Slot::PreviewLabel),
                ));
                // Each line of a note on its own line; control characters inside stay escaped.
                for part in n.note.as_deref().unwrap_or("").split('\n').take(40) {
                    let cell = Cell::new(part, 2000);
                    let mut spans = vec![Span::raw("    ")];
                    spans.extend(owned(cell_spans(&cell, t.style(Slot::PreviewValue), esc)));
                    lines.push(Line::from(spans));
                }
            }
        }
        _ => {}
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(" History", t.style(Slot::HelpSection)));
    match (&d.history, loading(app, "history", &d.history)) {
        (_, Some(l)) => lines.extend(l),
        (Load::Ready(h), None) => {
            for e in h {
                let w = e.workflow.as_ref();
                let what = match (e.entry_type.as_deref(), w) {
                    (_, Some(w)) => format!(
                        "{} by {} → {}",
                        e.entry_type.as_deref().unwrap_or("?"),
                        w.changed_by.as_deref().unwrap_or("?"),
                        w.status.as_deref().unwrap_or("?")
                    ),
                    (Some(ty), None) => ty.to_string(),
                    (None, None) => "?".into(),
                };
                let at = w
                    .and_then(|w| w.change_timestamp)
                    .or_else(|| e.note.as_ref().and_then(|n| n.create_timestamp));
                lines.push(Line::from(vec![
                    Span::styled(format!("  {} ", when(at)), t.style(Slot::Muted)),
                    Span::styled(safe(&what), t.style(Slot::PreviewValue)),
                ]));
            }
        }
        _ => {}
    }
    let mine: Vec<&Tracked> = app.tracked.iter().filter(|x| x.key == d.key).collect();
    if !mine.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            " socdeck actions (this session; A shows the audit log)",
            t.style(Slot::HelpSection),
        ));
        for x in mine {
            let approval = x
                .approval
                .as_ref()
                .map(|a| {
                    format!(
                        " · approved by {} via {}",
                        safe(&a.approver),
                        safe(&a.channel)
                    )
                })
                .unwrap_or_default();
            let detail = match &x.state {
                crate::app::pending::State::Failed(e) => format!(": {}", safe(e)),
                _ => String::new(),
            };
            lines.push(Line::styled(
                format!(
                    "  {} {} — {}{detail}{approval}",
                    when(Some(x.since)),
                    x.spec.label(),
                    x.state.label()
                ),
                t.style(Slot::PreviewValue),
            ));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((d.scroll, 0))
            .style(Style::default().patch(t.style(Slot::Base))),
        area,
    );
}
