//! The conformance run: every known image, baseline / hardened / mutated, scanned live in the
//! container and as an exported tree; writes the matrix to target/conformance/ and fails on any
//! problem. Images that cannot be had are reported unavailable, never passed.

use harness::{IMAGES, Matrix};

#[test]
fn conformance_matrix() {
    let bin = harness::phipolicy_bin().unwrap_or_else(|e| panic!("{e:#}"));
    if let Err(e) = harness::docker_reachable() {
        panic!("{e:#}");
    }
    let mutations = harness::load_mutations().unwrap_or_else(|e| panic!("{e:#}"));
    let expectations = harness::load_expectations().unwrap_or_else(|e| panic!("{e:#}"));

    let mut reports = Vec::new();
    for spec in IMAGES {
        eprintln!("harness: {} ({})", spec.name, spec.reference);
        let report = harness::run_image(spec, &bin, &mutations, &expectations);
        match &report.reason {
            Some(reason) => eprintln!("harness: UNAVAILABLE {}: {reason}", spec.name),
            None => eprintln!(
                "harness: {} done in {:.0} s, {} problem(s)",
                spec.name,
                report.duration_s,
                report.problems.len()
            ),
        }
        reports.push(report);
    }
    let matrix = Matrix::new(reports);
    let out = harness::output_dir();
    matrix.write(&out).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("harness: matrix written to {}", out.display());

    let require_all = std::env::var("PHIPOLICY_CONFORMANCE_REQUIRE").is_ok_and(|v| v == "all");
    let mut problems = matrix.problems();
    if require_all {
        problems.extend(matrix.images.iter().filter_map(|r| {
            r.reason
                .as_ref()
                .map(|why| format!("{}: unavailable: {why}", r.image))
        }));
    }
    let ran: Vec<_> = matrix
        .images
        .iter()
        .filter(|r| r.reason.is_none())
        .collect();
    assert!(
        !ran.is_empty(),
        "no image could run: build them with `cargo xtask images`"
    );

    // The baseline statuses of each image are the product's output on a stock system: reviewed.
    for r in &ran {
        if let Some(scan) = &r.baseline_live {
            insta::assert_yaml_snapshot!(format!("baseline-{}", r.image), scan.statuses);
        }
    }
    assert!(
        problems.is_empty(),
        "{} conformance problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}
