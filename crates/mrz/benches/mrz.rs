//! Build and parse throughput per format. Build starts from strings as people write them (names
//! with accents), so it includes validation, transliteration, truncation and check digits.
//! Baseline in the same run: `build/TD3_ascii` (the same document with an ASCII-only name) and
//! `build_typed/TD3` (layout and check digits only, from already-validated fields).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use travdoc_mrz::{BuildOptions, MrzInput, Truncation, parse};

fn input(format: &'static str) -> MrzInput<'static> {
    let (code, number, optional) = match format {
        "TD3" => ("PP", "L898902C3", "ZE184226B"),
        "TD2" => ("I", "D23145890", ""),
        "TD1" => ("I", "D23145890734", ""),
        _ => ("V", "L898902C", "ZE184226"),
    };
    MrzInput {
        format,
        document_code: code,
        issuing_state: "UTO",
        surname: "Eriksson-Müller",
        given_names: "Anna María Åsa",
        document_number: number,
        nationality: "UTO",
        birth_date: "1974-08-12",
        sex: "F",
        expiry_date: "2032-04-15",
        optional_data: optional,
        optional_data_2: "",
    }
}

fn benches(criterion: &mut Criterion) {
    let options = BuildOptions::default();
    let mut build = criterion.benchmark_group("build");
    build.throughput(Throughput::Elements(1));
    for format in ["TD1", "TD2", "TD3", "MRV-A", "MRV-B"] {
        let input = input(format);
        build.bench_function(format, |bencher| {
            bencher.iter(|| black_box(black_box(&input).build(&options)))
        });
    }
    let ascii = MrzInput {
        surname: "Eriksson",
        given_names: "Anna Maria",
        ..input("TD3")
    };
    build.bench_function("TD3_ascii", |bencher| {
        bencher.iter(|| black_box(black_box(&ascii).build(&options)))
    });
    let long = MrzInput {
        surname: "Bennelong Wooloomooloo Warrandyte Warnambool",
        given_names: "Dingo Potoroo",
        ..input("TD3")
    };
    build.bench_function("TD3_truncated", |bencher| {
        bencher.iter(|| black_box(black_box(&long).build(&options)))
    });
    build.finish();

    let mut typed = criterion.benchmark_group("build_typed");
    typed.throughput(Throughput::Elements(1));
    if let Ok(fields) = input("TD3").to_fields(&options.transliteration) {
        typed.bench_function("TD3", |bencher| {
            bencher.iter(|| black_box(black_box(&fields).build(Truncation::Initials)))
        });
    }
    typed.finish();

    let mut parsing = criterion.benchmark_group("parse");
    parsing.throughput(Throughput::Elements(1));
    for format in ["TD1", "TD2", "TD3", "MRV-A", "MRV-B"] {
        if let Ok(mrz) = input(format).build(&options) {
            let text = mrz.to_string();
            parsing.bench_function(format, |bencher| {
                bencher.iter(|| black_box(parse(black_box(&text))))
            });
        }
    }
    parsing.finish();
}

criterion_group!(mrz, benches);
criterion_main!(mrz);
