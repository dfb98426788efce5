//! Optional request bodies in the derived document. utoipa documents
//! `request_body = Option<T>` as not required, as the contract says, but
//! also as nullable: a body the server refuses (it must be an object), so
//! the `null` alternative is dropped here, after the routes are collected.

use utoipa::{
    Modify,
    openapi::{
        self, RefOr, Required,
        schema::{Schema, SchemaType, Type},
    },
};

pub(super) struct AbsentNotNull;

impl Modify for AbsentNotNull {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
        let operations = openapi.paths.paths.values_mut().flat_map(|item| {
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
        });
        let optional_bodies = operations
            .filter_map(|operation| match operation.request_body.as_mut() {
                Some(RefOr::T(body)) => Some(body),
                _ => None,
            })
            .filter(|body| body.required != Some(Required::True));
        for body in optional_bodies {
            for content in body.content.values_mut() {
                let RefOr::T(content) = content else { continue };
                if let Some(schema) = content.schema.take() {
                    content.schema = Some(without_null(schema));
                }
            }
        }
    }
}

/// `oneOf: [T, {type: null}]` as `T`; anything else as it is.
fn without_null(schema: RefOr<Schema>) -> RefOr<Schema> {
    let RefOr::T(Schema::OneOf(one_of)) = &schema else { return schema };
    let is_null = |item: &RefOr<Schema>| matches!(item, RefOr::T(Schema::Object(object)) if object.schema_type == SchemaType::Type(Type::Null));
    match one_of.items.as_slice() {
        [item, null] | [null, item] if is_null(null) && !is_null(item) => item.clone(),
        _ => schema,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_roll_body_is_optional_and_not_nullable() {
        let document = serde_json::to_value(crate::api::openapi()).unwrap();
        let body = &document["paths"]["/v1/api-tokens/{id}/roll"]["post"]["requestBody"];
        assert_eq!(body.get("required"), None);
        assert_eq!(
            body["content"]["application/json"]["schema"],
            serde_json::json!({"$ref": "#/components/schemas/RollApiTokenRequest"})
        );
    }
}
