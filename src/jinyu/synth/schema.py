"""The columns the generator writes for each dataset, mirroring `jinyu.governance.contracts`.

The layer rules keep `jinyu.synth` below `jinyu.governance`, so the generator cannot import the contracts;
this mirror is checked against them column by column in tests/synth/test_synth_contracts.py. Kinds use the
contracts' spelling: string, int, decimal, date, timestamp, bool, month. A trailing "?" marks an optional
column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Col:
    name: str
    kind: str
    required: bool


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    columns: tuple[Col, ...]
    parquet: bool  # big datasets are Parquet, the rest CSV
    sort_by: tuple[str, ...] = ()  # row order in the written file

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def filename(self) -> str:
        return f"{self.name}.{'parquet' if self.parquet else 'csv'}"


def _spec(name: str, columns: str, parquet: bool = False, sort_by: tuple[str, ...] = ()) -> DatasetSpec:
    cols = []
    for item in columns.split():
        col, kind = item.split(":")
        cols.append(Col(col, kind.rstrip("?"), not kind.endswith("?")))
    return DatasetSpec(name, tuple(cols), parquet, sort_by)


DATASETS: dict[str, DatasetSpec] = {
    s.name: s
    for s in (
        _spec(
            "banks",
            "org_code:string name:string level:string parent_code:string? district_code:string uscc:string?",
        ),
        _spec(
            "institutions",
            "org_code:string name:string kind:string district_code:string uscc:string? "
            "hospital_grade:string? in_prepayment:bool?",
        ),
        _spec(
            "enterprises",
            "uscc:string name:string industry_code:string district_code:string "
            "registered_capital:decimal established_on:date address:string phone:string? "
            "legal_rep_id:string legal_rep_name:string status:string",
        ),
        _spec("customer_managers", "staff_id:string org_code:string name:string phone:string"),
        _spec("chain_members", "chain_code:string chain_name:string segment:string uscc:string is_core:bool"),
        _spec(
            "shareholders",
            "uscc:string holder_type:string holder_id:string holder_name:string share_ratio:decimal",
        ),
        _spec(
            "tax_monthly",
            "uscc:string period:month sales_declared:decimal tax_paid:decimal",
            True,
            ("uscc", "period"),
        ),
        _spec(
            "headcount_monthly",
            "uscc:string period:month social_insurance_count:int "
            "provident_fund_count:int provident_fund_amount:decimal",
            True,
            ("uscc", "period"),
        ),
        _spec(
            "patents", "patent_no:string uscc:string kind:string title:string filed_on:date granted_on:date?"
        ),
        _spec(
            "judicial",
            "case_no:string uscc:string role:string case_type:string filed_on:date amount:decimal "
            "status:string",
        ),
        _spec(
            "accounts",
            "account_no:string bank_code:string owner_type:string owner_id:string "
            "owner_name:string category:string opened_on:date currency:string",
            True,
            ("account_no",),
        ),
        _spec(
            "loans",
            "loan_id:string bank_code:string borrower_uscc:string disbursement_account:string "
            "amount:decimal disbursed_at:timestamp term_months:int declared_purpose:string",
            True,
            ("bank_code", "disbursed_at"),
        ),
        _spec(
            "loan_guarantees",
            "loan_id:string guarantor_type:string guarantor_id:string guarantor_name:string "
            "guarantee_type:string amount:decimal signed_on:date",
        ),
        _spec(
            "related_parties",
            "owner_uscc:string related_type:string related_id:string related_name:string relation:string "
            "source:string bank_code:string? valid_from:date valid_to:date?",
        ),
        # Balances of record: the contract's mirror; the generator writes none yet (an empty file).
        _spec("opening_balances", "account_no:string as_of:date balance:decimal currency:string"),
        # Transfers are written in time order (the lake re-sorts them by account); see transfers.py.
        _spec(
            "transfers",
            "txn_id:string ts:timestamp from_account:string to_account:string amount:decimal "
            "currency:string channel:string memo:string?",
            True,
        ),
        # Supplementary medical insurance (claims.py). Visits are written in settlement-time order, as a
        # hospital's system would send them; the part sorts them (CSV files are written as given).
        _spec(
            "claim_insured",
            "person_id:string product_code:string policy_year:int pre_existing:string? premium:decimal "
            "enrolled_on:date",
        ),
        _spec(
            "claim_visits",
            "hospital_code:string mdtrt_id:string setl_id:string person_id:string setl_time:timestamp "
            "dise_codg:string medfee_sumamt:decimal fulamt_ownpay_amt:decimal overlmt_selfpay:decimal "
            "preselfpay_amt:decimal inscp_scp_amt:decimal hifp_pay:decimal hifmi_pay:decimal hifob_pay:decimal "
            "maf_pay:decimal acct_pay:decimal psn_cash_pay:decimal bmi_settled:bool special_drug_code:string? "
            "special_drug_amount:decimal?",
        ),
        # Credit-card sources (credit.py).
        _spec(
            "registration_changes",
            "uscc:string changed_on:date item:string before_value:string? after_value:string",
        ),
        _spec("tax_credit_ratings", "uscc:string year:int rating:string rated_on:date"),
        _spec(
            "trademarks",
            "reg_no:string uscc:string nice_class:int mark_name:string applied_on:date registered_on:date?",
        ),
        _spec("copyrights", "reg_no:string uscc:string kind:string title:string registered_on:date"),
        _spec(
            "dishonest_debtors",
            "case_no:string uscc:string court:string amount:decimal listed_on:date removed_on:date?",
        ),
        _spec(
            "admin_penalties",
            "decision_no:string uscc:string authority:string penalty_type:string amount:decimal "
            "decided_on:date reason:string",
        ),
        _spec("source_coverage", "source:string uscc:string bureau:string as_of:date covered:bool"),
    )
}
