//! The command line, run as the built binary: one test binary for every CLI area (one link of
//! the whole stack instead of one per file).

mod doctor;
mod documents;
mod mrz;
mod pki;
mod printing;
