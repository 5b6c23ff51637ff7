//! The published JSON Schema of `phipolicy/results/v1` (`docs/results-v1.schema.json`) is the one
//! the Rust types generate (`engine::document::results_schema`). Regenerate it after changing the
//! document's types with `PHIPOLICY_UPDATE_SCHEMA=1 cargo test -p engine --test schema`. Every
//! fixture's document is validated against it by `tests/fixtures.rs`.

use std::path::Path;

#[test]
fn the_published_schema_is_the_generated_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/results-v1.schema.json");
    let mut generated =
        serde_json::to_string_pretty(&engine::document::results_schema()).expect("schema");
    generated.push('\n');
    if std::env::var_os("PHIPOLICY_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let published = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (generate it: PHIPOLICY_UPDATE_SCHEMA=1 cargo test -p engine --test schema)",
            path.display()
        )
    });
    assert!(
        published == generated,
        "{} is stale: regenerate it with PHIPOLICY_UPDATE_SCHEMA=1 cargo test -p engine --test schema",
        path.display()
    );
}

/// The schema rejects what the contract forbids: an unknown status, a missing field.
#[test]
fn the_schema_rejects_a_wrong_document() {
    let schema = engine::document::results_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    assert!(!validator.is_valid(&serde_json::json!({"schema": "phipolicy/results/v1"})));
    let defs = schema["$defs"]["Status"].to_string();
    assert!(defs.contains("not_applicable") && defs.contains("waived"), "{defs}");
}
