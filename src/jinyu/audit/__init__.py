"""Audit trail (审计追踪): an append-only, hash-chained, tamper-evident record of every write and every
read of protected data.

Other domains call `jinyu.audit.service.record()` inside their own transaction (or `record_outcome()` for
denials and failures whose transaction rolls back). See docs/audit.md.
"""
