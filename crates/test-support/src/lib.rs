//! Generic servers and helpers for the connectors' tests and the demo. Each provider's
//! emulator lives beside its connector (`connectors/<name>/emulator/`) and builds on these.
//!
//! - [`token_storage`]: RDS's Token Storage (`POST /service`) and the port service's token
//!   lookup (`GET /user/{user}/service/{servicename}`), in process.
//! - [`faulty`]: a raw-TCP upstream that truncates, resets, stalls or trickles; [`paced`]:
//!   uploads sent at a chosen pace, or stalled midway.
//! - [`hostile`]: a server answering what a test crafts (streamed answers of any size).
//! - [`emulator`]: the protocol an emulator binary follows for the conformance stack.
//! - [`process`]: connector child processes on a port the kernel chose.
//! - [`server_thread`]: an actix server on its own thread, for emulators usable from any
//!   runtime.

pub mod emulator;
pub mod faulty;
pub mod hostile;
pub mod load;
pub mod logs;
pub mod metrics;
pub mod paced;
pub mod process;
pub mod server_thread;
pub mod token_storage;
