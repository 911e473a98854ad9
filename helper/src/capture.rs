//! Bounded output capture: keep the head and the tail of a stream, count what is dropped.
//!
//! A command may write gigabytes; the reply must stay small. The first half of the limit
//! keeps the beginning (how it started), the second half the end (how it failed), and a
//! marker line between them says how many bytes were left out.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use lutf_protocol::{Bytes, Captured};

/// The line put between head and tail when bytes were dropped.
pub fn marker(dropped: u64) -> String {
    format!("\n[lutf: {dropped} bytes dropped]\n")
}

/// A stream being captured, keeping at most `limit` bytes of it.
#[derive(Debug)]
pub struct Capture {
    head_limit: usize,
    tail_limit: usize,
    head: Vec<u8>,
    /// The last bytes seen: up to twice `tail_limit`, trimmed to `tail_limit` when it
    /// grows past that (plain copies, fast even in debug builds, amortised).
    tail: Vec<u8>,
    total: u64,
}

impl Capture {
    /// A capture keeping at most `limit` bytes (head and tail together).
    pub fn new(limit: u64) -> Capture {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let tail_limit = limit / 2;
        Capture {
            head_limit: limit - tail_limit,
            tail_limit,
            head: Vec::new(),
            tail: Vec::new(),
            total: 0,
        }
    }

    /// Takes the next bytes of the stream.
    pub fn push(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.head.len() < self.head_limit {
            let n = data.len().min(self.head_limit - self.head.len());
            self.head.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        if self.tail_limit == 0 || data.is_empty() {
            return;
        }
        if data.len() >= self.tail_limit {
            self.tail.clear();
            self.tail
                .extend_from_slice(&data[data.len() - self.tail_limit..]);
        } else {
            self.tail.extend_from_slice(data);
            if self.tail.len() > 2 * self.tail_limit {
                self.trim_tail();
            }
        }
    }

    fn trim_tail(&mut self) {
        let excess = self.tail.len().saturating_sub(self.tail_limit);
        self.tail.drain(..excess);
    }

    /// What was kept, with the marker when something was dropped.
    pub fn finish(mut self) -> Captured {
        self.trim_tail();
        let dropped = self.total - (self.head.len() + self.tail.len()) as u64;
        let mut data = self.head;
        if dropped > 0 {
            data.extend_from_slice(marker(dropped).as_bytes());
        }
        data.extend_from_slice(&self.tail);
        Captured {
            data: Bytes(data),
            dropped,
        }
    }
}

/// Reads a file bounded as [`Capture`] would have kept it, without reading the middle.
/// A missing file reads as empty (a job that has not written anything yet).
pub fn from_file(path: &Path, limit: u64) -> std::io::Result<Captured> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Captured::default()),
        Err(e) => return Err(e),
    };
    let size = file.metadata()?.len();
    let mut capture = Capture::new(limit);
    if size <= limit {
        let mut all = Vec::new();
        file.read_to_end(&mut all)?;
        capture.push(&all);
        return Ok(capture.finish());
    }
    // The file may grow while we read: read exactly the head and tail of `size` bytes.
    let tail_len = limit / 2;
    let head_len = limit - tail_len;
    let mut head = vec![0; head_len as usize];
    file.read_exact(&mut head)?;
    file.seek(SeekFrom::Start(size - tail_len))?;
    let mut tail = vec![0; tail_len as usize];
    file.read_exact(&mut tail)?;
    let dropped = size - limit;
    head.extend_from_slice(marker(dropped).as_bytes());
    head.extend_from_slice(&tail);
    Ok(Captured {
        data: Bytes(head),
        dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(limit: u64, chunks: &[&[u8]]) -> Captured {
        let mut c = Capture::new(limit);
        for ch in chunks {
            c.push(ch);
        }
        c.finish()
    }

    #[test]
    fn short_output_is_kept_whole() {
        let c = captured(10, &[b"abc", b"defg", b"hij"]);
        assert_eq!(c.data.as_slice(), b"abcdefghij");
        assert_eq!(c.dropped, 0);
    }

    #[test]
    fn long_output_keeps_head_and_tail_with_marker() {
        let c = captured(6, &[b"abcd", b"efgh", b"ij", b"kl"]);
        assert_eq!(c.dropped, 6);
        assert_eq!(
            String::from_utf8_lossy(c.data.as_slice()),
            "abc\n[lutf: 6 bytes dropped]\njkl"
        );
        // One big chunk, odd limit: the head gets the extra byte.
        let c = captured(5, &[b"0123456789"]);
        assert_eq!(
            String::from_utf8_lossy(c.data.as_slice()),
            "012\n[lutf: 5 bytes dropped]\n89"
        );
    }

    #[test]
    fn zero_limit_keeps_only_the_count() {
        let c = captured(0, &[b"abc"]);
        assert_eq!(c.dropped, 3);
        assert_eq!(c.data.as_slice(), marker(3).as_bytes());
        assert_eq!(captured(0, &[]).data.as_slice(), b"");
    }

    #[test]
    fn file_reads_like_a_capture() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        for limit in [0, 1, 7, 100, 9_999, 10_000, 20_000] {
            assert_eq!(
                from_file(&path, limit).unwrap(),
                captured(limit, &[&data[..3000], &data[3000..]]),
                "limit {limit}"
            );
        }
        assert_eq!(
            from_file(&dir.path().join("none"), 10).unwrap(),
            Captured::default()
        );
    }
}
