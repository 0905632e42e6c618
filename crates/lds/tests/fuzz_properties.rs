//! The fuzz target's invariants (`travdoc_lds::fuzzing`, also run by `fuzz/`) as property
//! tests on stable Rust: DG1, DG11, DG12 and EF.COM, built valid and then damaged, never panic
//! and round-trip.

use proptest::prelude::*;
use travdoc_lds::dg::{Dg1, EfCom, FieldDataGroup};
use travdoc_lds::fuzzing::check_data_groups;

const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";

fn valid_files() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    if let Ok(dg1) = Dg1::new(TD3) {
        files.push(dg1.to_bytes());
    }
    files.push(
        FieldDataGroup::dg11(vec![
            (0x5F0E, b"ERIKSSON<<ANNA<MARIA".to_vec()),
            (0x5F11, b"ZENITH".to_vec()),
        ])
        .to_bytes(),
    );
    files.push(FieldDataGroup::dg12(vec![(0x5F19, b"UTOPIA".to_vec())]).to_bytes());
    if let Ok(com) = EfCom::new("0107", "040000", &[1, 2, 11, 12]) {
        files.push(com.to_bytes());
    }
    files
}

#[test]
fn the_valid_files_pass() {
    let files = valid_files();
    assert_eq!(files.len(), 4);
    for file in files {
        assert_eq!(check_data_groups(&file), Ok(()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn damaged_files(
        which in 0..4usize,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 0..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = valid_files().swap_remove(which.min(valid_files().len() - 1));
        for (index, mask) in flips {
            let at = index.index(bytes.len());
            bytes[at] ^= mask;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        prop_assert_eq!(check_data_groups(&bytes), Ok(()));
    }

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(check_data_groups(&bytes), Ok(()));
    }
}
