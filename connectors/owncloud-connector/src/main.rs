#[global_allocator]
static ALLOCATOR: connector_core::Allocator = connector_core::Allocator;

fn main() -> std::process::ExitCode {
    connector_core::main::<owncloud_connector::Owncloud>()
}
