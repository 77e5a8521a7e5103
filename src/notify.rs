//! Notifications for new High alerts: a desktop notification where a D-Bus session exists (SOC
//! workstations), otherwise the terminal bell plus the in-app message the reducer already
//! shows (SSH, CI). Failures are logged to the log file, never shown as noise.

/// How this console notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notifier {
    /// notify-rust over D-Bus, plus nothing else (the desktop shows it).
    Desktop,
    /// No desktop session: ring the terminal bell.
    Bell,
    /// Switched off in config.
    Off,
}

/// What the caller must still do after [`Notifier::notify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    None,
    RingBell,
}

impl Notifier {
    /// Picks the channel from the environment: a desktop only with a D-Bus session bus and not
    /// over SSH (a forwarded session bus would pop up on someone else's screen).
    pub fn detect(enabled: bool, bell: bool, var: impl Fn(&str) -> Option<String>) -> Notifier {
        if !enabled {
            return Notifier::Off;
        }
        let dbus = var("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty());
        let ssh = var("SSH_CONNECTION").is_some() || var("SSH_TTY").is_some();
        match (dbus && !ssh, bell) {
            (true, _) => Notifier::Desktop,
            (false, true) => Notifier::Bell,
            (false, false) => Notifier::Off,
        }
    }

    /// Sends a notification. Title and body must already be sanitised (they come from rows).
    /// The desktop call runs on a blocking thread: D-Bus can stall, the UI must not.
    pub fn notify(self, title: &str, body: &str) -> Fallback {
        match self {
            Notifier::Desktop => {
                let (title, body) = (title.to_owned(), body.to_owned());
                std::thread::spawn(move || {
                    if let Err(e) = notify_rust::Notification::new()
                        .appname("socdeck")
                        .summary(&title)
                        .body(&body)
                        .show()
                    {
                        tracing::warn!(error = %e, "desktop notification failed");
                    }
                });
                Fallback::None
            }
            Notifier::Bell => Fallback::RingBell,
            Notifier::Off => Fallback::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn desktop_only_with_a_session_bus_and_not_over_ssh() {
        let bus = ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus");
        assert_eq!(Notifier::detect(true, true, env(&[bus])), Notifier::Desktop);
        assert_eq!(
            Notifier::detect(true, true, env(&[bus, ("SSH_CONNECTION", "1 2 3 4")])),
            Notifier::Bell
        );
        assert_eq!(Notifier::detect(true, true, env(&[])), Notifier::Bell);
        assert_eq!(Notifier::detect(true, false, env(&[])), Notifier::Off);
        assert_eq!(Notifier::detect(false, true, env(&[bus])), Notifier::Off);
        assert_eq!(Notifier::Bell.notify("t", "b"), Fallback::RingBell);
        assert_eq!(Notifier::Off.notify("t", "b"), Fallback::None);
    }
}
