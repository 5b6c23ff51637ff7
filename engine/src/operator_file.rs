//! Files the operator names on the command line (a plugin, a signature, a lock file, a key): read
//! whole, bounded, and never through a link or from a FIFO or device.

use std::path::Path;

/// Reads a regular file the operator named (a plugin, a signature, a lock file, a key), at most
/// `cap` bytes: opened `O_NOFOLLOW | O_NONBLOCK` (a symlink, a FIFO or a device is refused, never
/// followed or waited on), checked with `fstat`, read to the cap.
pub fn read(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc_flags())
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                std::io::Error::other("is a symbolic link (only regular files are read)")
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(
            "not a regular file (only regular files are read)",
        ));
    }
    if meta.len() > cap {
        return Err(std::io::Error::other(format!(
            "{} bytes, larger than the {cap} byte limit",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::other(format!(
            "larger than the {cap} byte limit"
        )));
    }
    Ok(bytes)
}

fn libc_flags() -> i32 {
    (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32
}
