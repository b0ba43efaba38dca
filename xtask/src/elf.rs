//! Just enough ELF reading to tell a static executable from a dynamic one.

use std::path::Path;

use anyhow::{bail, Context, Result};

const PT_INTERP: u32 = 3;

/// Whether the ELF64 little-endian executable at `path` asks for a program interpreter
/// (the dynamic loader). A binary without one runs in a `FROM scratch` image.
pub fn has_interpreter(path: &Path) -> Result<bool> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    interp_in(&data).with_context(|| format!("{} is not an ELF64 executable", path.display()))
}

fn interp_in(data: &[u8]) -> Result<bool> {
    if data.len() < 64 || &data[..4] != b"\x7fELF" {
        bail!("no ELF header");
    }
    if data[4] != 2 || data[5] != 1 {
        bail!("not a 64-bit little-endian ELF file");
    }
    let u16_at = |o: usize| -> Result<u16> {
        let b = data.get(o..o + 2).context("truncated ELF file")?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |o: usize| -> Result<u32> {
        let b = data.get(o..o + 4).context("truncated ELF file")?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| -> Result<u64> {
        let b = data.get(o..o + 8).context("truncated ELF file")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    };
    let phoff = usize::try_from(u64_at(0x20)?)?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    for i in 0..phnum {
        if u32_at(phoff + i * phentsize)? == PT_INTERP {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_test_binary_is_read() -> Result<()> {
        let exe = std::env::current_exe()?;
        // The test binary is an ordinary (dynamic) executable on Linux.
        assert!(has_interpreter(&exe)?);
        Ok(())
    }

    #[test]
    fn garbage_is_refused() {
        assert!(interp_in(b"not an elf").is_err());
    }
}
