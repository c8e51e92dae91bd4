"""Party use cases: organisations, users and service accounts, authentication, real-name registration.

Services take the session first, then the principal; they never commit (the boundary does).
"""

from jinyu.party.service.credentials import (
    change_own_password,
    list_service_accounts,
    revoke_api_key,
    revoke_user_tokens,
    rotate_api_key,
    set_service_account_active,
    set_user_active,
    set_user_password,
    user_id_for,
)
from jinyu.party.service.identity import (
    api_key_refresh_due,
    authenticate_api_key,
    authenticate_token,
    cached_api_key_principal,
    forget_api_keys,
    principal_for_user,
    principal_for_username,
    refresh_api_key,
    session_of,
    unchecked_token_principal,
)
from jinyu.party.service.logins import login
from jinyu.party.service.orgs import (
    RegistryOrg,
    bank_directory,
    create_org,
    enterprises_by_codes,
    find_enterprise,
    get_org,
    list_orgs,
    names_by_codes,
    org_code,
    org_codes_under,
    org_paths_by_codes,
    resolve_org,
    upsert_registry_orgs,
)
from jinyu.party.service.registration import (
    decide_registration,
    get_registration,
    list_registrations,
    registration_verified,
    submit_registration,
)
from jinyu.party.service.sessions import renew as renew_session
from jinyu.party.service.users import create_service_account, create_user, list_users, me

__all__ = [
    "RegistryOrg",
    "api_key_refresh_due",
    "authenticate_api_key",
    "authenticate_token",
    "bank_directory",
    "cached_api_key_principal",
    "change_own_password",
    "create_org",
    "create_service_account",
    "create_user",
    "decide_registration",
    "enterprises_by_codes",
    "find_enterprise",
    "forget_api_keys",
    "get_org",
    "get_registration",
    "list_orgs",
    "list_registrations",
    "list_service_accounts",
    "list_users",
    "login",
    "me",
    "names_by_codes",
    "org_code",
    "org_codes_under",
    "org_paths_by_codes",
    "principal_for_user",
    "principal_for_username",
    "refresh_api_key",
    "registration_verified",
    "renew_session",
    "resolve_org",
    "revoke_api_key",
    "revoke_user_tokens",
    "rotate_api_key",
    "session_of",
    "set_service_account_active",
    "set_user_active",
    "set_user_password",
    "submit_registration",
    "unchecked_token_principal",
    "upsert_registry_orgs",
    "user_id_for",
]
