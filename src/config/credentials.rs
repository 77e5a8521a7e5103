//! The CBC SDK's own credential sources: `credentials.cbc` profiles and the `CBC_*` / `CBAPI_*`
//! environment variables, read with the SDK's (1.5.10) search path, merging rule and keys.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::env::Env;
use super::error::ConfigError;
use super::ini;
use super::paths::{self, credentials_search_path};
use super::perms::{self, SecretRead};
use super::{Candidate, Sourced};
use crate::cbc::Token;

/// The boolean spellings `configparser`/the SDK accept.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "on" | "true" => Some(true),
        "0" | "no" | "off" | "false" => Some(false),
        _ => None,
    }
}

/// A value from a credentials file with where it came from.
#[derive(Clone)]
struct CredValue {
    value: String,
    path: PathBuf,
    line: usize,
}

impl CredValue {
    fn origin(&self, profile: &str) -> String {
        format!("{}:{} profile [{profile}]", self.path.display(), self.line)
    }
}

/// All credentials files found on the search path, merged as the SDK merges them.
pub(crate) struct CredStore {
    /// Every path searched, highest priority first.
    pub searched: Vec<PathBuf>,
    /// Profile names in order of first appearance (the SDK's read order: lowest priority first).
    profiles: Vec<String>,
    sections: BTreeMap<String, BTreeMap<String, CredValue>>,
    /// Where each profile's header is, in the highest-priority file that has it.
    headers: BTreeMap<String, (PathBuf, usize)>,
    defaults: BTreeMap<String, CredValue>,
}

impl CredStore {
    /// Reads every credentials file on the search path. Each file that exists is opened and
    /// must pass the permission checks (all of them are merged, so any of them could supply
    /// the token in use). A file this user cannot open is skipped with a warning.
    pub(crate) fn load(env: &Env, warnings: &mut Vec<String>) -> Result<CredStore, ConfigError> {
        let searched = credentials_search_path(env);
        let mut store = CredStore {
            searched: searched.clone(),
            profiles: Vec::new(),
            sections: BTreeMap::new(),
            headers: BTreeMap::new(),
            defaults: BTreeMap::new(),
        };
        // The SDK reads lowest priority first and lets later files override.
        for path in searched.iter().rev() {
            let bytes = match perms::read_secret("credentials file", path)? {
                SecretRead::Read(b) => b,
                SecretRead::Missing => continue,
                SecretRead::Denied => {
                    warnings.push(format!(
                        "credentials file {} exists but cannot be opened (permission denied); skipped",
                        path.display()
                    ));
                    continue;
                }
            };
            let syntax = |e: ini::IniError| ConfigError::Syntax {
                path: path.clone(),
                line: e.line,
                column: e.column,
                message: e.message,
            };
            let text = ini::decode(&bytes).map_err(syntax)?;
            let file = ini::parse(&text).map_err(syntax)?;
            let cv = |v: ini::IniValue| CredValue {
                value: v.value,
                path: path.clone(),
                line: v.line,
            };
            for (k, v) in file.defaults {
                store.defaults.insert(k, cv(v));
            }
            for sect in file.sections {
                store
                    .headers
                    .insert(sect.name.clone(), (path.clone(), sect.line));
                if !store.profiles.contains(&sect.name) {
                    store.profiles.push(sect.name.clone());
                }
                let entry = store.sections.entry(sect.name).or_default();
                for (k, v) in sect.values {
                    entry.insert(k, cv(v));
                }
            }
        }
        Ok(store)
    }

    /// Profile names, in the order the SDK would list them.
    pub(crate) fn profile_names(&self) -> &[String] {
        &self.profiles
    }

    pub(crate) fn has_profile(&self, name: &str) -> bool {
        self.sections.contains_key(name)
    }

    pub(crate) fn not_found(&self, name: &str, wanted_by: &str) -> ConfigError {
        ConfigError::ProfileNotFound {
            profile: name.to_owned(),
            wanted_by: wanted_by.to_owned(),
            available: self.profiles.clone(),
            searched: self.searched.clone(),
        }
    }

    /// The effective values of a profile: `[DEFAULT]` overlaid by the section.
    fn values(&self, name: &str) -> Option<BTreeMap<String, CredValue>> {
        let sect = self.sections.get(name)?;
        let mut all = self.defaults.clone();
        all.extend(sect.iter().map(|(k, v)| (k.clone(), v.clone())));
        Some(all)
    }

    /// Turns profile `name` into a candidate org. Refuses `ssl_verify=false` and
    /// `ssl_verify_hostname=false`.
    pub(crate) fn candidate(
        &self,
        env: &Env,
        name: &str,
        wanted_by: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Candidate, ConfigError> {
        let values = self
            .values(name)
            .ok_or_else(|| self.not_found(name, wanted_by))?;
        let section_origin = || match self.headers.get(name) {
            Some((path, line)) => format!("{}:{line} profile [{name}]", path.display()),
            None => format!("profile [{name}]"),
        };

        for key in ["ssl_verify", "ssl_verify_hostname"] {
            if let Some(v) = values.get(key) {
                match parse_bool(&v.value) {
                    Some(true) => {}
                    Some(false) => {
                        return Err(ConfigError::TlsVerificationDisabled {
                            origin: v.origin(name),
                            setting: format!("{key}=false"),
                        });
                    }
                    None => {
                        return Err(ConfigError::invalid_hint(
                            v.origin(name),
                            format!("{key} is not a boolean"),
                            "use true or false",
                        ));
                    }
                }
            }
        }
        for key in ["ssl_force_tls_1_2", "ignore_system_proxy"] {
            if let Some(v) = values.get(key)
                && parse_bool(&v.value).is_none()
            {
                return Err(ConfigError::invalid_hint(
                    v.origin(name),
                    format!("{key} is not a boolean"),
                    "use true or false",
                ));
            }
        }
        if let Some(v) = values.get("proxy")
            && !v.value.is_empty()
        {
            warnings.push(format!(
                "{}: proxy is ignored by socdeck (it uses the HTTPS_PROXY environment variable)",
                v.origin(name)
            ));
        }

        let token_v = match values.get("token") {
            Some(v) if !v.value.is_empty() => v,
            _ => {
                let csp = ["csp_api_token", "csp_oauth_app_id", "csp_oauth_app_secret"]
                    .iter()
                    .any(|k| values.get(*k).is_some_and(|v| !v.value.is_empty()));
                return Err(if csp {
                    ConfigError::invalid_hint(
                        section_origin(),
                        "uses CSP / OAuth app credentials, which socdeck does not support",
                        "create an API key in the CBC console and set token = <API secret key>/<API ID>",
                    )
                } else {
                    ConfigError::invalid_hint(
                        section_origin(),
                        "has no token",
                        "add token = <API secret key>/<API ID>",
                    )
                });
            }
        };
        let token = Token::new(token_v.value.as_str())
            .map_err(|e| ConfigError::invalid(token_v.origin(name), format!("token: {e}")))?;
        let required = |key: &str, hint: &str| -> Result<Sourced<String>, ConfigError> {
            match values.get(key) {
                Some(v) if !v.value.is_empty() => Ok(Sourced {
                    value: v.value.clone(),
                    origin: v.origin(name),
                }),
                _ => Err(ConfigError::invalid_hint(
                    section_origin(),
                    format!("has no {key}"),
                    hint.to_owned(),
                )),
            }
        };
        let url = required("url", "add url = https://<your CBC hostname>")?;
        let org_key = required("org_key", "add org_key = <your org key>")?;
        let ca_file = values
            .get("ssl_cert_file")
            .filter(|v| !v.value.is_empty())
            .map(|v| Sourced {
                // The SDK hands the path to requests as-is: relative to the working directory.
                value: paths::expand(env, v.value.as_ref(), env.cwd()),
                origin: v.origin(name),
            });

        let mut files: Vec<String> = Vec::new();
        for v in [Some(token_v), values.get("url"), values.get("org_key")]
            .into_iter()
            .flatten()
        {
            let f = v.path.display().to_string();
            if !files.contains(&f) {
                files.push(f);
            }
        }
        Ok(Candidate {
            name: name.to_owned(),
            url,
            org_key,
            token,
            ca_file,
            timezone: None,
            source: format!("profile [{name}] in {}", files.join(" and ")),
        })
    }
}

/// The SDK's environment credentials: used when a URL and a token variable are both set.
/// `CBC_*` wins over the legacy `CBAPI_*` name of the same variable.
pub(crate) fn env_candidate(
    env: &Env,
    warnings: &mut Vec<String>,
) -> Result<Option<Candidate>, ConfigError> {
    let pick = |suffix: &str| -> Option<(String, String)> {
        ["CBC_", "CBAPI_"].iter().find_map(|prefix| {
            let name = format!("{prefix}{suffix}");
            env.var(&name).map(|v| (name, v))
        })
    };
    let url = pick("URL");
    let token = pick("TOKEN");
    let (url, token) = match (url, token) {
        (Some(u), Some(t)) => (u, t),
        (Some((n, _)), None) => {
            warnings.push(format!(
                "environment variable {n} is set but CBC_TOKEN is not: environment credentials ignored"
            ));
            return Ok(None);
        }
        (None, Some((n, _))) => {
            warnings.push(format!(
                "environment variable {n} is set but CBC_URL is not: environment credentials ignored"
            ));
            return Ok(None);
        }
        (None, None) => return Ok(None),
    };
    if let Some((n, v)) = pick("SSL_VERIFY") {
        match parse_bool(&v) {
            Some(true) => {}
            Some(false) => {
                return Err(ConfigError::TlsVerificationDisabled {
                    origin: format!("environment {n}"),
                    setting: format!("{n}={v}"),
                });
            }
            None => {
                return Err(ConfigError::invalid_hint(
                    format!("environment {n}"),
                    "is not a boolean",
                    "unset it (TLS verification is always on)",
                ));
            }
        }
    }
    let Some((org_name, org_key)) = pick("ORG_KEY") else {
        return Err(ConfigError::invalid_hint(
            format!("environment {}/{}", url.0, token.0),
            "CBC_ORG_KEY is not set",
            "export CBC_ORG_KEY=<your org key>",
        ));
    };
    let tok = Token::new(token.1)
        .map_err(|e| ConfigError::invalid(format!("environment {}", token.0), e.to_string()))?;
    Ok(Some(Candidate {
        name: org_key.clone(),
        url: Sourced {
            value: url.1,
            origin: format!("environment {}", url.0),
        },
        org_key: Sourced {
            value: org_key,
            origin: format!("environment {org_name}"),
        },
        token: tok,
        ca_file: None,
        timezone: None,
        source: format!("env {}/{}", url.0, token.0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_booleans() {
        for t in ["1", "yes", "On", "TRUE"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["0", "no", "off", "False"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn env_legacy_names_and_precedence_between_them() {
        let env = Env::from_vars(
            [
                ("CBAPI_URL", "https://legacy"),
                ("CBC_URL", "https://new"),
                ("CBAPI_TOKEN", "A/B"),
                ("CBAPI_ORG_KEY", "ORG"),
            ],
            "/w",
        );
        let mut w = Vec::new();
        let c = env_candidate(&env, &mut w).unwrap().unwrap();
        assert_eq!(c.url.value, "https://new");
        assert_eq!(c.source, "env CBC_URL/CBAPI_TOKEN");
        assert_eq!(c.org_key.value, "ORG");
    }

    #[test]
    fn env_half_set_is_ignored_with_warning() {
        let env = Env::from_vars([("CBC_URL", "https://x")], "/w");
        let mut w = Vec::new();
        assert!(env_candidate(&env, &mut w).unwrap().is_none());
        assert!(
            w[0].contains("CBC_URL is set but CBC_TOKEN is not"),
            "{w:?}"
        );
    }
}
