//! `dataverse-connector`: the Sciebo RDS connector for Dataverse.

fn main() -> std::process::ExitCode {
    connector_core::main::<dataverse_connector::Dataverse>()
}
