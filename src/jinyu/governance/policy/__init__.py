"""Data-security policy: classes of response fields, who sees what of each, and the approvals that open level
4-5 data on a consent grant (docs/data-security.md)."""
