//! The fuzz target's invariants (`travdoc_tlog::fuzzing`, also run by `fuzz/`) as property
//! tests on stable Rust: signed notes, checkpoints and proof bundles, shaped like real ones and
//! arbitrary, never panic, round-trip, and never verify without a known key.

use proptest::prelude::*;
use travdoc_tlog::fuzzing::check_note_and_checkpoint;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn shaped_like_notes(
        text in "[a-z0-9./-]{1,24}\n[0-9]{1,21}\n[A-Za-z0-9+/=]{0,48}\n([a-z =]{0,12}\n)?\n(\u{2014} [a-z.]{1,12} [A-Za-z0-9+/=]{4,96}\n){0,2}"
    ) {
        prop_assert_eq!(check_note_and_checkpoint(text.as_bytes()), Ok(()));
    }

    #[test]
    fn arbitrary_text(text in "\\PC{0,300}") {
        prop_assert_eq!(check_note_and_checkpoint(text.as_bytes()), Ok(()));
    }

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        prop_assert_eq!(check_note_and_checkpoint(&bytes), Ok(()));
    }
}
