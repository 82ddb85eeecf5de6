//! Integration tests: one binary, a module per area.

mod classify;
mod classify_cli;
