//! The alert detail screen's model: panes, what has been loaded for them, the process tree
//! flattened for display, and lateral-movement findings. Pure data; the loading happens in
//! `investigate` and arrives as messages.

use std::collections::HashSet;

use jiff::Timestamp;

use super::queue::{AlertKey, Cell};
use crate::cbc::model::{Alert, Device, HistoryEntry, Note, Process};

/// The panes of the detail screen, in key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Summary,
    Tree,
    Lateral,
    Notes,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Summary, Pane::Tree, Pane::Lateral, Pane::Notes];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Summary => "Summary",
            Pane::Tree => "Process tree",
            Pane::Lateral => "Lateral movement",
            Pane::Notes => "Notes & history",
        }
    }

    pub fn next(self) -> Pane {
        let i = Pane::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ALL[(i + 1) % Pane::ALL.len()]
    }

    pub fn prev(self) -> Pane {
        let i = Pane::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ALL[(i + Pane::ALL.len() - 1) % Pane::ALL.len()]
    }
}

/// Something being fetched for the detail screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Load<T> {
    #[default]
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> Load<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Load::Ready(t) => Some(t),
            _ => None,
        }
    }
}

/// One part of the detail, as it arrives from its task.
#[derive(Debug)]
pub enum Part {
    Alert(Result<Box<Alert>, String>),
    Device(Result<Box<Device>, String>),
    Tree(Result<ProcTree, String>),
    Lateral(Result<Lateral, String>),
    Notes(Result<Vec<Note>, String>),
    History(Result<Vec<HistoryEntry>, String>),
}

/// The detail screen of one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub key: AlertKey,
    /// Which request generation the loaded parts belong to (a reload bumps it).
    pub seq: u64,
    pub pane: Pane,
    pub alert: Load<Box<Alert>>,
    pub device: Load<Box<Device>>,
    pub tree: Load<ProcTree>,
    pub lateral: Load<Lateral>,
    pub notes: Load<Vec<Note>>,
    pub history: Load<Vec<HistoryEntry>>,
    /// Selected line in the tree / lateral list; scroll of the summary and notes panes.
    pub tree_sel: usize,
    pub lateral_sel: usize,
    pub scroll: u16,
    /// Show the selected tree node's command line whole, wrapped.
    pub full_cmdline: bool,
}

impl Detail {
    pub fn new(key: AlertKey, seq: u64) -> Detail {
        Detail {
            key,
            seq,
            pane: Pane::Summary,
            alert: Load::Loading,
            device: Load::Loading,
            tree: Load::Loading,
            lateral: Load::Loading,
            notes: Load::Loading,
            history: Load::Loading,
            tree_sel: 0,
            lateral_sel: 0,
            scroll: 0,
            full_cmdline: false,
        }
    }

    pub fn apply(&mut self, part: Part) {
        fn load<T>(r: Result<T, String>) -> Load<T> {
            match r {
                Ok(t) => Load::Ready(t),
                Err(e) => Load::Failed(e),
            }
        }
        match part {
            Part::Alert(r) => self.alert = load(r),
            Part::Device(r) => self.device = load(r),
            Part::Tree(r) => {
                self.tree = load(r);
                if let Load::Ready(t) = &self.tree {
                    // Start on the alerting process: it is what the analyst came for.
                    self.tree_sel = t.alert_line().unwrap_or(0);
                }
            }
            Part::Lateral(r) => {
                self.lateral = load(r);
                self.lateral_sel = 0;
            }
            Part::Notes(r) => self.notes = load(r),
            Part::History(r) => self.history = load(r),
        }
    }
}

/// Command lines are kept up to this many characters (CBC caps them near 32 KB anyway).
const CAP_CMDLINE: usize = 8192;
const CAP_SHORT: usize = 256;
/// Deeper trees are cut (and say so): a hostile or broken tree must not exhaust the stack.
const MAX_DEPTH: usize = 64;
const MAX_NODES: usize = 5000;

/// One process of a tree, sanitised for display.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    pub guid: Box<str>,
    pub name: Cell,
    pub pid: Option<i64>,
    pub user: Cell,
    pub cmdline: Cell,
    /// The raw command line, for copying (OSC 52 is base64: raw bytes cannot reach the tty).
    pub cmdline_raw: Box<str>,
    pub sha256: Option<Box<str>>,
    pub reputation: Cell,
    pub depth: usize,
    pub children: Vec<usize>,
    /// On the path from the root to the alerting process (ancestors and the process itself).
    pub on_path: bool,
    pub is_alert: bool,
}

/// A process tree, flattened into display lines on every expand/collapse.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcTree {
    pub nodes: Vec<TreeNode>,
    pub alert_node: Option<usize>,
    pub collapsed: HashSet<usize>,
    /// Visible lines: `(node, guide prefix)`.
    pub lines: Vec<(usize, String)>,
    /// Nodes dropped because the tree was too deep or too large.
    pub cut: usize,
}

impl ProcTree {
    /// Builds the tree from the `summary_jobs` tree (root ancestor with nested children).
    /// `alert_guid` marks the alerting process; branches off its path start collapsed, so the
    /// first view is ancestors → the process → its descendants.
    pub fn build(root: &Process, alert_guid: Option<&str>) -> ProcTree {
        let mut t = ProcTree {
            nodes: Vec::new(),
            alert_node: None,
            collapsed: HashSet::new(),
            lines: Vec::new(),
            cut: 0,
        };
        t.add(root, 0, alert_guid);
        if let Some(a) = t.alert_node {
            // Mark the path from the root to the alerting node.
            let mut parent_of = vec![usize::MAX; t.nodes.len()];
            for (i, n) in t.nodes.iter().enumerate() {
                for &c in &n.children {
                    parent_of[c] = i;
                }
            }
            let mut at = a;
            loop {
                t.nodes[at].on_path = true;
                match parent_of[at] {
                    usize::MAX => break,
                    p => at = p,
                }
            }
            // Collapse side branches of ancestors; the alerting subtree stays open.
            for i in 0..t.nodes.len() {
                if !t.nodes[i].on_path && !t.nodes[i].children.is_empty() {
                    let under_alert = {
                        let mut p = parent_of[i];
                        let mut found = false;
                        while p != usize::MAX {
                            if p == a {
                                found = true;
                                break;
                            }
                            p = parent_of[p];
                        }
                        found
                    };
                    if !under_alert {
                        t.collapsed.insert(i);
                    }
                }
            }
        }
        t.flatten();
        t
    }

    fn add(&mut self, p: &Process, depth: usize, alert_guid: Option<&str>) -> Option<usize> {
        if depth >= MAX_DEPTH || self.nodes.len() >= MAX_NODES {
            self.cut += 1;
            return None;
        }
        let guid: Box<str> = p.process_guid.as_deref().unwrap_or("").into();
        let is_alert = alert_guid.is_some_and(|g| !g.is_empty() && *g == *guid);
        let path = p.process_name.as_deref();
        let file = path.map(|s| s.rsplit(['\\', '/']).next().unwrap_or(s));
        let sha256 = p
            .sha256()
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|h| h.to_ascii_lowercase().into_boxed_str());
        let idx = self.nodes.len();
        self.nodes.push(TreeNode {
            guid,
            name: Cell::from_opt(file, CAP_SHORT),
            pid: p.process_pid,
            user: Cell::from_opt(p.process_username.as_deref(), CAP_SHORT),
            cmdline: Cell::from_opt(p.process_cmdline.as_deref(), CAP_CMDLINE),
            cmdline_raw: p.process_cmdline.as_deref().unwrap_or("").into(),
            sha256,
            reputation: Cell::from_opt(
                p.process_effective_reputation
                    .as_deref()
                    .or(p.process_reputation.as_deref()),
                CAP_SHORT,
            ),
            depth,
            children: Vec::new(),
            on_path: false,
            is_alert,
        });
        if is_alert && self.alert_node.is_none() {
            self.alert_node = Some(idx);
        }
        for c in &p.children {
            if let Some(ci) = self.add(c, depth + 1, alert_guid) {
                self.nodes[idx].children.push(ci);
            }
        }
        Some(idx)
    }

    /// Recomputes the visible lines and their tree guides.
    pub fn flatten(&mut self) {
        self.lines.clear();
        if self.nodes.is_empty() {
            return;
        }
        // Iterative walk: (node, guide of the ancestors, is last child, is root).
        let mut stack: Vec<(usize, String, bool, bool)> = vec![(0, String::new(), true, true)];
        while let Some((i, above, last, root)) = stack.pop() {
            let prefix = if root {
                String::new()
            } else {
                format!("{above}{}", if last { "└─ " } else { "├─ " })
            };
            self.lines.push((i, prefix));
            if self.collapsed.contains(&i) {
                continue;
            }
            let below = if root {
                String::new()
            } else {
                format!("{above}{}", if last { "   " } else { "│  " })
            };
            let kids = &self.nodes[i].children;
            for (k, &c) in kids.iter().enumerate().rev() {
                stack.push((c, below.clone(), k + 1 == kids.len(), false));
            }
        }
    }

    /// The display line of the alerting process.
    pub fn alert_line(&self) -> Option<usize> {
        let a = self.alert_node?;
        self.lines.iter().position(|(n, _)| *n == a)
    }

    /// Collapses or expands the node on `line`; returns the line it is on afterwards.
    pub fn toggle(&mut self, line: usize) -> usize {
        let Some(&(node, _)) = self.lines.get(line) else {
            return line;
        };
        if self.nodes[node].children.is_empty() {
            return line;
        }
        if !self.collapsed.remove(&node) {
            self.collapsed.insert(node);
        }
        self.flatten();
        self.lines.iter().position(|(n, _)| *n == node).unwrap_or(0)
    }

    /// Expands every node.
    pub fn expand_all(&mut self) {
        self.collapsed.clear();
        self.flatten();
    }

    pub fn node_at(&self, line: usize) -> Option<&TreeNode> {
        self.lines.get(line).map(|(n, _)| &self.nodes[*n])
    }
}

/// How another device is linked to the alert's device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// It ran the same file (SHA-256).
    SameHash,
    /// The same user was active on it.
    SameUser(Cell),
    /// A network connection between the two hosts: `outbound` from the alert's device.
    Network {
        outbound: bool,
        port: i64,
        process: Cell,
    },
}

impl Evidence {
    pub fn label(&self) -> String {
        match self {
            Evidence::SameHash => "same SHA-256".into(),
            Evidence::SameUser(u) => format!("same user {}", u.as_str()),
            Evidence::Network { port, .. } => format!("{} {port}", port_name(*port)),
        }
    }
}

/// A well-known name for ports lateral movement uses.
pub fn port_name(port: i64) -> &'static str {
    match port {
        445 | 139 => "SMB",
        3389 => "RDP",
        5985 | 5986 => "WinRM",
        135 => "RPC",
        22 => "SSH",
        _ => "port",
    }
}

/// Ports whose connections count as lateral-movement evidence.
pub const LATERAL_PORTS: &[i64] = &[445, 139, 3389, 5985, 5986, 135, 22];

/// Another device of the org linked to the alert's device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateralHit {
    pub device_id: Option<i64>,
    pub device: Cell,
    /// The raw device name, for the queue filter the jump sets.
    pub device_raw: Box<str>,
    pub evidence: Vec<Evidence>,
    pub first_seen: Option<Timestamp>,
}

/// One network edge for the text graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: Cell,
    pub to: Cell,
    pub port: i64,
    pub at: Option<Timestamp>,
}

/// Lateral-movement findings for one alert.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lateral {
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub hits: Vec<LateralHit>,
    pub edges: Vec<Edge>,
    /// Searches that failed (the rest is still shown).
    pub errors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(guid: &str, name: &str, children: Vec<Process>) -> Process {
        Process {
            process_guid: Some(guid.into()),
            process_name: Some(format!("c:\\windows\\{name}")),
            process_pid: Some(100),
            children,
            ..Default::default()
        }
    }

    fn sample() -> Process {
        proc(
            "root",
            "explorer.exe",
            vec![
                proc(
                    "a",
                    "cmd.exe",
                    vec![proc(
                        "alert",
                        "powershell.exe",
                        vec![
                            proc("c1", "whoami.exe", vec![]),
                            proc("c2", "net.exe", vec![]),
                        ],
                    )],
                ),
                proc("side", "notepad.exe", vec![proc("s1", "x.exe", vec![])]),
            ],
        )
    }

    fn names(t: &ProcTree) -> Vec<String> {
        t.lines
            .iter()
            .map(|(n, p)| format!("{p}{}", t.nodes[*n].name.as_str()))
            .collect()
    }

    #[test]
    fn the_first_view_is_the_path_to_the_alert_with_side_branches_collapsed() {
        let t = ProcTree::build(&sample(), Some("alert"));
        assert_eq!(
            names(&t),
            [
                "explorer.exe",
                "├─ cmd.exe",
                "│  └─ powershell.exe",
                "│     ├─ whoami.exe",
                "│     └─ net.exe",
                "└─ notepad.exe",
            ]
        );
        let a = t.alert_line().unwrap();
        assert!(t.node_at(a).unwrap().is_alert);
        assert_eq!(t.node_at(a).unwrap().name.as_str(), "powershell.exe");
        assert!(t.node_at(0).unwrap().on_path);
        assert!(!t.node_at(5).unwrap().on_path);
    }

    #[test]
    fn toggling_expands_and_collapses_and_keeps_the_line_on_the_node() {
        let mut t = ProcTree::build(&sample(), Some("alert"));
        let line = t.toggle(5);
        assert_eq!(line, 5);
        assert_eq!(names(&t).last().unwrap(), "   └─ x.exe");
        let line = t.toggle(2);
        assert_eq!(line, 2);
        assert_eq!(t.lines.len(), 5, "powershell's two children hidden");
        // A leaf does nothing.
        let n = t.lines.len();
        t.toggle(4);
        assert_eq!(t.lines.len(), n);
        t.expand_all();
        assert_eq!(t.lines.len(), 7);
    }

    #[test]
    fn hostile_and_deep_trees_are_bounded_and_sanitised() {
        let mut p = proc("leaf", "evil\x1b[2J.exe", vec![]);
        for i in 0..200 {
            p = proc(&format!("g{i}"), "sh", vec![p]);
        }
        let t = ProcTree::build(&p, Some("leaf"));
        assert_eq!(t.nodes.len(), MAX_DEPTH);
        assert!(t.cut > 0);
        assert!(t.alert_node.is_none(), "the alerting node was cut off");
        let evil = ProcTree::build(&proc("x", "evil\x1b[2J.exe", vec![]), Some("x"));
        assert!(!evil.nodes[0].name.as_str().contains('\x1b'));
        assert!(evil.nodes[0].name.is_flagged());
    }

    #[test]
    fn panes_cycle_both_ways() {
        let mut p = Pane::Summary;
        for _ in 0..4 {
            p = p.next();
        }
        assert_eq!(p, Pane::Summary);
        assert_eq!(Pane::Summary.prev(), Pane::Notes);
    }
}
