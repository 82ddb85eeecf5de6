//! Integration tests: one test binary (one link step) with a module per
//! area. Every test runs the real `secwire` binary against a real HTTP
//! server on 127.0.0.1 and a real SQLite file in a temporary directory.

mod backfill;
mod classify;
mod classify_cli;
mod cli;
mod daemon;
mod extract;
mod history;
mod query;
mod rework;
mod site;
mod store_file;
mod support;
