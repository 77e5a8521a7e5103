//! Configuration and credential loading (RELIABILITY.md section B1/B2/B3-config).
//!
//! Every test builds its own home, working directory and `/etc` under a temp dir and passes
//! them through `Env`, so nothing here reads the real home directory or `/etc`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use socdeck::config::{
    ConfigError, CredentialArgs, Env, Resolved, config_path, credentials_search_path, resolve_orgs,
};

// ---------------------------------------------------------------------------------------------
// Fixture

struct World {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    cwd: PathBuf,
    etc: PathBuf,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let home = root.join("home");
        let cwd = root.join("work");
        let etc = root.join("etc");
        for d in [&home, &cwd, &etc] {
            fs::create_dir(d).unwrap();
            chmod(d, 0o700);
        }
        World {
            _tmp: tmp,
            home,
            cwd,
            etc,
        }
    }

    fn env(&self, vars: &[(&str, &str)]) -> Env {
        let mut all: Vec<(String, String)> = vec![
            ("HOME".into(), self.home.display().to_string()),
            ("USER".into(), "tester".into()),
        ];
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Env::from_vars(all, &self.cwd).with_system_dir(&self.etc)
    }

    fn home_creds(&self) -> PathBuf {
        self.home.join(".carbonblack/credentials.cbc")
    }

    fn config(&self) -> PathBuf {
        self.home.join(".config/socdeck/config.toml")
    }

    /// Writes a file holding a secret: directory 0700, file `mode`.
    fn secret(&self, path: &Path, content: &str, mode: u32) {
        let dir = path.parent().unwrap();
        fs::create_dir_all(dir).unwrap();
        chmod(dir, 0o700);
        fs::write(path, content).unwrap();
        chmod(path, mode);
    }

    /// Writes the config file 0600 in a 0700 directory (safe even with inline tokens).
    fn write_config(&self, content: &str) {
        self.secret(&self.config(), content, 0o600);
    }

    fn resolve(&self, vars: &[(&str, &str)]) -> Result<Resolved, ConfigError> {
        resolve_orgs(&CredentialArgs::default(), &self.env(vars))
    }

    fn resolve_args(
        &self,
        args: &CredentialArgs,
        vars: &[(&str, &str)],
    ) -> Result<Resolved, ConfigError> {
        resolve_orgs(args, &self.env(vars))
    }
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn profile(name: &str, url: &str, token: &str, org: &str) -> String {
    format!("[{name}]\nurl = {url}\ntoken = {token}\norg_key = {org}\n")
}

fn canary() -> String {
    format!("CANARY-{}", uuid::Uuid::new_v4())
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn pem_cert() -> String {
    rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .unwrap()
        .cert
        .pem()
}

// ---------------------------------------------------------------------------------------------
// Precedence

#[test]
fn precedence_cli_profile_then_env_then_config_then_default_profile() {
    let w = World::new();
    w.secret(
        &w.home_creds(),
        &format!(
            "{}{}",
            profile("default", "https://default.example", "DEF/TOKEN", "DEFORG"),
            profile("cli", "https://cli.example", "CLI/TOKEN", "CLIORG")
        ),
        0o600,
    );
    w.write_config(
        "[[org]]\nname = \"Acme\"\nurl = \"https://config.example\"\norg_key = \"CFGORG\"\ntoken = \"CFG/TOKEN\"\n",
    );
    let env_vars = [
        ("CBC_URL", "https://env.example"),
        ("CBC_TOKEN", "ENV/TOKEN"),
        ("CBC_ORG_KEY", "ENVORG"),
    ];

    // 1. --profile beats everything.
    let args = CredentialArgs {
        profile: Some("cli".into()),
        ..Default::default()
    };
    let r = w.resolve_args(&args, &env_vars).unwrap();
    assert_eq!(r.orgs.len(), 1);
    assert_eq!(r.orgs[0].url, "https://cli.example");
    assert_eq!(r.orgs[0].token.expose(), "CLI/TOKEN");
    assert_eq!(
        r.orgs[0].source,
        format!("profile [cli] in {}", w.home_creds().display())
    );
    assert!(
        r.warnings.iter().any(|m| m.contains("--profile")),
        "{:?}",
        r.warnings
    );

    // 2. Environment beats the config file.
    let r = w.resolve(&env_vars).unwrap();
    assert_eq!(r.orgs.len(), 1);
    assert_eq!(r.orgs[0].url, "https://env.example");
    assert_eq!(r.orgs[0].org_key, "ENVORG");
    assert_eq!(r.orgs[0].source, "env CBC_URL/CBC_TOKEN");
    assert!(
        r.warnings
            .iter()
            .any(|m| m.contains("[[org]] entries") && m.contains("ignored")),
        "{:?}",
        r.warnings
    );

    // 3. The config's [[org]] beats the default profile.
    let r = w.resolve(&[]).unwrap();
    assert_eq!(r.orgs.len(), 1);
    assert_eq!(r.orgs[0].name, "Acme");
    assert_eq!(r.orgs[0].token.expose(), "CFG/TOKEN");
    assert_eq!(
        r.orgs[0].source,
        format!("config {} [[org]] #1 (Acme)", w.config().display())
    );

    // 4. Without [[org]], the [default] profile.
    w.write_config("read_only = true\n");
    let r = w.resolve(&[]).unwrap();
    assert!(r.config.read_only);
    assert_eq!(r.orgs.len(), 1);
    assert_eq!(r.orgs[0].url, "https://default.example");
    assert_eq!(r.orgs[0].name, "default");
}

#[test]
fn several_orgs_from_config_with_each_token_source() {
    let w = World::new();
    w.secret(
        &w.home_creds(),
        &profile("globex", "https://globex.example/", "GLX/TOKEN", "GLXORG"),
        0o600,
    );
    let token_file = w.home.join("secrets/acme.token");
    w.secret(&token_file, "ACME/TOKEN\n", 0o400);
    w.write_config(
        r#"
analyst = "yamada"
[sla]
warning_min = 25
[poll]
interval_s = 30

[[org]]
name = "Acme"
url = "https://acme.example/"
org_key = "ACMEORG"
token_file = "~/secrets/acme.token"
timezone = "Europe/Berlin"

[[org]]
name = "Globex"
profile = "globex"

[[org]]
name = "Initech"
url = "https://initech.example"
org_key = "INIORG"
token = "INI/TOKEN"
"#,
    );
    let r = w.resolve(&[]).unwrap();
    assert_eq!(r.config.analyst.as_deref(), Some("yamada"));
    assert_eq!(r.config.sla.warning_min, 25);
    assert_eq!(
        r.config.sla.critical_min, 10,
        "unset keys keep their defaults"
    );
    assert_eq!(r.config.poll.interval_s, 30);
    assert_eq!(r.config.poll.overlap_s, 120);
    let names: Vec<&str> = r.orgs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Acme", "Globex", "Initech"]);

    let acme = &r.orgs[0];
    assert_eq!(acme.url, "https://acme.example", "trailing slash removed");
    assert_eq!(acme.token.expose(), "ACME/TOKEN");
    assert_eq!(acme.timezone, "Europe/Berlin");

    let globex = &r.orgs[1];
    assert_eq!(globex.url, "https://globex.example");
    assert_eq!(globex.org_key, "GLXORG");
    assert_eq!(globex.token.expose(), "GLX/TOKEN");
    assert_eq!(globex.timezone, "Asia/Tokyo");
    assert!(
        globex.source.contains("[[org]] #2 (Globex)"),
        "{}",
        globex.source
    );
    assert!(
        globex.source.contains("profile [globex]"),
        "{}",
        globex.source
    );

    assert_eq!(r.orgs[2].token.expose(), "INI/TOKEN");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn analyst_defaults_to_user() {
    let w = World::new();
    w.write_config("[[org]]\nurl = \"https://a.example\"\norg_key = \"K1\"\ntoken = \"A/B\"\n");
    let r = w.resolve(&[]).unwrap();
    assert_eq!(r.config.analyst.as_deref(), Some("tester"));
    assert_eq!(r.orgs[0].name, "K1", "name defaults to the org key");
}

// ---------------------------------------------------------------------------------------------
// Environment

#[test]
fn env_vars_give_one_org() {
    let w = World::new();
    let r = w
        .resolve(&[
            ("CBC_URL", "https://env.example/"),
            ("CBC_TOKEN", "SECRET/ID\n"),
            ("CBC_ORG_KEY", "ORG1"),
            ("CBC_SSL_VERIFY", "true"),
        ])
        .unwrap();
    assert_eq!(r.orgs.len(), 1);
    let o = &r.orgs[0];
    assert_eq!(o.url, "https://env.example");
    assert_eq!(o.org_key, "ORG1");
    assert_eq!(o.token.expose(), "SECRET/ID");
    assert_eq!(o.source, "env CBC_URL/CBC_TOKEN");
    assert_eq!(o.ca_file, None);
}

#[test]
fn legacy_cbapi_env_vars_are_accepted() {
    let w = World::new();
    let r = w
        .resolve(&[
            ("CBAPI_URL", "https://legacy.example"),
            ("CBAPI_TOKEN", "LEG/ID"),
            ("CBAPI_ORG_KEY", "LEGORG"),
        ])
        .unwrap();
    assert_eq!(r.orgs[0].url, "https://legacy.example");
    assert_eq!(r.orgs[0].org_key, "LEGORG");
    assert_eq!(r.orgs[0].source, "env CBAPI_URL/CBAPI_TOKEN");
}

#[test]
fn env_without_org_key_is_an_error() {
    let w = World::new();
    let e = w
        .resolve(&[("CBC_URL", "https://e.example"), ("CBC_TOKEN", "A/B")])
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("CBC_ORG_KEY"), "{msg}");
}

#[test]
fn env_with_only_url_falls_through_with_a_warning() {
    let w = World::new();
    w.secret(
        &w.home_creds(),
        &profile("default", "https://d.example", "D/T", "DORG"),
        0o600,
    );
    let r = w.resolve(&[("CBC_URL", "https://e.example")]).unwrap();
    assert_eq!(r.orgs[0].url, "https://d.example");
    assert!(
        r.warnings.iter().any(|m| m.contains("CBC_TOKEN is not")),
        "{:?}",
        r.warnings
    );
}

// ---------------------------------------------------------------------------------------------
// credentials.cbc

#[test]
fn missing_profile_lists_available_names_and_files_searched() {
    let w = World::new();
    w.secret(
        &w.home_creds(),
        &format!(
            "{}{}",
            profile("alpha", "https://a.example", "A/T", "AORG"),
            profile("beta", "https://b.example", "B/T", "BORG")
        ),
        0o600,
    );
    let args = CredentialArgs {
        profile: Some("gamma".into()),
        ..Default::default()
    };
    let e = w.resolve_args(&args, &[]).unwrap_err();
    match &e {
        ConfigError::ProfileNotFound {
            profile,
            available,
            searched,
            ..
        } => {
            assert_eq!(profile, "gamma");
            assert_eq!(available, &["alpha".to_owned(), "beta".to_owned()]);
            assert_eq!(searched.len(), 6);
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = e.to_string();
    assert!(msg.contains("[alpha], [beta]"), "{msg}");
    assert!(msg.contains(&w.home_creds().display().to_string()), "{msg}");
    assert!(
        msg.contains(
            &w.etc
                .join("carbonblack/credentials.psc")
                .display()
                .to_string()
        ),
        "{msg}"
    );
}

#[test]
fn sdk_search_path_order_and_merging() {
    let w = World::new();
    let env = w.env(&[]);
    let expected = vec![
        w.cwd.join(".carbonblack/credentials.cbc"),
        w.cwd.join(".carbonblack/credentials.psc"),
        w.home.join(".carbonblack/credentials.cbc"),
        w.home.join(".carbonblack/credentials.psc"),
        w.etc.join("carbonblack/credentials.cbc"),
        w.etc.join("carbonblack/credentials.psc"),
    ];
    assert_eq!(credentials_search_path(&env), expected);

    // Each file sets some keys of [default]; a higher-priority file wins key by key, as the SDK's
    // configparser does when it reads /etc, then ~, then ./ (.psc before .cbc in each).
    w.secret(
        &expected[5],
        "[default]\nurl = https://etc-psc.example\ntoken = ETCPSC/T\norg_key = ETCPSC\n[etconly]\nurl=https://etconly.example\ntoken=E/T\norg_key=EONLY\n",
        0o600,
    );
    w.secret(&expected[4], "[default]\norg_key = ETCCBC\n", 0o600);
    w.secret(&expected[3], "[default]\ntoken = HOMEPSC/T\n", 0o600);
    w.secret(&expected[2], "[default]\ntoken = HOMECBC/T\n", 0o600);
    w.secret(
        &expected[0],
        "[default]\nurl = https://local.example\n",
        0o600,
    );

    let r = w.resolve(&[]).unwrap();
    let o = &r.orgs[0];
    assert_eq!(o.url, "https://local.example", "./.carbonblack wins");
    assert_eq!(
        o.token.expose(),
        "HOMECBC/T",
        "~/.carbonblack/credentials.cbc beats .psc and /etc"
    );
    assert_eq!(o.org_key, "ETCCBC", "/etc .cbc beats /etc .psc");
    assert!(
        o.source.contains(&expected[2].display().to_string()),
        "{}",
        o.source
    );

    // A profile present only in /etc is still found.
    let args = CredentialArgs {
        profile: Some("etconly".into()),
        ..Default::default()
    };
    assert_eq!(w.resolve_args(&args, &[]).unwrap().orgs[0].org_key, "EONLY");
}

#[test]
fn credentials_file_syntax_error_names_file_and_line() {
    let w = World::new();
    let c = canary();
    w.secret(
        &w.home_creds(),
        &format!("[default]\nurl = https://x\n{c}\n"),
        0o600,
    );
    let e = w.resolve(&[]).unwrap_err();
    assert!(matches!(e, ConfigError::Syntax { line: 3, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{}:3:", w.home_creds().display())),
        "{msg}"
    );
    assert!(!msg.contains(&c) && !format!("{e:?}").contains(&c));
}

#[test]
fn unused_sdk_keys_are_accepted_and_proxy_warns() {
    let w = World::new();
    w.secret(
        &w.home_creds(),
        "[default]\nurl=https://x.example\ntoken=A/B\norg_key=K\nssl_verify=True\nssl_verify_hostname=yes\n\
         ssl_force_tls_1_2=1\nproxy=http://proxy:3128\nignore_system_proxy=off\nintegration=mytool\n\
         default_timeout=60000\n",
        0o600,
    );
    let r = w.resolve(&[]).unwrap();
    assert_eq!(r.orgs[0].org_key, "K");
    assert!(
        r.warnings.iter().any(|m| m.contains("proxy")),
        "{:?}",
        r.warnings
    );
}

// ---------------------------------------------------------------------------------------------
// Permissions (B1)

#[test]
fn credentials_file_mode_matrix() {
    for (mode, ok) in [
        (0o600, true),
        (0o400, true),
        (0o640, false),
        (0o644, false),
        (0o660, false),
        (0o604, false),
    ] {
        let w = World::new();
        w.secret(
            &w.home_creds(),
            &profile("default", "https://x.example", "A/B", "K"),
            mode,
        );
        let res = w.resolve(&[]);
        if ok {
            assert!(res.is_ok(), "mode {mode:o}: {:?}", res.err());
        } else {
            let e = res.expect_err(&format!("mode {mode:o} must be refused"));
            let msg = e.to_string();
            let p = w.home_creds().display().to_string();
            assert!(
                matches!(e, ConfigError::InsecurePermissions { .. }),
                "{e:?}"
            );
            assert!(msg.contains(&format!("(mode 0{mode:o})")), "{msg}");
            assert!(msg.contains(&format!("fix with: chmod 600 {p}")), "{msg}");
            assert!(
                msg.starts_with(&format!("credentials file {p} is ")),
                "{msg}"
            );
        }
    }
}

#[test]
fn credentials_directory_mode_matrix() {
    for (mode, ok) in [
        (0o700, true),
        (0o500, true),
        (0o750, false),
        (0o755, false),
        (0o770, false),
        (0o777, false),
    ] {
        let w = World::new();
        w.secret(
            &w.home_creds(),
            &profile("default", "https://x.example", "A/B", "K"),
            0o600,
        );
        let dir = w.home.join(".carbonblack");
        chmod(&dir, mode);
        let res = w.resolve(&[]);
        chmod(&dir, 0o700);
        if ok {
            assert!(res.is_ok(), "dir mode {mode:o}: {:?}", res.err());
        } else {
            let e = res.expect_err(&format!("dir mode {mode:o} must be refused"));
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("fix with: chmod 700 {}", dir.display())),
                "{msg}"
            );
            assert!(msg.contains(&format!("(mode 0{mode:o})")), "{msg}");
        }
    }
}

#[test]
fn token_file_and_inline_token_config_are_permission_checked() {
    // token_file 0644 -> refused.
    let w = World::new();
    let tf = w.home.join("secrets/t.token");
    w.secret(&tf, "A/B\n", 0o644);
    w.write_config(&format!(
        "[[org]]\nname=\"A\"\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken_file=\"{}\"\n",
        tf.display()
    ));
    let msg = w.resolve(&[]).unwrap_err().to_string();
    assert!(
        msg.contains(&format!("token file {} is readable", tf.display())),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("chmod 600 {}", tf.display())),
        "{msg}"
    );

    // Config with an inline token, 0644 -> refused, suggests token_file.
    let w = World::new();
    w.write_config(
        "[[org]]\nname=\"A\"\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"A/B\"\n",
    );
    chmod(&w.config(), 0o644);
    let msg = w.resolve(&[]).unwrap_err().to_string();
    assert!(
        msg.contains(&format!("chmod 600 {}", w.config().display())),
        "{msg}"
    );
    assert!(msg.contains("token_file"), "{msg}");

    // Config without a token needs no check: 0644 in a 0755 directory is fine.
    let w = World::new();
    w.write_config("read_only = true\n");
    chmod(&w.config(), 0o644);
    chmod(w.config().parent().unwrap(), 0o755);
    w.secret(
        &w.home_creds(),
        &profile("default", "https://x.example", "A/B", "K"),
        0o600,
    );
    assert!(w.resolve(&[]).unwrap().config.read_only);
}

#[test]
fn owner_other_than_euid_is_refused() {
    if !is_root() {
        eprintln!("skipped: chown to nobody needs root (CI runs as root)");
        return;
    }
    // File owned by nobody (65534).
    let w = World::new();
    w.secret(
        &w.home_creds(),
        &profile("default", "https://x.example", "A/B", "K"),
        0o600,
    );
    std::os::unix::fs::chown(w.home_creds(), Some(65534), Some(65534)).unwrap();
    let msg = w.resolve(&[]).unwrap_err().to_string();
    assert!(
        msg.contains("owned by uid 65534, not by you (uid 0)"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("chown 0 {}", w.home_creds().display())),
        "{msg}"
    );

    // Directory owned by nobody, file owned by us.
    let w = World::new();
    w.secret(
        &w.home_creds(),
        &profile("default", "https://x.example", "A/B", "K"),
        0o600,
    );
    let dir = w.home.join(".carbonblack");
    std::os::unix::fs::chown(&dir, Some(65534), None).unwrap();
    let msg = w.resolve(&[]).unwrap_err().to_string();
    assert!(
        msg.contains(&format!("directory {}", dir.display())),
        "{msg}"
    );
    assert!(msg.contains("owned by uid 65534"), "{msg}");
}

#[test]
fn symlinked_credentials_check_the_target_directory_too() {
    let w = World::new();
    let real = w.home.join("shared/creds.cbc");
    w.secret(
        &real,
        &profile("default", "https://x.example", "A/B", "K"),
        0o600,
    );
    chmod(real.parent().unwrap(), 0o777);
    let link_dir = w.home.join(".carbonblack");
    fs::create_dir(&link_dir).unwrap();
    chmod(&link_dir, 0o700);
    std::os::unix::fs::symlink(&real, w.home_creds()).unwrap();
    let msg = w.resolve(&[]).unwrap_err().to_string();
    assert!(
        msg.contains(&format!("chmod 700 {}", real.parent().unwrap().display())),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------
// TLS rules (B3, config side)

#[test]
fn http_urls_are_refused_naming_the_source() {
    // Config file: names file and line.
    let w = World::new();
    w.write_config(
        "\n[[org]]\nname=\"A\"\nurl = \"http://a.example\"\norg_key=\"K\"\ntoken=\"A/B\"\n",
    );
    let msg = w.resolve(&[]).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("{}:4:7 [[org]] #1 (A)", w.config().display())),
        "{msg}"
    );
    assert!(
        msg.contains("http://") && msg.contains("HTTPS only"),
        "{msg}"
    );

    // Environment.
    let w = World::new();
    let msg = w
        .resolve(&[
            ("CBC_URL", "http://e.example"),
            ("CBC_TOKEN", "A/B"),
            ("CBC_ORG_KEY", "K"),
        ])
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("environment CBC_URL: "), "{msg}");

    // Profile.
    let w = World::new();
    w.secret(
        &w.home_creds(),
        &profile("default", "http://p.example", "A/B", "K"),
        0o600,
    );
    let msg = w.resolve(&[]).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("{}:2 profile [default]", w.home_creds().display())),
        "{msg}"
    );
}

#[test]
fn disabling_tls_verification_is_refused() {
    for key in ["ssl_verify", "ssl_verify_hostname"] {
        let w = World::new();
        w.secret(
            &w.home_creds(),
            &format!(
                "{}{key} = False\n",
                profile("default", "https://x.example", "A/B", "K")
            ),
            0o600,
        );
        let e = w.resolve(&[]).unwrap_err();
        assert!(
            matches!(e, ConfigError::TlsVerificationDisabled { .. }),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("{key}=false is not supported")),
            "{msg}"
        );
        assert!(msg.contains("ssl_cert_file"), "{msg}");
        assert!(
            msg.contains(&format!("{}:5", w.home_creds().display())),
            "{msg}"
        );
    }
    let w = World::new();
    let e = w
        .resolve(&[
            ("CBC_URL", "https://e.example"),
            ("CBC_TOKEN", "A/B"),
            ("CBC_ORG_KEY", "K"),
            ("CBC_SSL_VERIFY", "false"),
        ])
        .unwrap_err();
    assert!(
        matches!(e, ConfigError::TlsVerificationDisabled { .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("CBC_SSL_VERIFY"));
}

#[test]
fn ca_file_sources_and_cli_override() {
    let w = World::new();
    let profile_ca = w.home.join("profile-ca.pem");
    let cli_ca = w.cwd.join("cli-ca.pem");
    fs::write(&profile_ca, pem_cert()).unwrap();
    fs::write(&cli_ca, pem_cert()).unwrap();
    w.secret(
        &w.home_creds(),
        &format!(
            "{}ssl_cert_file = {}\n",
            profile("default", "https://x.example", "A/B", "K"),
            profile_ca.display()
        ),
        0o600,
    );
    let r = w.resolve(&[]).unwrap();
    assert_eq!(r.orgs[0].ca_file.as_deref(), Some(profile_ca.as_path()));

    let args = CredentialArgs {
        ca_file: Some("cli-ca.pem".into()),
        ..Default::default()
    };
    let r = w.resolve_args(&args, &[]).unwrap();
    assert_eq!(
        r.orgs[0].ca_file.as_deref(),
        Some(cli_ca.as_path()),
        "--ca-file wins, relative to cwd"
    );

    // Config ca_file, relative to the config directory.
    let w2 = World::new();
    let cfg_ca = w2.config().parent().unwrap().join("ca.pem");
    w2.write_config(
        "[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"A/B\"\nca_file=\"ca.pem\"\n",
    );
    fs::write(&cfg_ca, pem_cert()).unwrap();
    assert_eq!(
        w2.resolve(&[]).unwrap().orgs[0].ca_file.as_deref(),
        Some(cfg_ca.as_path())
    );

    // Missing / not-PEM CA files are errors naming the source.
    fs::write(&cfg_ca, "not a certificate").unwrap();
    let msg = w2.resolve(&[]).unwrap_err().to_string();
    assert!(
        msg.contains("holds no PEM certificate") && msg.contains("[[org]] #1"),
        "{msg}"
    );
    let args = CredentialArgs {
        ca_file: Some("/nonexistent/ca.pem".into()),
        ..Default::default()
    };
    let msg = w.resolve_args(&args, &[]).unwrap_err().to_string();
    assert!(
        msg.starts_with("--ca-file: CA file /nonexistent/ca.pem"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------
// Config file errors

#[test]
fn broken_toml_names_file_and_line() {
    let w = World::new();
    w.write_config("read_only = false\n[sla]\nwarning_min = 20\ncritical_min = = 3\n");
    let e = w.resolve(&[]).unwrap_err();
    assert!(matches!(e, ConfigError::Syntax { line: 4, .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&format!("{}:4:", w.config().display())),
        "{e}"
    );

    // A type error is reported at the value.
    w.write_config("[poll]\n\ninterval_s = \"fast\"\n");
    let e = w.resolve(&[]).unwrap_err();
    match &e {
        ConfigError::Syntax { line, column, .. } => assert_eq!((*line, *column), (3, 14), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn org_entry_rules() {
    let cases: &[(&str, &str)] = &[
        (
            "[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"A/B\"\ntoken_file=\"/t\"\n",
            "use exactly one",
        ),
        (
            "[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\n",
            "has no token source",
        ),
        ("[[org]]\norg_key=\"K\"\ntoken=\"A/B\"\n", "has no url"),
        (
            "[[org]]\nprofile=\"p\"\nurl=\"https://a.example\"\n",
            "the profile supplies url",
        ),
        (
            "[[org]]\nname=\"A\"\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"A/B\"\n\
             [[org]]\nname=\"A\"\nurl=\"https://b.example\"\norg_key=\"L\"\ntoken=\"A/B\"\n",
            "already used by [[org]] #1",
        ),
        (
            "[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"A/B\"\ntimezone=\"Mars/Olympus\"\n",
            "unknown time zone",
        ),
        (
            "[[org]]\nurl=\"https://a.example\"\norg_key=\"K/1\"\ntoken=\"A/B\"\n",
            "org_key must be",
        ),
        (
            "[sla]\nwarning_min = 5\ncritical_min = 10\n",
            "critical_min (10) is larger",
        ),
        ("[poll]\ninterval_s = 0\n", "interval_s must be at least 1"),
    ];
    for (toml, want) in cases {
        let w = World::new();
        w.write_config(toml);
        let msg = w.resolve(&[]).unwrap_err().to_string();
        assert!(msg.contains(want), "{toml:?}\n-> {msg}");
        assert!(msg.starts_with(&w.config().display().to_string()), "{msg}");
    }
}

#[test]
fn unknown_keys_are_warnings_with_lines() {
    let w = World::new();
    w.write_config(
        "analyst = \"a\"\ncolour = \"red\"\n[sla]\nwarn_min = 3\n[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"A/B\"\ncafile=\"x\"\n",
    );
    let r = w.resolve(&[]).unwrap();
    let p = w.config().display().to_string();
    assert!(
        r.warnings.contains(&format!(
            "{p}:2:1: unknown key `colour` ignored (not a socdeck setting in this version)"
        )),
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings
            .iter()
            .any(|m| m.starts_with(&format!("{p}:4:1: unknown key `warn_min` in [sla]"))),
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings
            .iter()
            .any(|m| m.starts_with(&format!("{p}:9:1: unknown key `cafile` in [[org]] #1"))),
        "{:?}",
        r.warnings
    );
}

#[test]
fn explicit_config_must_exist_but_default_may_not() {
    let w = World::new();
    let args = CredentialArgs {
        config: Some("nope.toml".into()),
        ..Default::default()
    };
    let msg = w.resolve_args(&args, &[]).unwrap_err().to_string();
    assert!(
        msg.contains(&w.cwd.join("nope.toml").display().to_string()),
        "{msg}"
    );

    // Default path absent: defaults, and then the no-orgs error.
    let e = w.resolve(&[]).unwrap_err();
    assert!(matches!(e, ConfigError::NoOrgs { .. }), "{e:?}");
    assert_eq!(config_path(&w.env(&[]), None).unwrap(), w.config());
}

#[test]
fn no_orgs_anywhere_explains_the_three_ways() {
    let w = World::new();
    let msg = w.resolve(&[]).unwrap_err().to_string();
    for want in [
        "--profile NAME",
        "CBC_URL, CBC_TOKEN and CBC_ORG_KEY",
        "[[org]]",
        "--demo",
    ] {
        assert!(msg.contains(want), "{want} missing in: {msg}");
    }
    // Profiles exist but none is [default]: say so.
    w.secret(
        &w.home_creds(),
        &profile("prod", "https://x.example", "A/B", "K"),
        0o600,
    );
    let msg = w.resolve(&[]).unwrap_err().to_string();
    assert!(
        msg.contains("no [default] profile but has profiles: [prod]"),
        "{msg}"
    );
}

#[test]
fn token_file_with_trailing_newline_works() {
    for content in ["TOK/ID\n", "TOK/ID\r\n", "  TOK/ID  \n\n"] {
        let w = World::new();
        let tf = w.config().parent().unwrap().join("acme.token");
        w.write_config("[[org]]\nname=\"Acme\"\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken_file=\"acme.token\"\n");
        w.secret(&tf, content, 0o600);
        let r = w.resolve(&[]).unwrap();
        assert_eq!(r.orgs[0].token.expose(), "TOK/ID", "{content:?}");
    }
    // Missing token file names the config line.
    let w = World::new();
    w.write_config("[[org]]\nname=\"Acme\"\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken_file=\"missing.token\"\n");
    let msg = w.resolve(&[]).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("{}:5:12 [[org]] #1 (Acme)", w.config().display())),
        "{msg}"
    );
    assert!(msg.contains("does not exist"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// B2: the token never appears in errors or Debug output

#[test]
fn token_canary_never_appears_in_errors_or_debug() {
    let c = canary();
    let mut outputs: Vec<String> = Vec::new();
    let mut record_err = |what: &str, r: Result<Resolved, ConfigError>| {
        let e = r.expect_err(what);
        outputs.push(format!("{what}: {e}"));
        outputs.push(format!("{what}: {e:?}"));
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            outputs.push(format!("{what}: source {s} / {s:?}"));
            src = s.source();
        }
    };

    // Insecure credentials file.
    let w = World::new();
    w.secret(
        &w.home_creds(),
        &profile("default", "https://x.example", &c, "K"),
        0o644,
    );
    record_err("insecure creds", w.resolve(&[]));
    // Insecure credentials directory.
    chmod(&w.home_creds(), 0o600);
    chmod(w.home_creds().parent().unwrap(), 0o777);
    record_err("insecure creds dir", w.resolve(&[]));
    // ssl_verify=false, http URL, bad org key, missing org key in a profile with the canary.
    for extra in [
        format!(
            "{}ssl_verify=false\n",
            profile("default", "https://x.example", &c, "K")
        ),
        profile("default", "http://x.example", &c, "K"),
        profile("default", "https://x.example", &c, "K/!"),
        format!("[default]\nurl=https://x.example\ntoken={c}\n"),
        format!("[default]\ntoken={c}\ntoken={c}\n"),
        format!("token={c}\n[default]\n"),
        format!("[default]\n{c}\n"),
        format!("[default]\nurl=https://x\ntoken={c} {c}\norg_key=K\n"),
    ] {
        let w = World::new();
        w.secret(&w.home_creds(), &extra, 0o600);
        record_err("profile case", w.resolve(&[]));
        let args = CredentialArgs {
            profile: Some("missing".into()),
            ..Default::default()
        };
        record_err("missing profile", w.resolve_args(&args, &[]));
    }
    // Environment cases.
    let w = World::new();
    for vars in [
        vec![
            ("CBC_URL", "http://x.example"),
            ("CBC_TOKEN", c.as_str()),
            ("CBC_ORG_KEY", "K"),
        ],
        vec![("CBC_URL", "https://x.example"), ("CBC_TOKEN", c.as_str())],
        vec![
            ("CBC_URL", "https://x.example"),
            ("CBC_TOKEN", c.as_str()),
            ("CBC_ORG_KEY", "K"),
            ("CBC_SSL_VERIFY", "0"),
        ],
        vec![
            ("CBC_URL", "https://x.example"),
            ("CBC_TOKEN", &format!("{c} x")),
            ("CBC_ORG_KEY", "K"),
        ],
    ] {
        record_err("env case", w.resolve(&vars));
    }
    // Config cases: inline token in an insecure file, broken TOML around the token, token in a
    // wrongly typed key, bad token_file content, insecure token_file.
    let tomls = [
        (
            format!("[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"{c}\"\n"),
            0o644,
        ),
        (
            format!("[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"{c}\" junk\n"),
            0o600,
        ),
        (
            format!("[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"{c}\n"),
            0o600,
        ),
        (format!("read_only = \"{c}\"\n"), 0o600),
        (format!("[sla]\nwarning_min = \"{c}\"\n"), 0o600),
        (
            format!(
                "[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"{c} with space\"\n"
            ),
            0o600,
        ),
        (
            format!("[[org]]\nurl=\"http://a.example\"\norg_key=\"K\"\ntoken=\"{c}\"\n"),
            0o600,
        ),
        (
            format!(
                "[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"{c}\"\ntoken=\"{c}\"\n"
            ),
            0o600,
        ),
        (
            format!(
                "[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"{c}\"\ntoken_file=\"x\"\n"
            ),
            0o600,
        ),
    ];
    for (toml, mode) in &tomls {
        let w = World::new();
        w.write_config(toml);
        chmod(&w.config(), *mode);
        record_err("config case", w.resolve(&[]));
    }
    for (content, mode) in [(format!("{c}\n{c}\n"), 0o600), (format!("{c}\n"), 0o640)] {
        let w = World::new();
        let tf = w.home.join("s/t.token");
        w.secret(&tf, &content, mode);
        w.write_config(&format!(
            "[[org]]\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken_file=\"{}\"\n",
            tf.display()
        ));
        record_err("token_file case", w.resolve(&[]));
    }

    // Successful loads: Debug of everything returned.
    let w = World::new();
    let tf = w.home.join("s/t.token");
    w.secret(&tf, &format!("{c}\n"), 0o600);
    w.secret(
        &w.home_creds(),
        &profile("p", "https://p.example", &c, "P"),
        0o600,
    );
    w.write_config(&format!(
        "[[org]]\nname=\"a\"\nurl=\"https://a.example\"\norg_key=\"K\"\ntoken=\"{c}\"\n\
         [[org]]\nname=\"b\"\nurl=\"https://b.example\"\norg_key=\"K\"\ntoken_file=\"{}\"\n\
         [[org]]\nname=\"c\"\nprofile=\"p\"\n",
        tf.display()
    ));
    let env_vars = [("SOME_VAR", c.as_str())];
    let r = w.resolve(&env_vars).unwrap();
    assert_eq!(r.orgs.len(), 3);
    assert!(r.orgs.iter().all(|o| o.token.expose() == c));
    outputs.push(format!("{r:?}"));
    outputs.push(format!("{:?}", w.env(&env_vars)));
    outputs.push(r.warnings.join("\n"));
    let r = w
        .resolve(&[
            ("CBC_URL", "https://e.example"),
            ("CBC_TOKEN", &c),
            ("CBC_ORG_KEY", "E"),
        ])
        .unwrap();
    outputs.push(format!("{r:?}"));
    outputs.push(r.warnings.join("\n"));

    assert!(
        outputs.len() > 60,
        "only {} outputs collected",
        outputs.len()
    );
    for out in &outputs {
        assert!(!out.contains(&c), "token leaked: {out}");
        assert!(!out.contains("CANARY"), "token prefix leaked: {out}");
    }
}
