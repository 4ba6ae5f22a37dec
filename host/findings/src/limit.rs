//! The size limit of an input file: scanner output is read whole (every
//! parser needs all of it), so a file past [`MAX_INPUT_BYTES`] is refused
//! with its size and the limit before anything is read, and a file that
//! grows while it is read (a pipe, a log still written) is refused once it
//! passes the limit, never read without bound.

use std::io::Read as _;
use std::path::Path;

use super::IngestError;

/// Largest input file: SARIF logs of large monorepos reach tens of MB.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// The text of `path`, refused past `limit` bytes.
pub fn read(path: &Path, file: &str, limit: u64) -> Result<String, IngestError> {
    let read_error = |source| IngestError::Read {
        file: file.to_string(),
        source,
    };
    let too_large = |bytes| IngestError::TooLarge {
        file: file.to_string(),
        bytes,
        limit,
    };
    let handle = std::fs::File::open(path).map_err(read_error)?;
    let declared = handle.metadata().map_err(read_error)?.len();
    if declared > limit {
        return Err(too_large(declared));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    handle
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.utf8_error(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_past_the_limit_is_refused_before_it_is_read() {
        let dir = std::env::temp_dir().join(format!("ingest-limit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.sarif");
        std::fs::write(&path, vec![b' '; 2048]).unwrap();
        let err = read(&path, "big.sarif", 1024).unwrap_err();
        assert_eq!(
            err.to_string(),
            "big.sarif is 2048 bytes, larger than the 1024 an input file may have"
        );
        assert_eq!(read(&path, "big.sarif", 2048).unwrap().len(), 2048);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
