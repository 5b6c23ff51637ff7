//! The local container engine's API (Docker or Podman's Docker-compatible socket), spoken as
//! plain HTTP/1.1 over its Unix socket: image metadata, `docker save`'s stream (`GET
//! /images/NAME/get`) and a container's export stream (`GET /containers/ID/export`). Nothing is
//! pulled: an image the engine does not have is an error.
//!
//! The socket is `DOCKER_HOST` when it is `unix://PATH`, else `/var/run/docker.sock`. A
//! `tcp://` engine is refused (phipolicy does not speak TLS to engines; use `docker save` to an
//! archive and `--target docker-archive:FILE`).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use super::TargetError;

/// Limits of the engine's answers.
pub mod limits {
    use std::time::Duration;
    /// Longest header section of a response (the engine sends a handful of short headers).
    pub const MAX_HEADER_BYTES: usize = 64 << 10;
    /// Longest image reference or container id put in a request path.
    pub const MAX_NAME_BYTES: usize = 512;
    /// Largest JSON body read into memory (an image's inspect document is a few kilobytes).
    pub const MAX_JSON_BYTES: u64 = 16 << 20;
    /// Silence on the socket after which the engine is given up on (a save of a large image
    /// streams steadily; a stalled engine must not hang the run).
    pub const IO_TIMEOUT: Duration = Duration::from_secs(120);
}
use limits::*;

/// The engine's socket.
pub fn socket() -> Result<PathBuf, TargetError> {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if !host.is_empty() => match host.strip_prefix("unix://") {
            Some(path) => Ok(PathBuf::from(path)),
            None => Err(TargetError::Engine(format!(
                "DOCKER_HOST={host}: only unix:// engine sockets are supported (for a remote engine, `docker save` the image and use --target docker-archive:FILE)"
            ))),
        },
        _ => Ok(PathBuf::from("/var/run/docker.sock")),
    }
}

/// An API object name (image reference or container id) safe to put in a request path.
fn check_name(what: &str, name: &str) -> Result<(), TargetError> {
    let ok = !name.is_empty()
        && name.len() <= limits::MAX_NAME_BYTES
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/:@+".contains(&b))
        && !name.split('/').any(|c| c == ".." || c == ".");
    if ok {
        Ok(())
    } else {
        Err(TargetError::Engine(format!("{what} {name:?} is not a valid name")))
    }
}

/// A response whose body is streamed.
pub struct Response {
    pub status: u16,
    body: Box<dyn Read + Send>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response").field("status", &self.status).finish_non_exhaustive()
    }
}

impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.body.read(buf)
    }
}

impl Response {
    fn json(self, what: &str) -> Result<serde_json::Value, TargetError> {
        let mut bytes = Vec::new();
        self.body
            .take(MAX_JSON_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| TargetError::Engine(format!("{what}: {e}")))?;
        serde_json::from_slice(&bytes).map_err(|e| TargetError::Engine(format!("{what}: {e}")))
    }

    fn error_text(self) -> String {
        self.json("")
            .ok()
            .and_then(|v| v["message"].as_str().map(String::from))
            .unwrap_or_default()
    }
}

/// `GET path` on the engine's socket.
pub fn get(path: &str) -> Result<Response, TargetError> {
    let socket = socket()?;
    let stream = UnixStream::connect(&socket).map_err(|e| {
        TargetError::Engine(format!(
            "cannot reach the container engine at {}: {e}",
            socket.display()
        ))
    })?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| TargetError::Engine(e.to_string()))?;
    let mut w = &stream;
    write!(
        w,
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: phipolicy/{}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .map_err(|e| TargetError::Engine(format!("writing to {}: {e}", socket.display())))?;
    let mut reader = BufReader::with_capacity(256 << 10, stream);
    let bad = |m: &str| TargetError::Engine(format!("the engine at {} answered {m}", socket.display()));
    let mut line = String::new();
    let mut header_bytes = 0;
    reader
        .read_line(&mut line)
        .map_err(|e| bad(&format!("nothing readable: {e}")))?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(&format!("a malformed status line {:?}", line.trim())))?;
    let mut chunked = false;
    let mut length: Option<u64> = None;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| bad(&format!("malformed headers: {e}")))?;
        header_bytes += n;
        if n == 0 || header_bytes > MAX_HEADER_BYTES {
            return Err(bad("truncated or oversized headers"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().ok();
            }
        }
    }
    let body: Box<dyn Read + Send> = if chunked {
        Box::new(Chunked {
            inner: reader,
            left: 0,
            done: false,
        })
    } else if let Some(n) = length {
        Box::new(reader.take(n))
    } else {
        Box::new(reader)
    };
    Ok(Response { status, body })
}

/// HTTP/1.1 chunked transfer decoding.
struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            self.inner.read_line(&mut line)?;
            if line.trim().is_empty() {
                // The CRLF that ends the previous chunk.
                line.clear();
                self.inner.read_line(&mut line)?;
            }
            let size = line.trim().split(';').next().unwrap_or("");
            let size = u64::from_str_radix(size, 16).map_err(|_| {
                std::io::Error::other(format!("malformed chunk size {:?}", line.trim()))
            })?;
            if size == 0 {
                self.done = true;
                return Ok(0);
            }
            self.left = size;
        }
        let want = buf.len().min(self.left as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the engine closed the stream mid-chunk",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// `GET path`, expecting 200; a 404 says what is missing.
fn get_ok(path: &str, what: &str) -> Result<Response, TargetError> {
    let r = get(path)?;
    match r.status {
        200 => Ok(r),
        404 => Err(TargetError::Engine(format!(
            "{what}: not known to the local engine ({}); nothing is pulled",
            r.error_text()
        ))),
        s => Err(TargetError::Engine(format!("{what}: the engine answered {s}: {}", r.error_text()))),
    }
}

/// `docker image inspect`.
pub fn inspect_image(name: &str) -> Result<serde_json::Value, TargetError> {
    check_name("image", name)?;
    get_ok(&format!("/images/{name}/json"), &format!("image {name}"))?.json(name)
}

/// `docker save` of one image, as a stream (a `docker save` archive).
pub fn save_image(name: &str) -> Result<Response, TargetError> {
    check_name("image", name)?;
    get_ok(&format!("/images/{name}/get"), &format!("image {name}"))
}

/// `docker container inspect`.
pub fn inspect_container(id: &str) -> Result<serde_json::Value, TargetError> {
    check_name("container", id)?;
    get_ok(&format!("/containers/{id}/json"), &format!("container {id}"))?.json(id)
}

/// `docker export` of a container, as a stream (one tar of its whole filesystem).
pub fn export_container(id: &str) -> Result<Response, TargetError> {
    check_name("container", id)?;
    get_ok(&format!("/containers/{id}/export"), &format!("container {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_decoded() {
        let raw = b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
        let mut c = Chunked {
            inner: &raw[..],
            left: 0,
            done: false,
        };
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello, world");
        let mut cut = Chunked {
            inner: &b"5\r\nhel"[..],
            left: 0,
            done: false,
        };
        assert!(cut.read_to_string(&mut String::new()).is_err());
    }

    #[test]
    fn names_cannot_reach_other_endpoints() {
        assert!(check_name("image", "phipolicy/debian:12").is_ok());
        assert!(check_name("image", "busybox@sha256:abc").is_ok());
        for bad in ["", "a b", "x?all=1", "../../containers/x", "a\r\nHost: y", "a#b"] {
            assert!(check_name("image", bad).is_err(), "{bad}");
        }
    }
}
