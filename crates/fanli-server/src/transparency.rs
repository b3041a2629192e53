//! The transparency log on the server: each tenant's Ed25519 key, the Merkle tree's frontier
//! kept in memory beside the chain, the subtree hashes stored for proofs, and the signed heads.
//! docs/transparency.md.

use std::io::Write as _;
use std::path::Path;

use fanli_format::merkle::{from_hex, to_hex};
use fanli_format::transparency::SigningKey;

/// The signing key kept in `path` (its 32-byte secret seed in hex), made and written there
/// (mode 0600, its folder made) when there is none.
pub fn load_or_create_key(path: &Path) -> std::io::Result<SigningKey> {
    let invalid = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_owned());
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let seed: [u8; 32] =
                from_hex(text.trim()).ok_or_else(|| invalid("not an Ed25519 secret key (64 hex digits)"))?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| std::io::Error::other(e.to_string()))?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path)?;
            file.write_all(format!("{}\n", to_hex(&seed)).as_bytes())?;
            file.sync_all()?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) => Err(e),
    }
}
