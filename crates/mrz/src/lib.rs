//! ICAO 9303 machine readable zones (work in progress: see issue 2).
#![forbid(unsafe_code)]
