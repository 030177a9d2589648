//! The events a webhook or subscriber may ask for: seed 000's list, names and descriptions (and
//! the names GenAuth v3 adds), as one enum, so that an event name is checked when the code
//! compiles. A pool's custom event types (`custom.rs`) come on top. orgraph itself causes the
//! `user:*` and `organization:*` ones docs/reference/events.md lists (see `payload::DomainEvent`); the others can
//! be published by systems in front of it with `publishEvent`.

macro_rules! event_names {
    ($($variant:ident $name:literal $description:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventName {
            $($variant,)*
        }

        impl EventName {
            /// Every event, in the catalog's order.
            pub const ALL: &'static [EventName] = &[$(EventName::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventName::$variant => $name,)*
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $(EventName::$variant => $description,)*
                }
            }

            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(EventName::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

event_names! {
    // orgraph's own: a webhook turned off after too many failed deliveries in a row.
    WebhookDisabled "webhook:disabled" "A webhook was disabled after its deliveries failed --webhook-max-failures times in a row; data.webhook, data.consecutiveFailures",
    Login "login" "Login event, which is triggered when the user logs in, regardless of whether the login is successful or not.",
    Register "register" "Registration event, this event is triggered when a user registers, an administrator manually creates a user, or imports a user",
    UserCreated "user:created" "User creation event, this event is triggered when a user registers, an administrator manually creates a user, or imports a user. The logic is the same as that of register. Generally, you only need to listen to one of the events",
    MfaVerified "mfa:verified" "MFA verification event, triggered when the user logs in and triggers MFA, and enters the MFA verification code for secondary login, whether successful or not",
    UserUpdated "user:updated" "User information modification event, triggered when the user modifies their own information or the administrator manually modifies the user information, whether successful or not",
    UserUdvChanged "user:udv-changed" "User extended information modification event, triggered when the user modifies their own extended information or the administrator manually modifies the user extended information",
    UserDeleted "user:deleted" "Administrator deletes user event",
    UserPasswordChanged "user:password-changed" "Password change event, this event is triggered when the user changes the password or the administrator manually changes the password, whether it is successful or not",
    UserPasswordUpdateRemind "user:password-update-remind" "User password expires, this event is triggered when a reminder email is sent to the user",
    UserEmailVerified "user:email-verified" "User email verified event",
    UserRegisterWhitelistAdded "user:register-whitelist-added" "Add registration whitelist event",
    UserRegisterWhitelistDeleted "user:register-whitelist-deleted" "Delete registration whitelist event",
    PermissionAdd "permission:add" "Add authorization event, the authorization object can be user, role, organizational structure, group",
    PermissionRevoke "permission:revoke" "Cancel authorization event, the authorization object can be user, role, organizational structure, group",
    Kick "kick" "User forced offline event",
    PrivilegeNamespaceCreated "privilege-namespace:created" "Add permission group event, this event is triggered when the administrator manually creates a permission group, or creates an application to automatically create a permission group",
    PrivilegeNamespaceUpdated "privilege-namespace:updated" "Modify permission group information event",
    PrivilegeNamespaceDeleted "privilege-namespace:deleted" "Delete permission group event",
    ResourceCreated "resource:created" "Add resource event",
    ResourceDelete "resource:delete" "Delete resource event",
    ResourceUpdated "resource:updated" "Update resource event",
    RoleAdd "role:add" "Create role event",
    RoleDelete "role:delete" "Delete role event",
    RoleUpdated "role:updated" "Update role event",
    RoleAssigned "role:assigned" "Role authorization to subject event",
    RoleUnassigned "role:unassigned" "Unauthorize role to subject event",
    RoleUdvChanged "role:udv-changed" "Modify role custom field value event",
    UserArchived "user:archived" "User successfully archived event",
    UserUnarchived "user:unarchived" "User successfully unarchived event",
    UserBlocked "user:blocked" "User locked event",
    UserUnblocked "user:unblocked" "User unlocked event",
    UserLinkAccount "user:link-account" "User social account binding event",
    ApplicationMfaEnabled "application:mfa:enabled" "Application enables MFA authentication",
    ApplicationMfaDisabled "application:mfa:disabled" "Application disables MFA authentication",
    GroupCreated "group:created" "Create user group",
    GroupUpdated "group:updated" "Update user group",
    GroupDeleted "group:deleted" "Delete user group",
    GroupMemberAdded "group:member-added" "Add user to user group",
    GroupMemberRemoved "group:member-removed" "Remove user from user group",
    OrganizationCreated "organization:created" "Create top-level department event",
    OrganizationDeleted "organization:deleted" "Delete top-level department",
    OrganizationNodeAdded "organization:node-added" "Create sub-department event",
    OrganizationNodeUpdated "organization:node-updated" "Modify department information event",
    OrganizationNodeMoved "organization:node-moved" "Move sub-department, this event is triggered when the administrator manually moves a sub-department",
    OrganizationNodeDeleted "organization:node-deleted" "Delete sub-department event",
    OrganizationMemberAdded "organization:member-added" "Add member to department",
    OrganizationMemberRemoved "organization:member-removed" "Remove members from a department",
    OrganizationUdvChanged "organization:udv-changed" "Modify department custom field value event",
    OrganizationImported "organization:imported" "Import organization tree",
    OrganizationTreeUpdated "organization:tree-updated" "Update organization tree",
    OrganizationScheduledChangesFailed "organization:scheduled-changes-failed" "Scheduled organization changes could not be applied",
    // orgraph's own: users entering or leaving a watched department's subtree.
    OrganizationSubtreeMemberEntered "organization:subtree-member-entered" "Users came into a watched department's subtree (a membership or a move); data.subtreeRootId, data.departmentId, data.users (at most 1,000)",
    OrganizationSubtreeMemberLeft "organization:subtree-member-left" "Users left a watched department's subtree (a membership, a move or a deletion); data.subtreeRootId, data.departmentId, data.users (at most 1,000)",
    UserPoolCooperatorAdded "user-pool:cooperator-added" "User pool added cooperator event",
    UserPoolCooperatorRemoved "user-pool:cooperator-removed" "User pool removed cooperator event",
    UserPoolSecretRefreshed "user-pool:secret-refreshed" "Refresh user pool secret key",
    UserPoolUdfAdded "user-pool:udf-added" "Add user or role custom field event",
    UserPoolUdfDeleted "user-pool:udf-deleted" "Delete user or role custom field event",
    UserPoolUpdated "user-pool:updated" "Update user pool information",
    UserPoolEnvAdded "user-pool:env-added" "Add environment variables",
    UserPoolEnvUpdated "user-pool:env-updated" "Modify environment variables",
    UserPoolEnvDeleted "user-pool:env-deleted" "Delete environment variables",
    UserPoolLaunchpadAppInstalled "user-pool:launchpad-app-installed" "Install applications to the application panel",
    UserPoolLaunchpadAppUninstalled "user-pool:launchpad-app-uninstalled" "Uninstall applications from the application panel",
    ApplicationCreated "application:created" "Create application",
    ApplicationUpdated "application:updated" "Update application",
    ApplicationDeleted "application:deleted" "Delete application",
    ApplicationSecretRefreshed "application:secret-refreshed" "Refresh application secret",
    // GenAuth v3's names (its SDKs' `WebhookEventName`) that seed 000 lacks.
    Test "test" "A test request (testWebhook, v3 trigger-webhook)",
    RoleDisable "role:disable" "Disable role event",
    SubjectRemove "subject:remove" "Remove a subject from a role event",
    UserOrganizationNodeUpdate "user:organization-node-update" "A user's departments changed",
    DataResourceCreated "data-resource:created" "Create data resource event",
    DataResourceUpdated "data-resource:updated" "Update data resource event",
    DataResourceDeleted "data-resource:deleted" "Delete data resource event",
    DataStrategyPermissionAdd "data-strategy-permission:add" "Grant data policy permission event",
    DataStrategyPermissionRevoke "data-strategy-permission:revoke" "Revoke data policy permission event",
    UnusualLocationLogin "unusual-location:login" "Login from an unusual location",
    RefreshToken "refresh-token" "A token was refreshed",
}

/// GenAuth v3 names of catalog events seed 000 names differently. Either name is accepted; the
/// event is stored under the catalog's, and the v3 routes show the v3 one.
const V3_NAMES: &[(EventName, &str)] = &[(EventName::RoleAdd, "role:created"), (EventName::RoleDelete, "role:deleted")];

impl EventName {
    /// The event a name stands for: a catalog name or its v3 name.
    pub fn lookup(name: &str) -> Option<Self> {
        Self::parse(name).or_else(|| V3_NAMES.iter().find(|(_, v3)| *v3 == name).map(|(e, _)| *e))
    }

    /// The name the v3 API uses for this event.
    pub fn v3_name(self) -> &'static str {
        V3_NAMES.iter().find(|(e, _)| *e == self).map_or(self.as_str(), |(_, v3)| v3)
    }

    /// The category of `get-webhook-event-list` this event is listed under.
    pub fn category(self) -> &'static Category {
        let name = self.as_str();
        let value = match name.split_once(':').map_or(name, |(prefix, _)| prefix) {
            "login" | "register" | "mfa" | "kick" | "refresh-token" | "unusual-location" => "authentication",
            "permission" | "privilege-namespace" | "resource" | "data-resource" | "data-strategy-permission" => "permission",
            "subject" => "role",
            "test" => "webhook",
            other => other,
        };
        CATEGORIES.iter().find(|c| c.value == value).unwrap_or(&CATEGORIES[0])
    }
}

/// A group of events in `get-webhook-event-list`.
#[derive(Debug)]
pub struct Category {
    pub value: &'static str,
    /// Its name in Chinese, as GenAuth's console shows it.
    pub name: &'static str,
    pub name_en: &'static str,
}

pub const CATEGORIES: &[Category] = &[
    Category { value: "authentication", name: "认证", name_en: "Authentication" },
    Category { value: "user", name: "用户", name_en: "User" },
    Category { value: "organization", name: "组织机构", name_en: "Organization" },
    Category { value: "permission", name: "权限", name_en: "Permission" },
    Category { value: "role", name: "角色", name_en: "Role" },
    Category { value: "group", name: "用户分组", name_en: "Group" },
    Category { value: "application", name: "应用", name_en: "Application" },
    Category { value: "user-pool", name: "用户池", name_en: "User pool" },
    Category { value: "webhook", name: "Webhook", name_en: "Webhook" },
];


#[cfg(test)]
mod tests {
    use super::EventName;

    #[test]
    fn names_round_trip() {
        for e in EventName::ALL {
            assert_eq!(EventName::parse(e.as_str()), Some(*e));
        }
        assert_eq!(EventName::UserCreated.as_str(), "user:created");
        assert_eq!(EventName::OrganizationNodeAdded.as_str(), "organization:node-added");
    }

    #[test]
    fn v3_names_and_categories() {
        assert_eq!(EventName::lookup("role:created"), Some(EventName::RoleAdd));
        assert_eq!(EventName::lookup("role:add"), Some(EventName::RoleAdd));
        assert_eq!(EventName::RoleAdd.v3_name(), "role:created");
        assert_eq!(EventName::UserCreated.v3_name(), "user:created");
        assert_eq!(EventName::lookup("nope"), None);
        // Every event has its own category, never the fallback by accident.
        for e in EventName::ALL {
            let prefix = e.as_str().split(':').next().unwrap();
            let c = e.category();
            assert!(c.value != "authentication" || ["login", "register", "mfa", "kick", "refresh-token", "unusual-location"].contains(&prefix), "{e:?}");
        }
        assert_eq!(EventName::SubjectRemove.category().value, "role");
        assert_eq!(EventName::OrganizationMemberAdded.category().value, "organization");
        assert_eq!(EventName::UserPoolUpdated.category().value, "user-pool");
    }

    /// The 76 names of `WebhookEventName` in authing-node-sdk 4.0.1 (`src/models`).
    const V3_WEBHOOK_EVENT_NAMES: &[&str] = &[
        "test", "register", "login", "mfa:verified", "kick", "user:created", "user:password-changed",
        "user:updated", "user:email-verified", "user:archived", "user:unarchived", "user:blocked",
        "user:unblocked", "user:deleted", "user:register-whitelist-added", "user:register-whitelist-deleted",
        "user:udv-changed", "user:link-account", "user:password-update-remind",
        "user:organization-node-update", "permission:revoke", "permission:add", "resource:created",
        "resource:delete", "resource:updated", "role:created", "role:updated", "role:deleted",
        "role:disable", "role:assigned", "subject:remove", "role:unassigned", "role:udv-changed",
        "application:mfa:enabled", "application:mfa:disabled", "group:created", "group:updated",
        "group:deleted", "group:member-added", "group:member-removed", "organization:created",
        "organization:imported", "organization:deleted", "organization:node-added",
        "organization:node-updated", "organization:tree-updated", "organization:node-deleted",
        "organization:node-moved", "organization:member-added", "organization:member-removed",
        "organization:udv-changed", "privilege-namespace:created", "privilege-namespace:updated",
        "privilege-namespace:deleted", "user-pool:cooperator-added", "user-pool:cooperator-removed",
        "user-pool:secret-refreshed", "user-pool:updated", "user-pool:udf-added", "user-pool:udf-deleted",
        "user-pool:env-added", "user-pool:env-deleted", "user-pool:env-updated",
        "user-pool:launchpad-app-installed", "user-pool:launchpad-app-uninstalled", "application:created",
        "application:updated", "application:deleted", "application:secret-refreshed",
        "data-resource:created", "data-resource:updated", "data-resource:deleted",
        "data-strategy-permission:revoke", "data-strategy-permission:add", "unusual-location:login",
        "refresh-token",
    ];

    #[test]
    fn every_v3_webhook_event_name_is_accepted_and_shown_as_sent() {
        for name in V3_WEBHOOK_EVENT_NAMES {
            let e = EventName::lookup(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(e.v3_name(), *name);
        }
    }
}
