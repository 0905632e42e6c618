//! Pages rendered per second for each template (specimen data, 300 dpi calibration), and the size
//! of each PDF (printed once before the timings).
//!
//! `CARGO_TARGET_DIR=/work/tgt/render cargo bench -p travdoc-render --bench render`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use travdoc_render::{
    Calibration, Template, render_legalization, render_passport_datapage, render_ttd, specimen,
};

fn bench(c: &mut Criterion) {
    let calibration = Calibration::default();
    let passport_template = Template::builtin("passport-datapage").expect("bundled template");
    let ttd_template = Template::builtin("ttd-sheet").expect("bundled template");
    let legalization_template =
        Template::builtin("legalization-certificate").expect("bundled template");
    let passport = specimen::passport();
    let ttd = specimen::ttd();
    let legalization = specimen::legalization();

    let sizes = [
        (
            "passport-datapage",
            render_passport_datapage(&passport, &passport_template, &calibration).map(|p| p.len()),
        ),
        (
            "ttd-sheet",
            render_ttd(&ttd, &ttd_template, &calibration).map(|p| p.len()),
        ),
        (
            "legalization-certificate",
            render_legalization(&legalization, &legalization_template, &calibration)
                .map(|p| p.len()),
        ),
    ];
    for (name, size) in sizes {
        println!("PDF size {name}: {} bytes", size.expect("specimen renders"));
    }

    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.bench_function("passport-datapage", |b| {
        b.iter(|| {
            render_passport_datapage(&passport, &passport_template, &calibration).expect("renders")
        })
    });
    group.bench_function("ttd-sheet", |b| {
        b.iter(|| render_ttd(&ttd, &ttd_template, &calibration).expect("renders"))
    });
    group.bench_function("legalization-certificate", |b| {
        b.iter(|| {
            render_legalization(&legalization, &legalization_template, &calibration)
                .expect("renders")
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
