//! [`Bytes`]: arbitrary bytes that stay readable in YAML when they are text.

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that travel as a plain YAML string when they are UTF-8 and as
/// `{base64: "..."}` when they are not, so that arguments, environment values and
/// command output reach the other side unchanged, non-UTF-8 bytes included.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The bytes as text, with invalid UTF-8 replaced (for display only).
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    /// The raw bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

impl From<&str> for Bytes {
    fn from(s: &str) -> Self {
        Bytes(s.as_bytes().to_vec())
    }
}

impl From<String> for Bytes {
    fn from(s: String) -> Self {
        Bytes(s.into_bytes())
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Base64 {
    base64: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Wire {
    Text(String),
    Base64(Base64),
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            // NUL and other control bytes are valid UTF-8 but YAML cannot carry every one
            // of them in a plain string, so those go as base64 too.
            Ok(text)
                if !text
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) =>
            {
                s.serialize_str(text)
            }
            _ => Base64 {
                base64: base64::engine::general_purpose::STANDARD.encode(&self.0),
            }
            .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Wire::deserialize(d)? {
            Wire::Text(t) => Ok(Bytes(t.into_bytes())),
            Wire::Base64(b) => base64::engine::general_purpose::STANDARD
                .decode(b.base64.as_bytes())
                .map(Bytes)
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(b: &[u8]) -> Vec<u8> {
        let text = serde_yaml::to_string(&Bytes(b.to_vec())).unwrap();
        serde_yaml::from_str::<Bytes>(&text).unwrap().0
    }

    #[test]
    fn text_stays_text_and_binary_survives() {
        assert_eq!(
            serde_yaml::to_string(&Bytes::from("hi")).unwrap().trim(),
            "hi"
        );
        for sample in [
            &b"plain"[..],
            b"quotes ' \" $(x) `y` ; \n newline",
            b"\xff\xfe non-utf8",
            b"nul\0inside",
            b"\x1b[31mred\x1b[0m",
            b"",
            "ünïcödé".as_bytes(),
        ] {
            assert_eq!(round_trip(sample), sample);
        }
    }
}
