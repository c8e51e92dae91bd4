"""Statement verification (对公流水核验): is the bank statement an enterprise presented genuine?

A bank uploads the statement (CSV in the documented layout, or ISO 20022 camt.053); it is matched against the
hub's ledger of that account and period in passes (exact key, tolerant, many-to-one netting, altered pairs), its
running balance is re-added, and a verdict (genuine / suspicious / fabricated) is given with the evidence the
bank is entitled to. See docs/statement-verification.md.
"""
