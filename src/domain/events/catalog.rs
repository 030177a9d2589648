//! The events a webhook or subscriber may ask for: seed 000's list, names and descriptions, as
//! one enum, so that an event name is checked when the code compiles. orgraph itself causes the
//! `user:*` and `organization:*` ones the README lists (see `payload::DomainEvent`); the others can
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
}

/// True when `name` is in the catalog.
pub fn is_known(name: &str) -> bool {
    EventName::parse(name).is_some()
}

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
}
