//! The errors of the liblnetconfig layer: each names the node, and says what to do where
//! there is something to do.

use std::path::PathBuf;

use serde_yaml::Value;

use crate::version::Abi;

/// Why an LNet operation through liblnetconfig did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The library is not on the node.
    #[error("{library} not found: is Lustre installed on {node}? ({detail})")]
    LibraryMissing {
        /// The node.
        node: String,
        /// The file that was looked for.
        library: String,
        /// What the dynamic loader said.
        detail: String,
    },
    /// The library is there but cannot be loaded (a dependency is missing, ...).
    #[error("{library} cannot be loaded on {node}: {detail}")]
    LibraryUnloadable {
        /// The node.
        node: String,
        /// The library.
        library: String,
        /// What the dynamic loader said.
        detail: String,
    },
    /// The lnet module (or its device) is not there.
    #[error("LNet is not loaded on {node}: {} does not exist (load it with `modprobe lnet`)", missing.display())]
    NotLoaded {
        /// The node.
        node: String,
        /// The path that is missing (`/sys/module/lnet` or `/dev/lnet`).
        missing: PathBuf,
    },
    /// The node's Lustre version maps to no supported ABI.
    #[error("unknown Lustre version on {node}: {found}; supported: 2.15, 2.16, 2.17 and later (an ABI override, e.g. \"2.16\", forces one)")]
    UnknownVersion {
        /// The node.
        node: String,
        /// What was found, and where.
        found: String,
    },
    /// No source told the node's Lustre version.
    #[error("cannot tell the Lustre version on {node} ({tried}); is Lustre installed? (an ABI override, e.g. \"2.16\", forces one)")]
    NoVersion {
        /// The node.
        node: String,
        /// Every source tried and what it said.
        tried: String,
    },
    /// The library's symbols contradict the ABI it would be called with.
    #[error("{library} on {node} does not look like the {abi} ABI: {detail}; force the right one with an ABI override")]
    AbiMismatch {
        /// The node.
        node: String,
        /// The library.
        library: String,
        /// The ABI chosen.
        abi: Abi,
        /// What contradicts it.
        detail: String,
    },
    /// A call this library does not export.
    #[error("{op} on {node}: {library} has no {symbol}")]
    MissingSymbol {
        /// The node.
        node: String,
        /// The operation.
        op: String,
        /// The library.
        library: String,
        /// The missing function.
        symbol: String,
    },
    /// An argument is wrong (checked before calling the library).
    #[error("{op} on {node}: {reason}")]
    InvalidArgument {
        /// The node.
        node: String,
        /// The operation.
        op: String,
        /// What is wrong.
        reason: String,
    },
    /// The ABI has no way to do what was asked.
    #[error("{op} on {node}: not possible with the {abi} liblnetconfig ABI: {reason}")]
    Unsupported {
        /// The node.
        node: String,
        /// The operation.
        op: String,
        /// The ABI.
        abi: Abi,
        /// What is missing.
        reason: String,
    },
    /// A tree the library returned could not be read.
    #[error("{op} on {node}: unreadable result from liblnetconfig: {reason}")]
    BadTree {
        /// The node.
        node: String,
        /// The operation.
        op: String,
        /// Why.
        reason: String,
    },
    /// A local file operation failed (the 2.15 ABI takes YAML as a file).
    #[error("{op} on {node}: {source}")]
    Io {
        /// The node.
        node: String,
        /// The operation.
        op: String,
        /// The failure.
        source: std::io::Error,
    },
    /// The library refused or failed: its error tree, typed (boxed: it is large).
    #[error(transparent)]
    Lnet(Box<LnetError>),
}

impl From<LnetError> for Error {
    fn from(e: LnetError) -> Error {
        Error::Lnet(Box::new(e))
    }
}

/// A failure liblnetconfig reported: its return code and its error tree
/// (`CMD: [ENTITY: {errno, descr}]`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{op} failed on {node}: {description} ({})", self.code_text())]
pub struct LnetError {
    /// The node.
    pub node: String,
    /// The operation (the liblnetconfig function's name).
    pub op: String,
    /// The ABI it was called with (which says how to read the codes).
    pub abi: Abi,
    /// The function's return value.
    pub rc: i32,
    /// The `errno` of the error tree (the return value when the tree has none). Negative,
    /// as liblnetconfig reports it.
    pub errno: i64,
    /// The `descr` of the error tree, without the quotes liblnetconfig puts around it.
    pub description: String,
    /// The command of the tree (`add`, `del`, `show`, `configure`, ...).
    pub command: Option<String>,
    /// The entity of the tree (`net`, `route`, `peer_ni`, ...).
    pub entity: Option<String>,
    /// The whole error tree.
    pub tree: Value,
}

/// The names of Lustre 2.15's `LUSTRE_CFG_RC_*` codes, -1 to -10.
const CFG_RC_NAMES: [&str; 10] = [
    "LUSTRE_CFG_RC_BAD_PARAM",
    "LUSTRE_CFG_RC_MISSING_PARAM",
    "LUSTRE_CFG_RC_OUT_OF_RANGE_PARAM",
    "LUSTRE_CFG_RC_OUT_OF_MEM",
    "LUSTRE_CFG_RC_GENERIC_ERR",
    "LUSTRE_CFG_RC_NO_MATCH",
    "LUSTRE_CFG_RC_MATCH",
    "LUSTRE_CFG_RC_SKIP",
    "LUSTRE_CFG_RC_LAST_ELEM",
    "LUSTRE_CFG_RC_MARSHAL_FAIL",
];

impl LnetError {
    /// Builds the error of a call from its return code and error tree.
    #[cfg_attr(not(feature = "lnetconfig"), allow(dead_code))]
    pub(crate) fn from_tree(node: &str, op: &str, abi: Abi, rc: i32, tree: Option<Value>) -> Self {
        let tree = tree.unwrap_or(Value::Null);
        let entry = error_entries(&tree)
            .into_iter()
            .min_by_key(|e| e.errno == Some(0)); // the first failing entry, else the first
        let (command, entity, errno, description) = match entry {
            Some(e) => (
                Some(e.command),
                e.entity,
                e.errno.unwrap_or(i64::from(rc)),
                e.description.unwrap_or_default(),
            ),
            None => (None, None, i64::from(rc), String::new()),
        };
        let description = if description.is_empty() {
            "no description in the error tree".to_owned()
        } else {
            description
        };
        let errno = errno_named_by(&description)
            .filter(|named| *named != errno)
            .unwrap_or(errno);
        LnetError {
            node: node.to_owned(),
            op: op.to_owned(),
            abi,
            rc,
            errno,
            description,
            command,
            entity,
            tree,
        }
    }

    /// For the 2.15 ABI, the `LUSTRE_CFG_RC_*` name of the code (-1 to -10), which 2.15
    /// returns for its own checks (the same numbers are -EPERM to -ECHILD when a call fails
    /// in the kernel: 2.15 cannot tell them apart).
    pub fn cfg_code(&self) -> Option<&'static str> {
        if self.abi != Abi::V2_15 || !(-10..=-1).contains(&self.errno) {
            return None;
        }
        Some(CFG_RC_NAMES[(-self.errno - 1) as usize])
    }

    /// The system's text for `-errno` ("File exists"), when errno is an error number.
    pub fn errno_text(&self) -> Option<String> {
        let n = i32::try_from(-self.errno).ok().filter(|n| *n > 0)?;
        let text = std::io::Error::from_raw_os_error(n).to_string();
        // "File exists (os error 17)" -> "File exists"
        Some(match text.rfind(" (os error") {
            Some(i) => text[..i].to_owned(),
            None => text,
        })
    }

    fn code_text(&self) -> String {
        let mut s = format!("errno {}", self.errno);
        match (self.cfg_code(), self.errno_text()) {
            (Some(cfg), Some(sys)) => s.push_str(&format!(": {cfg}, or {sys}")),
            (Some(cfg), None) => s.push_str(&format!(": {cfg}")),
            (None, Some(sys)) => s.push_str(&format!(": {sys}")),
            (None, None) => {}
        }
        if i64::from(self.rc) != self.errno {
            s.push_str(&format!(", rc {}", self.rc));
        }
        s
    }
}

/// One entry of an error tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErrorEntry {
    pub command: String,
    pub entity: Option<String>,
    pub errno: Option<i64>,
    pub description: Option<String>,
}

/// The entries of an error tree or of an error document lnetctl printed. Two shapes exist:
/// `CMD: [{ENTITY: {errno, descr}}]` (liblnetconfig's trees, lnetctl's ioctl path) and
/// `CMD: [{ENTITY: null, errno, descr}]` (lnetctl's netlink path, 2.16+).
pub(crate) fn error_entries(tree: &Value) -> Vec<ErrorEntry> {
    let mut out = Vec::new();
    let Some(map) = tree.as_mapping() else {
        return out;
    };
    for (cmd, items) in map {
        let (Some(cmd), Some(items)) = (cmd.as_str(), items.as_sequence()) else {
            continue;
        };
        for item in items {
            let Some(item) = item.as_mapping() else {
                continue;
            };
            if item.contains_key("errno") {
                let entity = item
                    .iter()
                    .find(|(_, v)| v.is_null())
                    .and_then(|(k, _)| k.as_str().map(str::to_owned));
                out.push(entry(cmd, entity, item));
            } else {
                for (entity, fields) in item {
                    if let Some(fields) = fields.as_mapping().filter(|f| f.contains_key("errno")) {
                        out.push(entry(cmd, entity.as_str().map(str::to_owned), fields));
                    }
                }
            }
        }
    }
    out
}

fn entry(cmd: &str, entity: Option<String>, fields: &serde_yaml::Mapping) -> ErrorEntry {
    ErrorEntry {
        command: cmd.to_owned(),
        entity,
        errno: fields.get("errno").and_then(Value::as_i64),
        description: fields.get("descr").map(|d| match d {
            Value::String(s) => s.clone(),
            other => serde_yaml::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        }),
    }
}

/// The errno whose text ends a description, when one does: liblnetconfig keeps only
/// `strerror(errno)` of a failed ioctl in its message (`failed to ping NID: No route to
/// host`) and reports its own generic code (-EINVAL), while lnetctl reports the real errno
/// (-113). Taking the errno back from the text makes both paths agree.
fn errno_named_by(description: &str) -> Option<i64> {
    let text = description.trim().trim_matches('"').trim();
    let last = text.rsplit(": ").next()?.trim();
    if last.is_empty() || last == text {
        return None;
    }
    (1..=133).find_map(|n: i32| {
        let t = std::io::Error::from_raw_os_error(n).to_string();
        let t = t.rfind(" (os error").map_or(t.as_str(), |i| &t[..i]);
        (t == last).then_some(-i64::from(n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn the_failing_entry_wins_over_success_entries() {
        let t = tree(
            "show:\n- routing: {errno: 0, descr: success}\n- global: {errno: -2, descr: cannot get numa_range}\n",
        );
        let e = LnetError::from_tree("n1", "show", Abi::V2_17Plus, -2, Some(t));
        assert_eq!(e.errno, -2);
        assert_eq!(e.entity.as_deref(), Some("global"));
        assert_eq!(e.command.as_deref(), Some("show"));
        assert_eq!(e.description, "cannot get numa_range");
        let text = e.to_string();
        assert!(
            text.contains("n1") && text.contains("No such file or directory"),
            "{text}"
        );
    }

    #[test]
    fn the_netlink_shape_is_read_too() {
        let t = tree("add:\n- net: null\n  errno: -17\n  descr: cannot add LNet NI\n");
        let e = LnetError::from_tree("n1", "add_ni", Abi::V2_17Plus, -17, Some(t));
        assert_eq!((e.errno, e.entity.as_deref()), (-17, Some("net")));
        assert_eq!(e.errno_text().as_deref(), Some("File exists"));
    }

    #[test]
    fn codes_of_2_15_are_named_and_the_ambiguity_said() {
        let t = tree("add:\n- net: {errno: -2, descr: missing mandatory parameters}\n");
        let e = LnetError::from_tree("n1", "add_ni", Abi::V2_15, -2, Some(t.clone()));
        assert_eq!(e.cfg_code(), Some("LUSTRE_CFG_RC_MISSING_PARAM"));
        assert!(
            e.to_string()
                .contains("LUSTRE_CFG_RC_MISSING_PARAM, or No such file"),
            "{e}"
        );
        let e = LnetError::from_tree("n1", "add_ni", Abi::V2_16, -2, Some(t));
        assert_eq!(e.cfg_code(), None, "2.16 returns errno values");
    }

    #[test]
    fn a_failed_ping_reports_the_errno_its_text_names_as_lnetctl_does() {
        // What liblnetconfig 2.17.57 returned in the VMs for a NID nobody answers; lnetctl
        // reported -113 for the same ping.
        let t = tree(
            "manage:\n- ping:\n    errno: -22\n    descr: \"failed to ping 198.19.4.99@tcp: No route to host\"\n",
        );
        let e = LnetError::from_tree("vm1", "ping", Abi::V2_17Plus, -22, Some(t));
        assert_eq!(e.errno, -113, "{e}");
        // A description that names no errno, or the same one, keeps the tree's.
        let t = tree("add:\n- net: {errno: -17, descr: cannot add LNet NI}\n");
        let e = LnetError::from_tree("n1", "add_ni", Abi::V2_17Plus, -17, Some(t));
        assert_eq!(e.errno, -17);
        let t = tree("add:\n- net: {errno: -22, descr: 'bad: Invalid argument'}\n");
        let e = LnetError::from_tree("n1", "add_ni", Abi::V2_17Plus, -22, Some(t));
        assert_eq!(e.errno, -22);
    }

    #[test]
    fn a_missing_tree_still_gives_an_error() {
        let e = LnetError::from_tree("n1", "op", Abi::V2_16, -5, None);
        assert_eq!(e.errno, -5);
        assert!(e.to_string().contains("no description"), "{e}");
    }
}
