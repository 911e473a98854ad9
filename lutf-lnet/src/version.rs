//! Lustre versions and the liblnetconfig ABI each one ships.
//!
//! `liblnetconfig.so.4` keeps its file name across releases but not its ABI, so the version
//! found on a node picks the declarations to call it with. Releases map by their
//! major.minor; a development build (patch level 50 and up, as in `2.16.55`) leads to the
//! next release and gets that release's ABI. An ABI can always be forced with
//! `Abi::from_str("2.16")` for installs that report something odd.

use std::fmt;
use std::str::FromStr;

/// A liblnetconfig ABI that lutf can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Abi {
    /// Lustre 2.15: `config_ni(.., cpp, seq_no, ..)`, `config_route(.., sen, ..)`,
    /// `enable_routing`, `lustre_yaml_*` on a file path, `LUSTRE_CFG_RC_*` codes.
    V2_15,
    /// Lustre 2.16: no `cpp`, `lustre_yaml_*` on a buffer, negative errno codes, 128-byte
    /// interface names, larger LND tunables; still `sen` and `enable_routing`.
    V2_16,
    /// Lustre 2.17 and later: no `sen`, `config_routing`.
    V2_17Plus,
}

impl Abi {
    /// Every supported ABI, oldest first.
    pub const ALL: [Abi; 3] = [Abi::V2_15, Abi::V2_16, Abi::V2_17Plus];

    /// The name of the ABI's declaration header and stand-in library: "2.15", "2.16", "2.17".
    pub fn header_name(self) -> &'static str {
        match self {
            Abi::V2_15 => "2.15",
            Abi::V2_16 => "2.16",
            Abi::V2_17Plus => "2.17",
        }
    }

    /// The ABI a Lustre version ships, or why there is none.
    pub fn for_version(version: &LustreVersion) -> Result<Abi, UnsupportedVersion> {
        if version.major != 2 {
            return Err(UnsupportedVersion::UnknownMajor);
        }
        // x.y.50 and later are development builds towards x.(y+1).
        let minor = if version.patch >= 50 {
            version.minor + 1
        } else {
            version.minor
        };
        match minor {
            0..=14 => Err(UnsupportedVersion::TooOld),
            15 => Ok(Abi::V2_15),
            16 => Ok(Abi::V2_16),
            _ => Ok(Abi::V2_17Plus),
        }
    }
}

impl fmt::Display for Abi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Abi::V2_15 => "2.15",
            Abi::V2_16 => "2.16",
            Abi::V2_17Plus => "2.17+",
        })
    }
}

/// Why a version has no ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsupportedVersion {
    /// Not a Lustre 2.x version.
    UnknownMajor,
    /// Older than 2.15, the oldest ABI lutf knows.
    TooOld,
}

/// An ABI name that is not one of "2.15", "2.16", "2.17" (or "2.17+", or a later version).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown liblnetconfig ABI {0:?}: expected 2.15, 2.16 or 2.17 (2.17 covers every later version)")]
pub struct UnknownAbi(pub String);

impl FromStr for Abi {
    type Err = UnknownAbi;

    /// Accepts an ABI name ("2.15", "2.16", "2.17", "2.17+") or any version it would pick
    /// ("2.15.4", "2.18").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().trim_end_matches('+');
        let version: LustreVersion = t.parse().map_err(|_| UnknownAbi(s.to_owned()))?;
        Abi::for_version(&version).map_err(|_| UnknownAbi(s.to_owned()))
    }
}

/// A Lustre version as `lnetctl`, sysfs or a package reports it ("2.15.4", "2.17.57",
/// "2.15.4-1.el8", "v2_15_4"): its leading numbers, and the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LustreVersion {
    /// 2 for every supported release.
    pub major: u32,
    /// The release series: 15, 16, 17, ...
    pub minor: u32,
    /// The patch level (0 when absent); 50 and up marks a development build.
    pub patch: u32,
    /// The text it was parsed from, trimmed.
    pub raw: String,
}

/// Text that holds no `MAJOR.MINOR` version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no Lustre version (MAJOR.MINOR[.PATCH]) in {0:?}")]
pub struct NotAVersion(pub String);

impl FromStr for LustreVersion {
    type Err = NotAVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let raw = s.trim();
        // The first token that starts with a digit (after an optional 'v'), e.g. the
        // "2.17.57" of "lnetctl 2.17.57"; '_' separates numbers in git tags (v2_15_4).
        let token = raw
            .split(|c: char| c.is_whitespace() || c == ':' || c == '=')
            .map(|t| t.strip_prefix('v').unwrap_or(t))
            .find(|t| t.starts_with(|c: char| c.is_ascii_digit()))
            .ok_or_else(|| NotAVersion(raw.to_owned()))?;
        let mut numbers = token
            .split(['.', '_'])
            .map(|part| {
                let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<u32>().ok()
            })
            .take(3);
        let major = numbers.next().flatten();
        let minor = numbers.next().flatten();
        let patch = numbers.next().flatten().unwrap_or(0);
        match (major, minor) {
            (Some(major), Some(minor)) => Ok(LustreVersion {
                major,
                minor,
                patch,
                raw: raw.to_owned(),
            }),
            _ => Err(NotAVersion(raw.to_owned())),
        }
    }
}

impl fmt::Display for LustreVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abi(v: &str) -> Result<Abi, UnsupportedVersion> {
        Abi::for_version(&v.parse().unwrap())
    }

    #[test]
    fn releases_pick_their_abi() {
        assert_eq!(abi("2.15.0"), Ok(Abi::V2_15));
        assert_eq!(abi("2.15.7"), Ok(Abi::V2_15));
        assert_eq!(abi("2.16.1"), Ok(Abi::V2_16));
        assert_eq!(abi("2.17.0"), Ok(Abi::V2_17Plus));
        assert_eq!(abi("2.19.3"), Ok(Abi::V2_17Plus));
    }

    #[test]
    fn development_builds_pick_the_release_they_lead_to() {
        assert_eq!(abi("2.15.55"), Ok(Abi::V2_16));
        assert_eq!(abi("2.16.50"), Ok(Abi::V2_17Plus));
        assert_eq!(abi("2.17.57"), Ok(Abi::V2_17Plus)); // the fixtures' build
        assert_eq!(abi("2.14.50"), Ok(Abi::V2_15));
    }

    #[test]
    fn old_and_foreign_versions_have_no_abi() {
        assert_eq!(abi("2.14.0"), Err(UnsupportedVersion::TooOld));
        assert_eq!(abi("2.12.9"), Err(UnsupportedVersion::TooOld));
        assert_eq!(abi("3.0.0"), Err(UnsupportedVersion::UnknownMajor));
    }

    #[test]
    fn versions_parse_from_what_nodes_print() {
        for (text, want) in [
            ("2.17.57\n", (2, 17, 57)),
            ("lnetctl 2.15.4", (2, 15, 4)),
            ("2.15.4-1.el8", (2, 15, 4)),
            ("2.16.1_12_g3f1c2e0", (2, 16, 1)),
            ("v2_15_4", (2, 15, 4)),
            ("2.16", (2, 16, 0)),
            ("lustre-client: 2.15.3", (2, 15, 3)),
        ] {
            let v: LustreVersion = text.parse().unwrap();
            assert_eq!((v.major, v.minor, v.patch), want, "{text:?}");
        }
        for bad in ["", "lnetctl", "version unknown", "2", "x.y.z"] {
            assert!(bad.parse::<LustreVersion>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_override_accepts_abi_names_and_versions() {
        assert_eq!("2.15".parse(), Ok(Abi::V2_15));
        assert_eq!("2.16".parse(), Ok(Abi::V2_16));
        assert_eq!("2.17".parse(), Ok(Abi::V2_17Plus));
        assert_eq!("2.17+".parse(), Ok(Abi::V2_17Plus));
        assert_eq!(" 2.18.1 ".parse(), Ok(Abi::V2_17Plus));
        let err = "2.14".parse::<Abi>().unwrap_err();
        assert!(err.to_string().contains("2.14"), "{err}");
        assert!("banana".parse::<Abi>().is_err());
        for abi in Abi::ALL {
            assert_eq!(abi.to_string().parse(), Ok(abi), "Display round-trips");
        }
    }
}
