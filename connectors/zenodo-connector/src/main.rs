//! `zenodo-connector`: the Sciebo RDS metadata connector for Zenodo.

#[global_allocator]
static ALLOCATOR: connector_core::Allocator = connector_core::Allocator;

fn main() -> std::process::ExitCode {
    connector_core::main::<zenodo_connector::Zenodo>()
}
