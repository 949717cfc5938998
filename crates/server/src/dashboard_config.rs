//! Settings of the dashboard: the operator password, from `--dashboard-password` /
//! `VOUCH_DASHBOARD_PASSWORD`, a file named by `--dashboard-password-file` /
//! `VOUCH_DASHBOARD_PASSWORD_FILE` (its first line), or `[dashboard] password` in the
//! configuration file, in that order. Without one, only secret keys sign in.

use std::path::PathBuf;

use clap::Args;
use serde::Deserialize;

/// Shortest operator password accepted.
const MIN_PASSWORD: usize = 12;

#[derive(Debug, Args, Default, Clone)]
pub struct DashboardArgs {
    /// Operator password of the dashboard (/dashboard): signs in to any configured account.
    #[arg(long, env = "VOUCH_DASHBOARD_PASSWORD", hide_env_values = true)]
    pub dashboard_password: Option<String>,
    /// A file whose first line is the dashboard's operator password.
    #[arg(long, env = "VOUCH_DASHBOARD_PASSWORD_FILE")]
    pub dashboard_password_file: Option<PathBuf>,
}

/// `[dashboard]` of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardFile {
    password: Option<String>,
}

/// The operator password, if one is configured; a short one is refused.
pub fn resolve(args: DashboardArgs, file: Option<DashboardFile>) -> Result<Option<String>, String> {
    let from_file = match &args.dashboard_password_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .lines()
                .next()
                .unwrap_or("")
                .to_owned(),
        ),
        None => None,
    };
    let password = args
        .dashboard_password
        .or(from_file)
        .or(file.and_then(|f| f.password))
        .filter(|p| !p.is_empty());
    match password {
        Some(p) if p.chars().count() < MIN_PASSWORD => Err(format!(
            "dashboard.password: use at least {MIN_PASSWORD} characters"
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flag_then_file_then_config_and_short_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "from-the-file-123\nignored\n").unwrap();
        let file = || {
            Some(DashboardFile {
                password: Some("from-the-config".into()),
            })
        };
        let args = |flag: Option<&str>, f: Option<&PathBuf>| DashboardArgs {
            dashboard_password: flag.map(str::to_owned),
            dashboard_password_file: f.cloned(),
        };
        assert_eq!(
            resolve(args(Some("from-the-flag-1"), Some(&path)), file()),
            Ok(Some("from-the-flag-1".into()))
        );
        assert_eq!(
            resolve(args(None, Some(&path)), file()),
            Ok(Some("from-the-file-123".into()))
        );
        assert_eq!(
            resolve(args(None, None), file()),
            Ok(Some("from-the-config".into()))
        );
        assert_eq!(resolve(args(None, None), None), Ok(None));
        assert_eq!(resolve(args(Some(""), None), None), Ok(None));
        assert!(resolve(args(Some("short"), None), None).is_err());
    }
}
