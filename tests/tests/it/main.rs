//! The integration suite: one test binary, a module per provider. Every test
//! makes its own queue on the local SQS server and runs the real release
//! binary under the Lambda Runtime API emulator.

mod bad_input;
mod cli;
mod common;
mod docs;
mod duplicates;
mod events;
mod faults;
mod fronts;
mod namirial;
mod operations;
mod panjaya;
mod quarantine;
mod redner;
mod registry;
mod round_trip;
mod syncso;
mod template;
