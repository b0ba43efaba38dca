//! The sample research folder served by the demo's WebDAV server.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

/// One file of the sample, with what the demo later verifies against.
#[derive(Debug, Clone)]
pub struct SampleFile {
    /// Path below the research folder, `/`-separated.
    pub relative: String,
    pub size: u64,
    pub sha256: String,
}

/// The research folder's name on the cloud, with a space as real folders have.
pub const FOLDER: &str = "Research data";

/// Writes the sample below `root/FOLDER`: a few small files with spaces and unicode in
/// their names and one large binary (`large_mib` MiB, incompressible, deterministic).
pub fn write(root: &Path, large_mib: u64) -> std::io::Result<Vec<SampleFile>> {
    let base = root.join(FOLDER);
    let small: &[(&str, &[u8])] = &[
        (
            "README.md",
            b"# Soil moisture campaign 2026\n\nRaw measurements and calibration notes.\n",
        ),
        (
            "measurements 2026/run 01.csv",
            b"time,depth_cm,moisture\n2026-05-01T10:00Z,10,0.31\n2026-05-01T10:10Z,10,0.30\n",
        ),
        (
            "measurements 2026/run 02.csv",
            b"time,depth_cm,moisture\n2026-05-02T10:00Z,20,0.27\n",
        ),
        (
            "Kalibrierung für Sensoren – Übersicht.txt",
            "Sonde A: +0,3 %\nSonde B: −0,1 %\n".as_bytes(),
        ),
    ];
    let mut files = Vec::new();
    for (rel, content) in small {
        let path = base.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)?;
        files.push(SampleFile {
            relative: (*rel).to_owned(),
            size: content.len() as u64,
            sha256: hex::encode(Sha256::digest(content)),
        });
    }
    let rel = "images/microscopy stack.raw";
    let path = base.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let mut hasher = Sha256::new();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..large_mib {
        for chunk in block.chunks_exact_mut(8) {
            // xorshift64: cheap, deterministic, incompressible enough for a transfer test.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        out.write_all(&block)?;
        hasher.update(&block);
    }
    out.flush()?;
    files.push(SampleFile {
        relative: rel.to_owned(),
        size: large_mib << 20,
        sha256: hex::encode(hasher.finalize()),
    });
    Ok(files)
}
