//! What the view serves of a target, entry by entry (`phipolicy tree`): path, kind, the image's
//! mode and owner, size, link target and content hash. For checking a flattened image against
//! another tool's idea of it (the harness compares it with `docker export`), and for seeing what a
//! scan of an image sees.

use serde::Serialize;

use crate::fsview::{Kind, TargetView, limits::MAX_FILE_BYTES};

/// Schema of `phipolicy tree`'s output.
pub const SCHEMA: &str = "phipolicy/tree/v1";

/// Limits of a listing.
pub mod limits {
    /// Entries listed at most (a distribution image has ~20,000).
    pub const MAX_TREE_ENTRIES: usize = 2_000_000;
}

/// One entry (paths without the leading `/`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TreeEntry {
    pub path: String,
    pub kind: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Regular files only.
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Regular files up to the view's read cap (larger ones are never read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Regular => "file",
        Kind::Directory => "dir",
        Kind::Symlink => "symlink",
        Kind::Fifo => "fifo",
        Kind::Socket => "socket",
        Kind::BlockDevice => "block",
        Kind::CharDevice => "char",
        Kind::Unknown => "unknown",
    }
}

/// Every entry of the view, depth first, sorted by path within each directory.
pub fn walk(view: &TargetView) -> Result<Vec<TreeEntry>, String> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(dir) = stack.pop() {
        let (entries, _) = view
            .list_dir(&format!("/{dir}"), crate::fsview::limits::MAX_DIR_ENTRIES)
            .map_err(|e| format!("listing /{dir}: {e}"))?;
        for (name, _) in entries.into_iter().rev() {
            let path = if dir.is_empty() { name } else { format!("{dir}/{name}") };
            let abs = format!("/{path}");
            let (st, _) = view.stat(&abs, false).map_err(|e| format!("{abs}: {e}"))?;
            let mut entry = TreeEntry {
                path: path.clone(),
                kind: kind_name(st.kind),
                mode: st.mode,
                uid: st.uid,
                gid: st.gid,
                size: 0,
                link: None,
                sha256: None,
            };
            match st.kind {
                Kind::Directory => stack.push(path),
                Kind::Symlink => {
                    entry.link = Some(view.read_link(&abs).map_err(|e| format!("{abs}: {e}"))?.0);
                }
                Kind::Regular => {
                    entry.size = st.size;
                    if st.size <= MAX_FILE_BYTES {
                        let (bytes, _) = view
                            .read_file(&abs, MAX_FILE_BYTES)
                            .map_err(|e| format!("{abs}: {e}"))?;
                        entry.sha256 = Some(crate::digest::sha256_hex(&bytes));
                    }
                }
                _ => {}
            }
            out.push(entry);
            if out.len() > limits::MAX_TREE_ENTRIES {
                return Err(format!("more than {} entries", limits::MAX_TREE_ENTRIES));
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
