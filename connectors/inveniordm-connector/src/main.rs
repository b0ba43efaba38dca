//! `inveniordm-connector`: the Sciebo RDS connector for Inveniordm.

#[global_allocator]
static ALLOCATOR: connector_core::Allocator = connector_core::Allocator;

fn main() -> std::process::ExitCode {
    connector_core::main::<inveniordm_connector::Inveniordm>()
}
