"""Party use cases: organisations, users and service accounts, authentication, real-name registration.

Services take the session first, then the principal; they never commit (the boundary does).
"""

from jinyu.party.service.identity import (
    api_key_refresh_due,
    authenticate_api_key,
    authenticate_token,
    cached_api_key_principal,
    forget_api_keys,
    login,
    principal_for_user,
    principal_for_username,
    refresh_api_key,
)
from jinyu.party.service.orgs import (
    RegistryOrg,
    create_org,
    find_enterprise,
    get_org,
    list_orgs,
    org_codes_under,
    org_paths_by_codes,
    resolve_org,
    upsert_registry_orgs,
)
from jinyu.party.service.registration import (
    decide_registration,
    get_registration,
    list_registrations,
    submit_registration,
)
from jinyu.party.service.users import create_service_account, create_user, list_users, me

__all__ = [
    "RegistryOrg",
    "api_key_refresh_due",
    "authenticate_api_key",
    "authenticate_token",
    "cached_api_key_principal",
    "create_org",
    "create_service_account",
    "create_user",
    "decide_registration",
    "find_enterprise",
    "forget_api_keys",
    "get_org",
    "get_registration",
    "list_orgs",
    "list_registrations",
    "list_users",
    "login",
    "me",
    "org_codes_under",
    "org_paths_by_codes",
    "principal_for_user",
    "principal_for_username",
    "refresh_api_key",
    "resolve_org",
    "submit_registration",
    "upsert_registry_orgs",
]
