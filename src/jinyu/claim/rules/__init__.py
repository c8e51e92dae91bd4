"""Pure business rules of the claim domain: product definitions, adjudication, ledger postings, reconciliation.

Values in, values out: no database, web or engine imports (checked by import-linter).
"""
