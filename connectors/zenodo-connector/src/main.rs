//! `zenodo-connector`: the Sciebo RDS metadata connector for Zenodo.

fn main() -> std::process::ExitCode {
    connector_core::main::<zenodo_connector::Zenodo>()
}
