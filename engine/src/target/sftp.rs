//! Long file: the SFTP client and the chroot resolution over it share one session and its caches;
//! split, the session's internals would have to be public to the resolver.
//! A small SFTP version 3 client (draft-ietf-secsh-filexfer-02) over the stdin/stdout of the
//! system's `ssh -s ... sftp` ([`super::ssh`] spawns it), and the remote root it serves to the
//! target view with the same semantics as `--root`.
//!
//! Only reading requests are ever sent: INIT, LSTAT, READLINK, OPEN (read-only), FSTAT, READ,
//! CLOSE, OPENDIR, READDIR. The plugins of a run share the session and their requests are
//! pipelined: each gets an id, a reader thread owns the child's stdout and hands each answer to
//! the request waiting for that id. Every answer is awaited with a deadline (the per-host
//! timeout), so a peer that stops answering never blocks a plugin; on a timeout, a malformed
//! packet or a lost connection the child is killed, every pending and later request fails, and
//! [`Sftp::failure`] says why (the run then makes the target an `error`). Incoming packets are
//! bounded ([`limits::MAX_SFTP_PACKET_BYTES`]).
//!
//! Paths are resolved here, component by component, with chroot semantics (what
//! `openat2(RESOLVE_IN_ROOT)` does for `--root`): each component is `lstat`ed, symlinks are read
//! and their targets followed inside the remote root (absolute ones from `/`), `..` clamps at
//! `/`, at most [`limits::MAX_SYMLINK_HOPS`] links per lookup. The server's own resolution
//! (`realpath`, `stat` following links) is never used. Only regular files are opened, after an
//! `lstat` of the resolved path says so, and the opened handle is `fstat`ed again; reads stop
//! at the cap. Per-process files under `/proc` (the sftp-server's own environment) are refused
//! as for the live host. Attributes of every `lstat` and directory listing are cached for the
//! scan (a target is a snapshot read once), bounded by [`limits::MAX_CACHED_PATHS`].
//!
//! SFTP v3 carries no device, inode or link count: a remote target reports neither hard links
//! nor mounts (`target.hard_links`, `target.mounts` stay empty for it), and hard links of secret
//! files are recognised by size, mode, owner and mtime instead
//! ([`crate::fsview::TargetView::secret_linked_as`]).

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::fsview::{Kind, Stat, ViewError, kind_of};

/// Limits of the SFTP client.
pub mod limits {
    /// Largest packet accepted from the server: OpenSSH answers reads of at most 256 KiB and
    /// directory listings in batches of about 100 names.
    pub const MAX_SFTP_PACKET_BYTES: usize = 4 << 20;
    /// Bytes asked for per READ request.
    pub const SFTP_READ_CHUNK_BYTES: u32 = 64 << 10;
    /// Symbolic links followed in one lookup (Linux's MAXSYMLINKS).
    pub const MAX_SYMLINK_HOPS: usize = 40;
    /// Paths whose attributes are cached for one target; past this the cache starts over.
    pub const MAX_CACHED_PATHS: usize = 1_000_000;
    /// READDIR answers read for one listing (each holds up to ~100 names): bounds a server that
    /// never says EOF.
    pub const MAX_READDIR_BATCHES: usize = 1 << 16;
    /// Lines of ssh's own error output kept for messages.
    pub const MAX_STDERR_LINES: usize = 20;
    /// Longest line of ssh's error output kept (a server's pre-auth banner is printed there).
    pub const MAX_STDERR_LINE_BYTES: usize = 1024;
}

// Packet types.
const FXP_INIT: u8 = 1;
const FXP_VERSION: u8 = 2;
const FXP_OPEN: u8 = 3;
const FXP_CLOSE: u8 = 4;
const FXP_READ: u8 = 5;
const FXP_LSTAT: u8 = 7;
const FXP_FSTAT: u8 = 8;
const FXP_OPENDIR: u8 = 11;
const FXP_READDIR: u8 = 12;
const FXP_READLINK: u8 = 19;
const FXP_STATUS: u8 = 101;
const FXP_HANDLE: u8 = 102;
const FXP_DATA: u8 = 103;
const FXP_NAME: u8 = 104;
const FXP_ATTRS: u8 = 105;

// Status codes.
const FX_OK: u32 = 0;
const FX_EOF: u32 = 1;
const FX_NO_SUCH_FILE: u32 = 2;
const FX_PERMISSION_DENIED: u32 = 3;

// Attribute flags.
const ATTR_SIZE: u32 = 0x1;
const ATTR_UIDGID: u32 = 0x2;
const ATTR_PERMISSIONS: u32 = 0x4;
const ATTR_ACMODTIME: u32 = 0x8;
const ATTR_EXTENDED: u32 = 0x8000_0000;

/// The `pflags` bit of OPEN for reading (nothing else is ever asked).
const FXF_READ: u32 = 0x1;

/// File attributes as SFTP v3 carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attrs {
    pub size: Option<u64>,
    pub uid: u32,
    pub gid: u32,
    /// `st_mode` with the file type bits; None when the server did not say.
    pub mode: Option<u32>,
    pub mtime: i64,
}

impl Attrs {
    pub fn kind(&self) -> Kind {
        self.mode.map(kind_of).unwrap_or(Kind::Unknown)
    }

    fn stat(&self) -> Stat {
        Stat {
            kind: self.kind(),
            mode: self.mode.unwrap_or(0) & 0o7777,
            uid: self.uid,
            gid: self.gid,
            size: self.size.unwrap_or(0),
            mtime: self.mtime,
            dev: 0,
            ino: 0,
            nlink: 1,
        }
    }
}

/// Reads SFTP values from a packet body.
struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.buf.len() < n {
            return Err("truncated packet".into());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn string(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn attrs(&mut self) -> Result<Attrs, String> {
        let flags = self.u32()?;
        let mut a = Attrs::default();
        if flags & ATTR_SIZE != 0 {
            a.size = Some(self.u64()?);
        }
        if flags & ATTR_UIDGID != 0 {
            a.uid = self.u32()?;
            a.gid = self.u32()?;
        }
        if flags & ATTR_PERMISSIONS != 0 {
            a.mode = Some(self.u32()?);
        }
        if flags & ATTR_ACMODTIME != 0 {
            let _atime = self.u32()?;
            a.mtime = i64::from(self.u32()?);
        }
        if flags & ATTR_EXTENDED != 0 {
            let count = self.u32()?;
            for _ in 0..count {
                self.string()?;
                self.string()?;
            }
        }
        Ok(a)
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s);
}

/// An answer that is not the expected packet.
enum Answer {
    Status(u32, String),
    Packet(u8, Vec<u8>),
}

/// An answer, or why none will come.
type Delivery = Result<Vec<u8>, String>;

/// What the requesters and the reader thread share.
struct Shared {
    child: Mutex<Child>,
    stdin: Mutex<ChildStdin>,
    /// Requests waiting for their answer, by id (the INIT's VERSION answer comes as id 0).
    waiting: Mutex<HashMap<u32, SyncSender<Delivery>>>,
    /// Why the session ended (every later request fails with it).
    dead: Mutex<Option<String>>,
    /// Why the reader stopped (an answer that cannot come says this).
    reader_error: Mutex<Option<String>>,
}

/// An SFTP session with a remote host, served as a root with chroot semantics.
pub struct Sftp {
    /// `ssh://user@host:port`, for messages.
    peer: String,
    timeout: Duration,
    shared: Arc<Shared>,
    next_id: AtomicU32,
    /// What ssh printed on stderr (errors, the server's host key).
    stderr: Arc<super::ssh::StderrLog>,
    lstat_cache: Mutex<HashMap<Vec<u8>, Result<Attrs, ViewError>>>,
    link_cache: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

impl std::fmt::Debug for Sftp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sftp")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads whole packets from `stdout` until it ends and hands each to the request waiting for
/// its id; on an error or an answer nobody asked for, records why and fails every waiter.
fn reader(mut stdout: ChildStdout, shared: Arc<Shared>) {
    let why = loop {
        let mut len = [0u8; 4];
        if let Err(e) = stdout.read_exact(&mut len) {
            break if e.kind() == std::io::ErrorKind::UnexpectedEof {
                "the connection closed".to_string()
            } else {
                format!("reading from ssh: {e}")
            };
        }
        let len = u32::from_be_bytes(len) as usize;
        if len == 0 || len > limits::MAX_SFTP_PACKET_BYTES {
            break format!(
                "protocol error: the server sent a packet of {len} bytes (at most {} are accepted)",
                limits::MAX_SFTP_PACKET_BYTES
            );
        }
        let mut body = vec![0u8; len];
        if let Err(e) = stdout.read_exact(&mut body) {
            break format!("reading from ssh: {e}");
        }
        let id = if body[0] == FXP_VERSION {
            Some(0)
        } else {
            body.get(1..5)
                .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
        };
        let waiter = id.and_then(|id| lock(&shared.waiting).remove(&id));
        match waiter {
            Some(tx) => {
                let _ = tx.send(Ok(body));
            }
            None => {
                break format!(
                    "protocol error: an answer (type {}) to no pending request",
                    body[0]
                );
            }
        }
    };
    *lock(&shared.reader_error) = Some(why.clone());
    for (_, tx) in lock(&shared.waiting).drain() {
        let _ = tx.send(Err(why.clone()));
    }
}

impl Sftp {
    /// Starts the session on a spawned `ssh -s ... sftp` child: INIT, and VERSION within
    /// `timeout` (connecting and authenticating happen in that time too).
    pub(super) fn start(
        mut child: Child,
        peer: String,
        timeout: Duration,
        stderr: Arc<super::ssh::StderrLog>,
    ) -> Result<Sftp, String> {
        let stdin = child.stdin.take().ok_or("ssh has no stdin")?;
        let stdout = child.stdout.take().ok_or("ssh has no stdout")?;
        let shared = Arc::new(Shared {
            child: Mutex::new(child),
            stdin: Mutex::new(stdin),
            waiting: Mutex::new(HashMap::new()),
            dead: Mutex::new(None),
            reader_error: Mutex::new(None),
        });
        let sftp = Sftp {
            peer,
            timeout,
            shared: shared.clone(),
            next_id: AtomicU32::new(1),
            stderr,
            lstat_cache: Mutex::new(HashMap::new()),
            link_cache: Mutex::new(HashMap::new()),
        };
        let mut init = vec![FXP_INIT];
        put_u32(&mut init, 3);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        lock(&shared.waiting).insert(0, tx);
        std::thread::Builder::new()
            .name("sftp-reader".into())
            .spawn(move || reader(stdout, shared))
            .map_err(|e| format!("starting the SFTP reader: {e}"))?;
        let version = sftp.send(&init).and_then(|()| sftp.receive(&rx));
        let failed = |why: String| {
            sftp.kill(why);
            Err(sftp.failure().unwrap_or_default())
        };
        match version {
            Ok(body) if body[0] == FXP_VERSION => {
                let v = Cursor { buf: &body[1..] }.u32().unwrap_or(0);
                if v < 3 {
                    return failed(format!("the server speaks SFTP version {v}, 3 is needed"));
                }
                Ok(sftp)
            }
            Ok(_) => failed("the server's first answer is not SFTP VERSION".into()),
            Err(why) => failed(why),
        }
    }

    /// Ends the session (kills ssh) and records why, with what ssh said; the first reason wins.
    fn kill(&self, why: String) {
        if lock(&self.shared.dead).is_some() {
            return;
        }
        {
            let mut child = lock(&self.shared.child);
            let _ = child.kill();
            let _ = child.wait();
        }
        // ssh has exited: its stderr is complete.
        self.stderr.wait_closed(self.timeout);
        let said = self.stderr.errors();
        let mut message = format!("ssh {}: {why}", self.peer);
        if !said.is_empty() {
            message.push_str(&format!(" (ssh said: {})", said.join(" / ")));
        }
        let mut dead = lock(&self.shared.dead);
        if dead.is_none() {
            *dead = Some(message);
        }
    }

    /// Why the session ended, if it did.
    pub fn failure(&self) -> Option<String> {
        lock(&self.shared.dead).clone()
    }

    fn send(&self, payload: &[u8]) -> Result<(), String> {
        let mut packet = Vec::with_capacity(payload.len() + 4);
        put_u32(&mut packet, payload.len() as u32);
        packet.extend_from_slice(payload);
        let mut stdin = lock(&self.shared.stdin);
        stdin
            .write_all(&packet)
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("writing to ssh: {e}"))
    }

    fn receive(&self, rx: &std::sync::mpsc::Receiver<Delivery>) -> Result<Vec<u8>, String> {
        match rx.recv_timeout(self.timeout) {
            Ok(delivery) => delivery,
            Err(RecvTimeoutError::Timeout) => Err(format!(
                "no answer within {} (the per-host timeout, --ssh-timeout)",
                humantime::format_duration(self.timeout)
            )),
            Err(RecvTimeoutError::Disconnected) => Err(lock(&self.shared.reader_error)
                .clone()
                .unwrap_or_else(|| "the connection closed".into())),
        }
    }

    /// One request, one answer (requests of concurrent plugins are pipelined).
    fn call(&self, ty: u8, args: &[u8]) -> Result<Answer, ViewError> {
        if let Some(why) = self.failure() {
            return Err(ViewError::Io(why));
        }
        // Id 0 is the INIT's; ids wrap after 4 billion requests.
        let mut id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if id == 0 {
            id = self.next_id.fetch_add(1, Ordering::Relaxed);
        }
        let mut packet = Vec::with_capacity(args.len() + 5);
        packet.push(ty);
        put_u32(&mut packet, id);
        packet.extend_from_slice(args);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        lock(&self.shared.waiting).insert(id, tx);
        // The reader may have stopped before the waiter was registered: it will never answer.
        if let Some(why) = lock(&self.shared.reader_error).clone() {
            lock(&self.shared.waiting).remove(&id);
            self.kill(why);
            return Err(ViewError::Io(self.failure().unwrap_or_default()));
        }
        let body = match self.send(&packet).and_then(|()| self.receive(&rx)) {
            Ok(b) => b,
            Err(why) => {
                lock(&self.shared.waiting).remove(&id);
                self.kill(why);
                return Err(ViewError::Io(self.failure().unwrap_or_default()));
            }
        };
        let parsed = (|| -> Result<Answer, String> {
            let mut c = Cursor { buf: &body[1..] };
            c.u32()?; // the id, which routed it here
            if body[0] == FXP_STATUS {
                let code = c.u32()?;
                let msg = String::from_utf8_lossy(c.string().unwrap_or_default()).into_owned();
                return Ok(Answer::Status(code, msg));
            }
            Ok(Answer::Packet(body[0], c.buf.to_vec()))
        })();
        parsed.map_err(|why| {
            self.kill(format!("protocol error: {why}"));
            ViewError::Io(self.failure().unwrap_or_default())
        })
    }

    /// A protocol violation ends the session.
    fn violation(&self, what: &str) -> ViewError {
        self.kill(format!("protocol error: {what}"));
        ViewError::Io(self.failure().unwrap_or_default())
    }

    fn expect(&self, ty: u8, args: &[u8], want: u8) -> Result<Vec<u8>, ViewError> {
        match self.call(ty, args)? {
            Answer::Packet(t, body) if t == want => Ok(body),
            Answer::Packet(t, _) => {
                Err(self.violation(&format!("answer type {t} where {want} was expected")))
            }
            Answer::Status(code, msg) => Err(status_error(code, &msg)),
        }
    }

    fn path_request(&self, ty: u8, path: &[u8], want: u8) -> Result<Vec<u8>, ViewError> {
        let mut args = Vec::with_capacity(path.len() + 4);
        put_string(&mut args, path);
        self.expect(ty, &args, want)
    }

    fn handle_request(&self, ty: u8, handle: &[u8], extra: &[u8]) -> Result<Answer, ViewError> {
        let mut args = Vec::with_capacity(handle.len() + 4 + extra.len());
        put_string(&mut args, handle);
        args.extend_from_slice(extra);
        self.call(ty, &args)
    }

    fn close(&self, handle: &[u8]) {
        let _ = self.handle_request(FXP_CLOSE, handle, &[]);
    }

    /// `lstat` of an absolute, resolved remote path (cached).
    fn lstat(&self, path: &[u8]) -> Result<Attrs, ViewError> {
        if let Some(hit) = lock(&self.lstat_cache).get(path) {
            return hit.clone();
        }
        let result = self
            .path_request(FXP_LSTAT, path, FXP_ATTRS)
            .and_then(|body| {
                Cursor { buf: &body }
                    .attrs()
                    .map_err(|e| self.violation(&e))
            });
        if self.failure().is_none() {
            self.remember(path.to_vec(), result.clone());
        }
        result
    }

    fn remember(&self, path: Vec<u8>, attrs: Result<Attrs, ViewError>) {
        let mut cache = lock(&self.lstat_cache);
        if cache.len() >= limits::MAX_CACHED_PATHS {
            cache.clear();
        }
        cache.insert(path, attrs);
    }

    /// The stored target of a symlink (cached).
    fn readlink(&self, path: &[u8]) -> Result<Vec<u8>, ViewError> {
        if let Some(hit) = lock(&self.link_cache).get(path) {
            return Ok(hit.clone());
        }
        let body = self.path_request(FXP_READLINK, path, FXP_NAME)?;
        let mut c = Cursor { buf: &body };
        let target = (|| -> Result<Vec<u8>, String> {
            if c.u32()? != 1 {
                return Err("READLINK answered with other than one name".into());
            }
            Ok(c.string()?.to_vec())
        })()
        .map_err(|e| self.violation(&e))?;
        let mut cache = lock(&self.link_cache);
        if cache.len() >= limits::MAX_CACHED_PATHS {
            cache.clear();
        }
        cache.insert(path.to_vec(), target.clone());
        Ok(target)
    }

    /// Resolves `path` inside the remote root (chroot semantics; the last component followed when
    /// `follow`): the resolved absolute path and its `lstat`.
    fn resolve(&self, path: &str, follow: bool) -> Result<(Vec<u8>, Attrs), ViewError> {
        let rel = crate::fsview::in_target_relative(path)?;
        let bytes = phipolicy_sdk::target::decode_name(rel);
        let mut pending: VecDeque<Vec<u8>> = components(&bytes).collect();
        let mut stack: Vec<Vec<u8>> = Vec::new();
        let mut last: Option<Attrs> = None;
        let mut hops = 0;
        while let Some(c) = pending.pop_front() {
            if c == b"." {
                continue;
            }
            if c == b".." {
                stack.pop();
                last = None;
                continue;
            }
            stack.push(c);
            let here = join(&stack);
            let attrs = self.lstat(&here)?;
            let is_last = pending.is_empty();
            if attrs.kind() == Kind::Symlink && (follow || !is_last) {
                hops += 1;
                if hops > limits::MAX_SYMLINK_HOPS {
                    return Err(ViewError::Io("too many levels of symbolic links".into()));
                }
                let target = self.readlink(&here)?;
                stack.pop();
                if target.first() == Some(&b'/') {
                    stack.clear();
                }
                for part in components(&target).collect::<Vec<_>>().into_iter().rev() {
                    pending.push_front(part);
                }
                last = None;
                continue;
            }
            if !is_last && attrs.kind() != Kind::Directory {
                return Err(ViewError::NotFound);
            }
            last = Some(attrs);
        }
        let resolved = join(&stack);
        let attrs = match last {
            Some(a) => a,
            None => self.lstat(&resolved)?,
        };
        if resolved.len() > crate::fsview::limits::MAX_PATH_BYTES {
            return Err(ViewError::InvalidPath("name too long".into()));
        }
        Ok((resolved, attrs))
    }

    /// `stat` (following the last link) or `lstat` of `path`, and the path it resolved to.
    pub fn stat(&self, path: &str, follow: bool) -> Result<(Stat, String), ViewError> {
        let (resolved, attrs) = self.resolve(path, follow)?;
        Ok((attrs.stat(), display(&resolved)))
    }

    /// Reads a regular file (following links inside the root), at most `cap` bytes.
    pub fn read_file(&self, path: &str, cap: u64) -> Result<(Vec<u8>, String), ViewError> {
        let (resolved, attrs) = self.resolve(path, true)?;
        let shown = display(&resolved);
        if attrs.kind() != Kind::Regular {
            return Err(ViewError::NotRegular(attrs.kind()));
        }
        if attrs.size.unwrap_or(0) > cap {
            return Err(ViewError::TooLarge(cap));
        }
        refuse_process_files(&shown)?;
        let mut args = Vec::new();
        put_string(&mut args, &resolved);
        put_u32(&mut args, FXF_READ);
        put_u32(&mut args, 0); // no attributes
        let body = self.expect(FXP_OPEN, &args, FXP_HANDLE)?;
        let handle = Cursor { buf: &body }
            .string()
            .map(<[u8]>::to_vec)
            .map_err(|e| self.violation(&e))?;
        let out = self.read_handle(&handle, cap);
        self.close(&handle);
        out.map(|bytes| (bytes, shown))
    }

    fn read_handle(&self, handle: &[u8], cap: u64) -> Result<Vec<u8>, ViewError> {
        // The file that was opened must still be a regular file (a swap in between is refused).
        match self.handle_request(FXP_FSTAT, handle, &[])? {
            Answer::Packet(FXP_ATTRS, body) => {
                let a = Cursor { buf: &body }
                    .attrs()
                    .map_err(|e| self.violation(&e))?;
                if a.mode.is_some() && a.kind() != Kind::Regular {
                    return Err(ViewError::Io("file changed while being opened".into()));
                }
            }
            Answer::Packet(t, _) => {
                return Err(self.violation(&format!("FSTAT answered with type {t}")));
            }
            Answer::Status(code, msg) => return Err(status_error(code, &msg)),
        }
        let mut out: Vec<u8> = Vec::new();
        loop {
            let mut extra = Vec::with_capacity(12);
            extra.extend_from_slice(&(out.len() as u64).to_be_bytes());
            put_u32(&mut extra, limits::SFTP_READ_CHUNK_BYTES);
            match self.handle_request(FXP_READ, handle, &extra)? {
                Answer::Status(FX_EOF, _) => return Ok(out),
                Answer::Status(code, msg) => return Err(status_error(code, &msg)),
                Answer::Packet(FXP_DATA, body) => {
                    let data = Cursor { buf: &body }
                        .string()
                        .map_err(|e| self.violation(&e))?;
                    if data.is_empty() {
                        return Err(self.violation("READ answered with no data and no EOF"));
                    }
                    out.extend_from_slice(data);
                    if out.len() as u64 > cap {
                        return Err(ViewError::TooLarge(cap));
                    }
                }
                Answer::Packet(t, _) => {
                    return Err(self.violation(&format!("READ answered with type {t}")));
                }
            }
        }
    }

    /// Lists a directory (sorted by name, byte order), at most `max` entries.
    pub fn list_dir(
        &self,
        path: &str,
        max: usize,
    ) -> Result<(Vec<(String, Kind)>, String), ViewError> {
        let (resolved, attrs) = self.resolve(path, true)?;
        let shown = display(&resolved);
        if attrs.kind() != Kind::Directory {
            return Err(ViewError::NotFound);
        }
        refuse_process_files(&shown)?;
        let body = self.path_request(FXP_OPENDIR, &resolved, FXP_HANDLE)?;
        let handle = Cursor { buf: &body }
            .string()
            .map(<[u8]>::to_vec)
            .map_err(|e| self.violation(&e))?;
        let out = self.read_dir_handle(&handle, &resolved, max);
        self.close(&handle);
        let mut out = out?;
        out.sort_by(|a, b| a.0.cmp(&b.0));
        let entries = out
            .into_iter()
            .map(|(name, kind)| (phipolicy_sdk::target::encode_name(&name), kind))
            .collect();
        Ok((entries, shown))
    }

    fn read_dir_handle(
        &self,
        handle: &[u8],
        dir: &[u8],
        max: usize,
    ) -> Result<Vec<(Vec<u8>, Kind)>, ViewError> {
        let mut out = Vec::new();
        for _ in 0..limits::MAX_READDIR_BATCHES {
            let body = match self.handle_request(FXP_READDIR, handle, &[])? {
                Answer::Status(FX_EOF, _) => return Ok(out),
                Answer::Status(code, msg) => return Err(status_error(code, &msg)),
                Answer::Packet(FXP_NAME, body) => body,
                Answer::Packet(t, _) => {
                    return Err(self.violation(&format!("READDIR answered with type {t}")));
                }
            };
            let mut c = Cursor { buf: &body };
            let parsed = (|| -> Result<Vec<(Vec<u8>, Attrs)>, String> {
                let count = c.u32()?;
                let mut names = Vec::new();
                for _ in 0..count {
                    let name = c.string()?.to_vec();
                    c.string()?; // longname
                    names.push((name, c.attrs()?));
                }
                Ok(names)
            })()
            .map_err(|e| self.violation(&e))?;
            for (name, attrs) in parsed {
                if name == b"." || name == b".." {
                    continue;
                }
                if name.is_empty() || name.contains(&b'/') {
                    return Err(self.violation("READDIR answered with a name holding `/`"));
                }
                if out.len() >= max {
                    return Err(ViewError::TooLarge(max as u64));
                }
                // OpenSSH's READDIR attributes are the entries' lstat.
                let mut full = dir.to_vec();
                if full != b"/" {
                    full.push(b'/');
                }
                full.extend_from_slice(&name);
                if attrs.mode.is_some() {
                    self.remember(full, Ok(attrs));
                }
                out.push((name, attrs.kind()));
            }
        }
        Err(self.violation("READDIR never reached EOF"))
    }

    /// The stored target of a symlink.
    pub fn read_link(&self, path: &str) -> Result<(String, String), ViewError> {
        let (resolved, attrs) = self.resolve(path, false)?;
        if attrs.kind() != Kind::Symlink {
            return Err(ViewError::InvalidPath("not a symlink".into()));
        }
        let shown = display(&resolved);
        refuse_process_files(&shown)?;
        let target = self.readlink(&resolved)?;
        Ok((phipolicy_sdk::target::encode_name(&target), shown))
    }
}

impl Drop for Sftp {
    fn drop(&mut self) {
        let mut child = lock(&self.shared.child);
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn status_error(code: u32, msg: &str) -> ViewError {
    match code {
        FX_NO_SUCH_FILE => ViewError::NotFound,
        FX_PERMISSION_DENIED => ViewError::PermissionDenied,
        FX_OK => ViewError::Io("the server answered OK where data was expected".into()),
        _ => ViewError::Io(format!("the server answered status {code}: {msg}")),
    }
}

/// The non-empty components of a path.
fn components(path: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    path.split(|b| *b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
}

fn join(stack: &[Vec<u8>]) -> Vec<u8> {
    if stack.is_empty() {
        return b"/".to_vec();
    }
    let mut out = Vec::new();
    for c in stack {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    out
}

fn display(resolved: &[u8]) -> String {
    if resolved == b"/" {
        return "/".into();
    }
    format!("/{}", phipolicy_sdk::target::encode_name(&resolved[1..]))
}

/// The per-process files of the remote's `/proc` (the sftp-server's own environment, memory and
/// command line) are refused, as they are for the live host; the mount tables are served.
fn refuse_process_files(resolved: &str) -> Result<(), ViewError> {
    let Some(rest) = resolved.strip_prefix("/proc/") else {
        return Ok(());
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let process = parts[0] == "self"
        || parts[0] == "thread-self"
        || (!parts[0].is_empty() && parts[0].bytes().all(|b| b.is_ascii_digit()));
    if !process || matches!(&parts[1..], ["mountinfo"] | ["mounts"]) {
        return Ok(());
    }
    Err(ViewError::InvalidPath(format!(
        "{resolved} is a per-process /proc file of the remote's sftp-server (only mountinfo and mounts are served)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_parse_with_every_flag() {
        let mut b = Vec::new();
        put_u32(
            &mut b,
            ATTR_SIZE | ATTR_UIDGID | ATTR_PERMISSIONS | ATTR_ACMODTIME | ATTR_EXTENDED,
        );
        b.extend_from_slice(&42u64.to_be_bytes());
        put_u32(&mut b, 0);
        put_u32(&mut b, 42);
        put_u32(&mut b, 0o100640);
        put_u32(&mut b, 1);
        put_u32(&mut b, 1_700_000_000);
        put_u32(&mut b, 1);
        put_string(&mut b, b"x@example");
        put_string(&mut b, b"y");
        let a = Cursor { buf: &b }.attrs().unwrap();
        assert_eq!(a.kind(), Kind::Regular);
        let st = a.stat();
        assert_eq!(
            (st.mode, st.uid, st.gid, st.size, st.mtime),
            (0o640, 0, 42, 42, 1_700_000_000)
        );
        // Truncated attributes are an error, not zeros.
        assert!(
            Cursor {
                buf: &b[..b.len() - 3]
            }
            .attrs()
            .is_err()
        );
    }

    #[test]
    fn process_files_are_refused_but_mount_tables_served() {
        assert!(refuse_process_files("/proc/self/environ").is_err());
        assert!(refuse_process_files("/proc/1234/environ").is_err());
        assert!(refuse_process_files("/proc/1234/mountinfo").is_ok());
        assert!(refuse_process_files("/proc/mounts").is_ok());
        assert!(refuse_process_files("/proc/sys/kernel/hostname").is_ok());
        assert!(refuse_process_files("/etc/passwd").is_ok());
    }

    #[test]
    fn paths_join_and_display() {
        assert_eq!(join(&[]), b"/");
        assert_eq!(join(&[b"etc".to_vec(), b"ssh".to_vec()]), b"/etc/ssh");
        assert_eq!(
            components(b"//etc/./ssh/").collect::<Vec<_>>(),
            vec![b"etc".to_vec(), b".".to_vec(), b"ssh".to_vec()]
        );
        assert_eq!(display(b"/"), "/");
        assert_eq!(display(b"/etc"), "/etc");
    }
}
