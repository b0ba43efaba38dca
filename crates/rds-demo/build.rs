//! Records the optimisation level this crate is built with, for the demo's table: its
//! rates mean something different in a dev build than in the `demo` profile.
fn main() {
    let opt = std::env::var("OPT_LEVEL").unwrap_or_default();
    println!("cargo:rustc-env=RDS_DEMO_OPT_LEVEL={opt}");
    println!("cargo:rerun-if-changed=build.rs");
}
