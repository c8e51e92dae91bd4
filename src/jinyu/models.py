"""Every domain's ORM tables, imported so that one MetaData knows them all (Alembic and tests use this)."""

from __future__ import annotations

from jinyu.audit import models as audit_models
from jinyu.chain import models as chain_models
from jinyu.claim import models as claim_models
from jinyu.consent import models as consent_models
from jinyu.core.db import Base
from jinyu.credit import models as credit_models
from jinyu.financing import models as financing_models
from jinyu.governance import models as governance_models
from jinyu.governance.policy import models as policy_models
from jinyu.ingest import models as ingest_models
from jinyu.jointmodel import models as jointmodel_models
from jinyu.party import models as party_models
from jinyu.risk import models as risk_models

metadata = Base.metadata
DOMAIN_MODELS = (
    audit_models,
    party_models,
    consent_models,
    ingest_models,
    risk_models,
    claim_models,
    policy_models,
    credit_models,
    governance_models,
    financing_models,
    chain_models,
    jointmodel_models,
)
