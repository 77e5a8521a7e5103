//! Where socdeck's files and the CBC SDK's credentials files live.

use std::path::{Path, PathBuf};

use super::env::Env;
use super::error::ConfigError;

/// The socdeck config file: `--config PATH` if given (relative to the working directory), else
/// `$XDG_CONFIG_HOME/socdeck/config.toml`, else `~/.config/socdeck/config.toml`.
pub fn config_path(env: &Env, cli_override: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(p) = cli_override {
        return Ok(absolute(env, p));
    }
    let base = match env.absolute_path_var("XDG_CONFIG_HOME") {
        Some(dir) => dir,
        None => env
            .home()
            .ok_or(ConfigError::NoHome {
                what: "the config file",
                xdg_var: "XDG_CONFIG_HOME",
            })?
            .join(".config"),
    };
    Ok(base.join("socdeck").join("config.toml"))
}

/// socdeck's data directory (journal, drafts): `$XDG_DATA_HOME/socdeck`, else
/// `~/.local/share/socdeck`.
pub fn data_dir(env: &Env) -> Result<PathBuf, ConfigError> {
    let base = match env.absolute_path_var("XDG_DATA_HOME") {
        Some(dir) => dir,
        None => env
            .home()
            .ok_or(ConfigError::NoHome {
                what: "the data directory",
                xdg_var: "XDG_DATA_HOME",
            })?
            .join(".local")
            .join("share"),
    };
    Ok(base.join("socdeck"))
}

/// The CBC SDK's credentials files, **highest priority first**:
/// `./.carbonblack/credentials.cbc`, `./.carbonblack/credentials.psc`,
/// `~/.carbonblack/credentials.cbc`, `~/.carbonblack/credentials.psc`,
/// `/etc/carbonblack/credentials.cbc`, `/etc/carbonblack/credentials.psc`.
///
/// The SDK (1.5.10, `FileCredentialProvider`) reads every one of them that exists, in the
/// reverse of this order, into one `configparser`, so a key found in a higher-priority file
/// overrides the same key of the same profile in a lower one. Duplicates (when the working
/// directory is the home directory) are listed once.
pub fn credentials_search_path(env: &Env) -> Vec<PathBuf> {
    let mut dirs = vec![env.cwd().join(".carbonblack")];
    if let Some(home) = env.home() {
        dirs.push(home.join(".carbonblack"));
    }
    dirs.push(env.system_dir().join("carbonblack"));
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        for name in ["credentials.cbc", "credentials.psc"] {
            let p = dir.join(name);
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// Makes `p` absolute against the working directory.
pub(crate) fn absolute(env: &Env, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        env.cwd().join(p)
    }
}

/// Expands a leading `~/` with the home directory, then makes the path absolute against `base`.
pub(crate) fn expand(env: &Env, p: &Path, base: &Path) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~")
        && let Some(home) = env.home()
    {
        return home.join(rest);
    }
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdg_and_home_defaults() {
        let env = Env::from_vars([("HOME", "/home/a")], "/w");
        assert_eq!(
            config_path(&env, None).unwrap(),
            PathBuf::from("/home/a/.config/socdeck/config.toml")
        );
        assert_eq!(
            data_dir(&env).unwrap(),
            PathBuf::from("/home/a/.local/share/socdeck")
        );
        let env = Env::from_vars(
            [
                ("HOME", "/home/a"),
                ("XDG_CONFIG_HOME", "/x/cfg"),
                ("XDG_DATA_HOME", "/x/data"),
            ],
            "/w",
        );
        assert_eq!(
            config_path(&env, None).unwrap(),
            PathBuf::from("/x/cfg/socdeck/config.toml")
        );
        assert_eq!(data_dir(&env).unwrap(), PathBuf::from("/x/data/socdeck"));
        // Relative XDG values are ignored, per the XDG spec.
        let env = Env::from_vars([("HOME", "/home/a"), ("XDG_CONFIG_HOME", "rel")], "/w");
        assert_eq!(
            config_path(&env, None).unwrap(),
            PathBuf::from("/home/a/.config/socdeck/config.toml")
        );
    }

    #[test]
    fn cli_override_is_made_absolute() {
        let env = Env::from_vars([("HOME", "/home/a")], "/w");
        assert_eq!(
            config_path(&env, Some(Path::new("my.toml"))).unwrap(),
            PathBuf::from("/w/my.toml")
        );
    }

    #[test]
    fn no_home_is_an_error() {
        let env = Env::from_vars::<_, String, String>([], "/w");
        assert!(matches!(
            config_path(&env, None),
            Err(ConfigError::NoHome { .. })
        ));
        assert!(data_dir(&env).is_err());
    }

    #[test]
    fn tilde_expansion() {
        let env = Env::from_vars([("HOME", "/home/a")], "/w");
        assert_eq!(
            expand(&env, Path::new("~/t"), Path::new("/b")),
            PathBuf::from("/home/a/t")
        );
        assert_eq!(
            expand(&env, Path::new("t"), Path::new("/b")),
            PathBuf::from("/b/t")
        );
    }
}
