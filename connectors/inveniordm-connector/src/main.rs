//! `inveniordm-connector`: the Sciebo RDS connector for Inveniordm.

fn main() -> std::process::ExitCode {
    connector_core::main::<inveniordm_connector::Inveniordm>()
}
