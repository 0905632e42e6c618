//! The answers every operation shares, added to the OpenAPI document in one place from the
//! operation's shape, so that the document lists every status an operation can return:
//!
//! | shape | statuses | from |
//! |---|---|---|
//! | any | 500 | a fault that is not the caller's (`internal`, with the request id) |
//! | any but `/healthz` | 503 | the database or HSM is unavailable or busy; nothing was stored |
//! | `security` (bearer) | 401, 403 | `Caller`: no or unknown token; the role may not act |
//! | a request body | 400, 413, 415, 422 | `ApiJson`: not JSON; over the body limit; not `application/json`; a field's rule |
//! | an `Idempotency-Key` header | 409, 422 | the key was used for another request; the key is malformed |
//! | a path parameter | 404 | no such resource, or none the caller may see |
//! | a path or query parameter | 422 | the parameter's rule (the field names it) |
//!
//! An operation's own answers (404, 409 for a state, 429, 502, ...) stay in its `#[utoipa::path]`.

use serde_json::{Value, json};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// The shared answers, as a [`utoipa::Modify`].
pub struct SharedAnswers;

fn error_answer(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

fn add(operation: &mut Operation, status: u16, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| error_answer(description));
}

fn shape(operation: &Operation) -> (bool, bool, bool, bool) {
    let parameters = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(parameter) => Some(parameter),
            RefOr::Ref(_) => None,
        });
    let mut idempotent = false;
    let mut checked = false;
    let mut addressed = false;
    for parameter in parameters {
        match parameter.parameter_in {
            ParameterIn::Header if parameter.name.eq_ignore_ascii_case("idempotency-key") => {
                idempotent = true;
            }
            ParameterIn::Path => {
                checked = true;
                addressed = true;
            }
            ParameterIn::Query => checked = true,
            _ => {}
        }
    }
    (operation.security.is_some(), idempotent, checked, addressed)
}

impl utoipa::Modify for SharedAnswers {
    fn modify(&self, openapi: &mut OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.delete.as_mut(),
                item.patch.as_mut(),
            ];
            for operation in operations.into_iter().flatten() {
                let (secured, idempotent, checked, addressed) = shape(operation);
                add(
                    operation,
                    500,
                    "An internal fault, never caused by the request; quote the request id.",
                );
                if path != "/healthz" {
                    add(
                        operation,
                        503,
                        "The database or the HSM is unavailable or busy; nothing was stored. \
                         Retry later (`Retry-After` when known).",
                    );
                }
                if secured {
                    add(
                        operation,
                        401,
                        "No bearer token, or one that is unknown, expired or of a disabled user.",
                    );
                    add(
                        operation,
                        403,
                        "The caller's role may not perform this act.",
                    );
                }
                if operation.request_body.is_some() {
                    add(operation, 400, "The body is not JSON.");
                    add(
                        operation,
                        413,
                        "The body is larger than the service accepts.",
                    );
                    add(operation, 415, "The body is not `application/json`.");
                    add(
                        operation,
                        422,
                        "A field breaks its rule; `error.field` names it.",
                    );
                }
                if idempotent {
                    add(
                        operation,
                        409,
                        "The `Idempotency-Key` was already used for a different request.",
                    );
                    add(
                        operation,
                        422,
                        "A field or the `Idempotency-Key` breaks its rule; `error.field` names it.",
                    );
                }
                if addressed {
                    add(
                        operation,
                        404,
                        "No such resource (or none the caller may see).",
                    );
                }
                if checked {
                    add(
                        operation,
                        422,
                        "A parameter breaks its rule; `error.field` names it.",
                    );
                }
            }
        }
    }
}

/// The rules of the request bodies and parameters, written into the served document
/// (`GET /openapi.json`): the derived schemas give the shapes, this gives what the validation
/// enforces on each field, from the same patterns and limits (`issuance::input::patterns`).
/// `printers` are the configured printer names (the only values `printer` takes).
pub fn constrain(document: &mut Value, printers: &[String]) {
    use crate::issuance::input::patterns;
    let free =
        |max: usize| json!({ "minLength": 1, "maxLength": max, "pattern": patterns::free_text() });
    let optional_free = |max: usize| {
        let inner = patterns::free_text();
        let inner = &inner[1..inner.len() - 1];
        json!({ "maxLength": max, "pattern": format!("^(?:{inner})?$") })
    };
    let date = json!({ "format": "date", "pattern": patterns::DATE });
    let country = json!({ "pattern": patterns::COUNTRY });
    let photo = json!({
        "minLength": 4, "maxLength": PHOTO_BASE64_CHARS, "pattern": patterns::BASE64,
        "contentEncoding": "base64", "contentMediaType": "image/jpeg",
    });
    let person = [
        (
            "surname",
            json!({ "minLength": 1, "maxLength": 64, "pattern": patterns::name(true) }),
        ),
        (
            "given_names",
            json!({ "maxLength": 64, "pattern": patterns::name(false) }),
        ),
        ("nationality", country.clone()),
        ("birth_date", date.clone()),
        ("sex", json!({ "enum": ["M", "F", "X"] })),
    ];
    // The NIC as the card shows it (its layout is a check before issuance, not an input
    // rule), or why there is none: exactly one of the two.
    let given = |field: &str| json!({ "properties": { field: { "type": "string", "minLength": 1 } }, "required": [field] });
    let one_of_two = |a: &str, b: &str| {
        json!([
            { "anyOf": [given(a), given(b)] },
            { "not": { "allOf": [given(a), given(b)] } },
        ])
    };
    for body in ["TtdRequestBody", "PassportApplicationBody"] {
        for (field, rule) in &person {
            merge(document, body, field, rule.clone());
        }
        merge(document, body, "photo", photo.clone());
        merge(
            document,
            body,
            "nic",
            json!({ "pattern": "^[A-Za-z0-9]{0,16}$" }),
        );
        merge(document, body, "nic_absent_reason", optional_free(200));
    }
    if let Some(Value::Object(schema)) = document.pointer_mut("/components/schemas/TtdRequestBody")
    {
        schema.insert("allOf".to_owned(), one_of_two("nic", "nic_absent_reason"));
    }
    // A previous passport is named with what became of it, or not at all.
    let both_or_neither = |a: &str, b: &str| {
        json!([
            { "anyOf": [{ "not": given(a) }, given(b)] },
            { "anyOf": [{ "not": given(b) }, given(a)] },
        ])
    };
    if let Some(Value::Object(schema)) =
        document.pointer_mut("/components/schemas/PassportApplicationBody")
    {
        let mut rules = one_of_two("nic", "nic_absent_reason")
            .as_array()
            .cloned()
            .unwrap_or_default();
        rules.extend(
            both_or_neither("previous_document_number", "previous_document_status")
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        schema.insert("allOf".to_owned(), Value::Array(rules));
    }
    merge(
        document,
        "ClearHold",
        "code",
        json!({ "enum": crate::issuance::checks::CheckCode::ALL.map(|code| code.as_str()) }),
    );
    merge(document, "ClearHold", "reason", free(500));
    merge(document, "Decision", "reason", free(500));
    let ttd = [
        ("mission", json!({ "pattern": MISSION_PATTERN })),
        ("destination", country.clone()),
        ("route", json!({ "maxItems": 8, "items": free(64) })),
        ("valid_until", date),
        ("case_reference", optional_free(64)),
        (
            "previous_document",
            json!({ "pattern": "^[A-Z0-9]{0,20}$" }),
        ),
    ];
    for (field, rule) in ttd {
        merge(document, "TtdRequestBody", field, rule);
    }
    let passport = [
        ("place_of_birth", optional_free(64)),
        ("personal_number", json!({ "pattern": "^[A-Z0-9]{0,14}$" })),
        ("validity_years", json!({ "enum": [5, 10, null] })),
        (
            "previous_document_number",
            json!({ "pattern": "^[A-Z0-9]{0,20}$" }),
        ),
        (
            "previous_document_status",
            json!({ "enum": ["presented", "lost", "stolen", "damaged", "", null] }),
        ),
    ];
    for (field, rule) in passport {
        merge(document, "PassportApplicationBody", field, rule);
    }
    let legalization = [
        ("document_type", free(100)),
        ("signatory", optional_free(100)),
        ("capacity", optional_free(100)),
        ("authority", free(100)),
        ("seal_of", optional_free(100)),
        (
            "country_of_use",
            json!({ "pattern": patterns::LETTERS_COUNTRY }),
        ),
        ("place", optional_free(64)),
        (
            "document",
            json!({
                "minLength": 4,
                "maxLength": crate::issuance::input::MAX_DOCUMENT_BYTES.div_ceil(3) * 4,
                "pattern": patterns::BASE64, "contentEncoding": "base64",
            }),
        ),
    ];
    for (field, rule) in legalization {
        merge(document, "LegalizationBody", field, rule);
    }
    // The signatory or the seal borne; a capacity only with a signatory.
    if let Some(Value::Object(schema)) =
        document.pointer_mut("/components/schemas/LegalizationBody")
    {
        schema.insert(
            "allOf".to_owned(),
            json!([
                { "anyOf": [given("signatory"), given("seal_of")] },
                { "anyOf": [{ "not": given("capacity") }, given("signatory")] },
            ]),
        );
    }
    merge(
        document,
        "PrintBody",
        "printer",
        json!({ "enum": printers }),
    );
    merge(document, "PrintBody", "reprint_reason", optional_free(200));
    merge(
        document,
        "CreateUser",
        "name",
        json!({ "pattern": "^[A-Za-z0-9._-]{1,64}$" }),
    );
    // A mission user names its mission; no other role has one.
    let roles: Vec<&str> = crate::auth::Role::ALL
        .iter()
        .map(|role| role.as_str())
        .filter(|role| *role != "mission")
        .collect();
    for body in ["CreateUser", "SetRole"] {
        if let Some(schema) = document.pointer_mut(&format!("/components/schemas/{body}"))
            && let Some(object) = schema.as_object_mut()
        {
            object.insert(
                "oneOf".to_owned(),
                json!([
                    { "properties": { "role": { "const": "mission" },
                                      "mission": { "type": "string", "pattern": MISSION_PATTERN } },
                      "required": ["mission"] },
                    { "properties": { "role": { "enum": roles }, "mission": { "type": "null" } } },
                ]),
            );
        }
    }
    merge(document, "CreateToken", "label", optional_free(64));
    merge(
        document,
        "CreateToken",
        "expires_days",
        json!({ "minimum": 1, "maximum": crate::usecase::accounts::MAX_TOKEN_DAYS }),
    );
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert("VerifyBody".to_owned(), verify_body());
    }
    // `IdempotencyKey::new`: 1 to 200 visible ASCII characters.
    if let Some(Value::Object(paths)) = document.get_mut("paths") {
        for parameters in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
            .filter_map(|operation| operation.get_mut("parameters"))
            .filter_map(Value::as_array_mut)
        {
            for parameter in parameters.iter_mut() {
                if parameter["name"] == "Idempotency-Key" {
                    parameter["schema"] = json!({ "type": "string", "pattern": "^[!-~]{1,200}$" });
                }
            }
        }
    }
    parameter(
        document,
        "/v1/pki/certificates/{serial}",
        "serial",
        json!({ "type": "string", "pattern": "^[0-9A-Fa-f]{1,40}$" }),
    );
    parameter(
        document,
        "/v1/documents",
        "state",
        json!({ "type": ["string", "null"],
                "enum": ["issued", "printed", "used", "revoked", "valid", "expired", null] }),
    );
    parameter(
        document,
        "/v1/documents",
        "type",
        json!({ "type": ["string", "null"], "enum": ["ttd", "passport", "legalization", null] }),
    );
    parameter(
        document,
        "/v1/documents",
        "limit",
        json!({ "type": ["integer", "null"], "minimum": 1, "maximum": 1000 }),
    );
    parameter(
        document,
        "/v1/documents",
        "offset",
        json!({ "type": ["integer", "null"], "minimum": 0, "maximum": i64::MAX }),
    );
    // The person filters of the searches (`issuance::people::PersonQuery`); empty is none.
    let name = patterns::name(false);
    for path in ["/v1/documents", "/v1/requests", "/v1/ttds"] {
        parameter(
            document,
            path,
            "nic",
            json!({ "type": ["string", "null"], "pattern": "^[A-Za-z0-9]{0,16}$" }),
        );
        parameter(
            document,
            path,
            "name",
            json!({ "type": ["string", "null"], "maxLength": 64, "pattern": name }),
        );
        parameter(
            document,
            path,
            "birth_date",
            json!({ "type": ["string", "null"], "pattern": "^(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?$" }),
        );
        let mut case_id = optional_free(64);
        case_id["type"] = json!(["string", "null"]);
        parameter(document, path, "case_id", case_id);
    }
    for path in ["/v1/requests", "/v1/ttds"] {
        parameter(
            document,
            path,
            "state",
            json!({ "type": ["string", "null"], "enum": ["requested", "on_hold", "returned",
                    "rejected", "approved", "issued", null] }),
        );
        parameter(
            document,
            path,
            "limit",
            json!({ "type": ["integer", "null"], "minimum": 1, "maximum": 1000 }),
        );
    }
    parameter(
        document,
        "/v1/requests",
        "type",
        json!({ "type": ["string", "null"], "enum": ["ttd", "passport", null] }),
    );
    parameter(
        document,
        "/v1/reports/{report}",
        "report",
        json!({ "type": "string",
                "enum": crate::usecase::reports::ReportName::ALL.map(|name| name.as_str()) }),
    );
    for name in ["from", "to"] {
        parameter(
            document,
            "/v1/reports/{report}",
            name,
            json!({ "type": ["string", "null"], "pattern": "^(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?$" }),
        );
    }
    parameter(
        document,
        "/v1/reports/{report}",
        "format",
        json!({ "type": ["string", "null"], "enum": ["json", "csv", "", null] }),
    );
    parameter(
        document,
        "/v1/sltd/export",
        "since",
        json!({ "type": ["string", "null"], "format": "date",
                "pattern": crate::issuance::input::patterns::DATE }),
    );
}

/// A mission code (`auth::MissionCode`).
const MISSION_PATTERN: &str = "^[A-Z0-9-]{3,8}$";

/// Base64 characters of the largest portrait DG2 takes.
const PHOTO_BASE64_CHARS: usize = 87_380;

/// Merges `rule` into the schema of `field` of the component `schema`.
fn merge(document: &mut Value, schema: &str, field: &str, rule: Value) {
    let pointer = format!("/components/schemas/{schema}/properties/{field}");
    if let (Some(Value::Object(target)), Value::Object(rule)) =
        (document.pointer_mut(&pointer), rule)
    {
        target.extend(rule);
    }
}

/// Sets the schema of the parameter `name` of every operation on `path`.
fn parameter(document: &mut Value, path: &str, name: &str, schema: Value) {
    let Some(item) = document
        .pointer_mut(&format!(
            "/paths/{}",
            path.replace('~', "~0").replace('/', "~1")
        ))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for operation in item.values_mut() {
        for parameter in operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if parameter["name"] == name {
                parameter["schema"] = schema.clone();
            }
        }
    }
}

/// `POST /v1/verify`: exactly one artifact; data groups (DG1 among them) only with an SOD;
/// a document or the printed MRZ, never both and never with an SOD.
fn verify_body() -> Value {
    use crate::usecase::verify::{MAX_ARTIFACT_BYTES, MAX_TEXT_CHARS};
    // What `decode_base64` takes: standard (padded) or URL-safe (unpadded) base64, with white
    // space anywhere (`char::is_whitespace`), at least one byte.
    let space = r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*";
    let encoded = |alphabet: &str, padded: bool| {
        let symbol = format!("{alphabet}{space}");
        let (two, three) = if padded {
            (
                format!("{symbol}[AQgw]{space}={space}={space}"),
                format!("{symbol}{symbol}[AEIMQUYcgkosw048]{space}={space}"),
            )
        } else {
            (
                format!("{symbol}[AQgw]{space}"),
                format!("{symbol}{symbol}[AEIMQUYcgkosw048]{space}"),
            )
        };
        let tail = format!("(?:{two}|{three})");
        format!("(?:(?:(?:{symbol}){{4}})+{tail}?|{tail})")
    };
    let standard = encoded("[A-Za-z0-9+/]", true);
    let url_safe = encoded("[A-Za-z0-9_-]", false);
    let base64 = json!({
        "type": "string",
        "pattern": format!("^{space}(?:{standard}|{url_safe})$"),
        "contentEncoding": "base64",
        "description": format!("At most {MAX_ARTIFACT_BYTES} bytes once decoded."),
    });
    let document = {
        let mut document = base64.clone();
        document["description"] = json!(format!(
            "The legalized document (its hash is compared with the certificate's), at most {} \
             bytes once decoded.",
            crate::issuance::input::MAX_DOCUMENT_BYTES
        ));
        document
    };
    let printed_mrz = json!({
        "type": "array", "minItems": 2, "maxItems": 2,
        "items": { "type": "string", "pattern": "^[\\x00-\\x7f]{1,64}$" },
        "description": "The two MRZ lines printed on a TTD (compared with the seal's MRZ).",
    });
    let qr = json!({
        "type": "string", "maxLength": MAX_TEXT_CHARS,
        "pattern": format!("[^{}]", &space[1..space.len() - 2]),
        "description": "QR text (legalization).",
    });
    let data_groups = json!({
        "type": "object",
        "propertyNames": { "pattern": "^(?:[1-9]|1[0-6])$" },
        "additionalProperties": base64,
        "required": ["1"],
        "description": "Data groups by number (`\"1\"` to `\"16\"`, DG1 required), base64.",
    });
    let nullable = |schema: &Value| json!({ "anyOf": [schema, { "type": "null" }] });
    let absent = json!({ "type": "null" });
    // One branch per artifact: every field appears, the others' as `null` (or absent).
    let with = |artifact: &str, schema: Value, evidence: bool| {
        let mut properties = serde_json::Map::new();
        for other in ["seal", "barcode_image", "qr", "sod", "data_groups"] {
            properties.insert(other.to_owned(), absent.clone());
        }
        properties.insert(artifact.to_owned(), schema);
        let mut required = vec![artifact.to_owned()];
        if artifact == "sod" {
            properties.insert("data_groups".to_owned(), data_groups.clone());
            required.push("data_groups".to_owned());
        }
        let (document, printed_mrz) = if evidence {
            (nullable(&document), nullable(&printed_mrz))
        } else {
            (absent.clone(), absent.clone())
        };
        properties.insert("document".to_owned(), document);
        properties.insert("printed_mrz".to_owned(), printed_mrz);
        json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
            // Not both pieces of evidence.
            "not": {
                "properties": { "document": { "type": "string" }, "printed_mrz": { "type": "array" } },
                "required": ["document", "printed_mrz"],
            },
        })
    };
    json!({
        "description": "Exactly one of `seal`, `barcode_image`, `qr` or `sod` (with `data_groups`).",
        "oneOf": [
            with("seal", json!({ "description": "Seal bytes, base64.", "allOf": [base64] }), true),
            with("barcode_image", json!({ "description": "PNG or JPEG photo or scan of the barcode, base64.", "allOf": [base64] }), true),
            with("qr", qr, true),
            with("sod", json!({ "description": "EF.SOD, base64.", "allOf": [base64] }), false),
        ],
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn operations(document: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                out.push((path.clone(), method.clone(), operation.clone()));
            }
        }
        out
    }

    #[test]
    fn operation_ids_are_unique_and_every_operation_has_the_shared_answers() {
        let document = super::super::document(&["default".to_owned()]);
        let all = operations(&document);
        assert!(all.len() > 20, "{} operations", all.len());
        let mut ids: Vec<&str> = all
            .iter()
            .filter_map(|(_, _, operation)| operation["operationId"].as_str())
            .collect();
        assert_eq!(ids.len(), all.len(), "every operation has an id");
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "operation ids repeat");
        for (path, method, operation) in &all {
            let answers = &operation["responses"];
            assert!(answers.get("500").is_some(), "{method} {path}: 500");
            if operation.get("security").is_some() {
                for status in ["401", "403"] {
                    assert!(answers.get(status).is_some(), "{method} {path}: {status}");
                }
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(answers.get(status).is_some(), "{method} {path}: {status}");
                }
            }
        }
    }

    #[test]
    fn the_field_rules_are_in_the_served_document() {
        let document = super::super::document(&["default".to_owned(), "lobby".to_owned()]);
        let schemas = &document["components"]["schemas"];
        assert_eq!(
            schemas["PrintBody"]["properties"]["printer"]["enum"],
            serde_json::json!(["default", "lobby"])
        );
        assert!(schemas["TtdRequestBody"]["properties"]["surname"]["pattern"].is_string());
        assert_eq!(
            schemas["VerifyBody"]["oneOf"].as_array().map(Vec::len),
            Some(4)
        );
        assert!(schemas["LegalizationBody"]["allOf"].is_array());
    }

    /// The patterns say what the rules say, on samples at their edges (the contract test
    /// checks the rest against the live server).
    #[test]
    fn patterns_agree_with_the_rules_on_their_edges() {
        use crate::issuance::input::patterns;
        let free = regex_lite(&patterns::free_text());
        for (text, accepted) in [
            ("Registrar General", true),
            (" Registrar", false),
            ("Registrar ", false),
            ("Registrar\u{3000}", false),
            ("a\tb", false),
            ("x", true),
            ("", false),
            ("සිංහල", true),
        ] {
            assert_eq!(free(text), accepted, "{text:?}");
        }
        let base64 = regex_lite(patterns::BASE64);
        for (text, accepted) in [
            ("JVBERi0xLjQK", true),
            ("AA==", true),
            ("AB==", false),
            ("AAA=", true),
            ("AAB=", false),
            ("AAAA", true),
            ("", false),
            ("AAA", false),
        ] {
            assert_eq!(base64(text), accepted, "{text:?}");
            let decoded = {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .is_ok_and(|bytes| !bytes.is_empty())
            };
            assert_eq!(decoded, accepted, "the decoder on {text:?}");
        }
    }

    /// A tiny matcher for the patterns above through the regex the workspace already has.
    fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool + use<> {
        let compiled = regex::Regex::new(pattern).unwrap_or_else(|error| panic!("{error}"));
        move |text| compiled.is_match(text)
    }
}
