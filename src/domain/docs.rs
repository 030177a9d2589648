//! The JSON documents of users, nodes and organizations in the raw shape Authing's webhooks and
//! exports carry (seeds 000 and 001): event payloads and the export format use these. The
//! GraphQL types are a separate, typed view. Passwords never appear.

use entity::{node, org, user};
use serde_json::{Value, json};

fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn user_doc(u: &user::Model) -> Value {
    json!({
        "id": u.id, "createdAt": iso(u.created_at), "updatedAt": iso(u.updated_at),
        "userPoolId": u.user_pool_id, "isRoot": false, "status": u.status, "oauth": u.oauth,
        "email": u.email, "phone": u.phone, "phoneCountryCode": u.phone_country_code, "username": u.username,
        "unionid": u.unionid, "openid": u.openid, "nickname": u.nickname, "company": u.company,
        "photo": u.photo, "browser": u.browser, "device": u.device, "loginsCount": u.logins_count,
        "lastIp": u.last_ip, "name": u.name, "givenName": u.given_name, "familyName": u.family_name,
        "middleName": u.middle_name, "profile": u.profile, "preferredUsername": u.preferred_username,
        "website": u.website, "gender": u.gender, "birthdate": u.birthdate, "zoneinfo": u.zoneinfo,
        "locale": u.locale, "address": u.address, "formatted": u.formatted,
        "streetAddress": u.street_address, "locality": u.locality, "region": u.region,
        "postalCode": u.postal_code, "city": u.city, "province": u.province, "country": u.country,
        "registerSource": u.register_source, "emailVerified": u.email_verified,
        "phoneVerified": u.phone_verified, "lastLogin": u.last_login.map(iso), "blocked": u.blocked,
        "isDeleted": false, "signedUp": iso(u.signed_up.unwrap_or(u.created_at)),
        "externalId": u.external_id, "customData": u.custom_data,
    })
}

pub fn node_doc(n: &node::Model) -> Value {
    json!({
        "id": n.id, "createdAt": iso(n.created_at), "updatedAt": iso(n.updated_at),
        "userPoolId": n.user_pool_id, "orgId": n.org_id, "parentId": n.parent_id, "name": n.name,
        "nameI18n": n.name_i18n, "description": n.description, "descriptionI18n": n.description_i18n,
        "order": n.order, "code": n.code, "leaderUserId": n.leader_user_id, "depth": n.depth,
        "root": n.parent_id.is_none(),
    })
}

pub fn org_doc(o: &org::Model) -> Value {
    json!({
        "id": o.id, "createdAt": iso(o.created_at), "updatedAt": iso(o.updated_at),
        "userPoolId": o.user_pool_id, "rootNodeId": o.root_node_id, "tenantId": o.tenant_id,
        "logo": null, "thirdPartyOrgId": null,
    })
}
