//! `worker --sandbox`: before it starts any thread or process, the worker confines itself, and
//! so everything it starts (bash, `--tool` commands), with Landlock (Linux 5.13 and later):
//! files may be written only beneath the work directory (and to device files such as
//! `/dev/null`), read and run only there and in the system's folders. The network is not
//! confined. Where the platform or kernel has no Landlock, `--sandbox` is refused, never
//! silently ignored.

use std::path::Path;

/// The folders the sandbox may read and run programs from: the system's.
pub const SYSTEM_FOLDERS: &[&str] = &[
    "/bin", "/sbin", "/usr", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/run", "/var",
    "/proc", "/sys",
];

/// Confines this process (and every thread and process it starts from now on) to `workdir`;
/// what is enforced, or why nothing can be.
#[cfg(target_os = "linux")]
pub fn confine(workdir: &Path) -> Result<&'static str, String> {
    use landlock::{
        path_beneath_rules, Access, AccessFs, PathBeneath, PathFd, Ruleset, RulesetAttr,
        RulesetCreatedAttr, RulesetError, RulesetStatus, ABI,
    };
    let abi = ABI::V5;
    let read = AccessFs::from_read(abi);
    let devices = read | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;
    let work = PathFd::new(workdir).map_err(|e| format!("{}: {e}", workdir.display()))?;
    let status = (|| -> Result<_, RulesetError> {
        Ruleset::default()
            .handle_access(AccessFs::from_all(abi))?
            .create()?
            .add_rules(path_beneath_rules(SYSTEM_FOLDERS, read))?
            .add_rules(path_beneath_rules(["/dev"], devices))?
            .add_rule(PathBeneath::new(work, AccessFs::from_all(abi)))?
            .restrict_self()
    })()
    .map_err(|e| format!("Landlock: {e}"))?;
    match status.ruleset {
        RulesetStatus::FullyEnforced => Ok("enforced"),
        RulesetStatus::PartiallyEnforced => {
            Ok("partly enforced: this kernel's Landlock lacks some of the rights")
        }
        _ => Err(
            "this kernel does not enforce Landlock (Linux 5.13 or later, with Landlock enabled, is needed)"
                .into(),
        ),
    }
}

/// Refuses: no Landlock here.
#[cfg(not(target_os = "linux"))]
pub fn confine(_workdir: &Path) -> Result<&'static str, String> {
    Err("Landlock is Linux's: there is no sandbox on this platform".into())
}
