fn main() -> std::process::ExitCode {
    connector_core::main::<owncloud_connector::Owncloud>()
}
