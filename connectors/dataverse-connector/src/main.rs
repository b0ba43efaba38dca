//! `dataverse-connector`: the Sciebo RDS connector for Dataverse.

#[global_allocator]
static ALLOCATOR: connector_core::Allocator = connector_core::Allocator;

fn main() -> std::process::ExitCode {
    connector_core::main::<dataverse_connector::Dataverse>()
}
