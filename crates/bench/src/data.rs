//! Test data on disk: large deterministic pseudo-random files, written block by block
//! (never a whole file in memory), and trees of small files.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

const BLOCK: usize = 1 << 20;

/// Writes `size` bytes of xorshift64 output seeded with `seed` to `path`.
pub fn write_random(path: &Path, size: u64, seed: u64) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(BLOCK, file);
    let mut state = seed | 1;
    let mut block = vec![0u8; BLOCK];
    let mut left = size;
    while left > 0 {
        for chunk in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        let n = left.min(BLOCK as u64) as usize;
        out.write_all(&block[..n])
            .with_context(|| format!("writing {}", path.display()))?;
        left -= n as u64;
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// `folders` folders nested two levels deep below `root` (`d00/`, `d00/s01/`, ...),
/// `files_per_folder` small files in each. Returns (folders, files) written.
pub fn write_tree(root: &Path, folders: usize, files_per_folder: usize) -> Result<(usize, usize)> {
    let top = (folders as f64).sqrt().ceil().max(1.0) as usize;
    let mut dirs = Vec::new();
    'outer: for t in 0..top {
        let parent = root.join(format!("d{t:02}"));
        dirs.push(parent.clone());
        for s in 1..top {
            if dirs.len() >= folders {
                break 'outer;
            }
            dirs.push(parent.join(format!("s{s:02}")));
        }
        if dirs.len() >= folders {
            break;
        }
    }
    let mut files = 0;
    for dir in &dirs {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for f in 0..files_per_folder {
            let path = dir.join(format!("file-{f:03}.txt"));
            std::fs::write(&path, format!("{}\n", path.display()))
                .with_context(|| format!("writing {}", path.display()))?;
            files += 1;
        }
    }
    Ok((dirs.len(), files))
}

/// Sizes of `n` files adding up to `total`, varying from 1× to 10× of the smallest.
pub fn varied_sizes(n: usize, total: u64) -> Vec<u64> {
    let weights: Vec<u64> = (0..n as u64).map(|i| 1 + (i * 7) % 10).collect();
    let sum: u64 = weights.iter().sum::<u64>().max(1);
    let mut sizes: Vec<u64> = weights.iter().map(|w| total * w / sum).collect();
    let short = total - sizes.iter().sum::<u64>();
    if let Some(last) = sizes.last_mut() {
        *last += short;
    }
    sizes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tree_and_sizes() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(write_tree(dir.path(), 100, 20).unwrap(), (100, 2000));
        let sizes = varied_sizes(200, 1 << 31);
        assert_eq!(sizes.iter().sum::<u64>(), 1 << 31);
        let f = dir.path().join("x/big.bin");
        write_random(&f, 3 * (1 << 20) + 5, 7).unwrap();
        assert_eq!(std::fs::metadata(&f).unwrap().len(), 3 * (1 << 20) + 5);
    }
}
