//! secwire: watch security news for policy events.
//!
//! The pipeline, one module per stage (see `ARCHITECTURE.md`):
//!
//! ```text
//!  fetch ──► parse ──► (fetch article) ──► extract ──► classify ──► store
//! ```
//!
//! * [`fetch`]: the only module that holds an HTTP client (politeness, limits,
//!   conditional GET, redirects, address checks).
//! * [`parse`]: feed bytes to normalised entries; pure, no I/O.
//! * [`extract`]: article HTML to body/title/authors/date/language; pure.
//! * [`classify`]: text to labels, scores, evidence and events; pure.
//! * [`store`]: the only module that writes SQLite.
//! * [`pipeline`]: wires the stages together for the front-ends
//!   (`backfill`, `run`) in the binary's `cmd` module.

pub mod charset;
pub mod classify;
pub mod config;
pub mod daemon;
pub mod extract;
pub mod fetch;
pub mod history;
pub mod metrics;
pub mod opml;
pub mod parse;
pub mod pipeline;
pub mod rework;
pub mod schedule;
pub mod store;
pub mod timefmt;
