//! Token Storage emulator.
