"""Render the dataset contracts as the data-formats documentation page."""

from __future__ import annotations

from collections.abc import Iterable

from jinyu.governance.contracts import Contract

HEADER = """# 数据格式 / Ingestion data formats

Generated from `src/jinyu/governance/contracts/` by `jinyu datasets docs`; do not edit by hand.

Files are CSV (header row, comma-separated, every cell read as text and typed by the contract) or Parquet
(column names as below; types may be native or text). A directory of part files loads as one dataset.

- `decimal`: yuan with at most two decimals (fen), e.g. `1234.50`; never floating point.
- `timestamp`: ISO 8601; without an offset the time is Asia/Shanghai; stored in UTC.
- `date`: `YYYY-MM-DD`; `month`: `YYYY-MM`; `bool`: `true/false/1/0`.
- Classification (分级): public 公开 · internal 内部 · sensitive 敏感 · personal 个人信息.
- Protection: `token` columns are replaced by a keyed HMAC pseudonym before they reach the lake (resident IDs
  in the person token space, phones in a phone token space: equal values still join); `mask_name`
  columns keep only the family name. `protect_if` limits protection to rows where another column has a value;
  `<check> if <column>=<value>` applies a check only to such rows.

## CSV encoding 编码

Declared with `jinyu ingest DATASET FILE --encoding E` or the upload's `encoding` query parameter; `E` is
`auto` (the default), `utf-8`, `gbk` or `gb18030`. A declared encoding is used as given. `auto` decides once per
file: UTF-8 when the file starts with a UTF-8 byte-order mark; otherwise GB18030 (a superset of GBK and
GB2312) when at least one line has bytes outside ASCII and none of those lines is valid UTF-8; otherwise
UTF-8. So a UTF-8 file with one GBK cell is read as UTF-8 and only that line is quarantined, while a file
written wholly in GBK loads. The header line must decode in the chosen encoding and name exactly the
contract's columns, or the file is refused (422, field `file` or the column names) and nothing is loaded.

## Who may provide 提供方

Each dataset names the kinds of organisation that provide it ("Provided by"); an upload by any other kind is
refused whole (403 `dataset_not_providable`, audited). The operator may load any dataset on a provider's
behalf. Where a dataset names an owner column (or reaches its owner through rows already loaded), a provider
sends only rows of its own organisation tree: rows of another organisation go to quarantine as
`not_own_tenant:<column>`. See docs/security.md.

## Rejected rows 隔离

Rejected rows are never dropped: they are counted by reason in the load report (`missing_required`,
`bad_type`, `bad_check`, `bad_choice`, `below_min`, `too_many_decimals`, `not_own_tenant`,
`duplicate_key_in_file`, `duplicate_key_existing`, `unknown_reference`) and written to
`<data dir>/quarantine/<dataset>/<load>.csv` as `row_number, reasons, sealed_row`: the row itself only
encrypted (AES-256-GCM), opened by the providing organisation's data engineers
(`GET /api/v1/ingest/loads/{id}/quarantine`, `jinyu ingest-quarantine`).
A CSV line that cannot be read is one rejected row, and the other rows still load:
`bad_encoding` (the line is not valid text in the file's encoding) and `malformed_line` (its record has more
or fewer fields than the header, e.g. a truncated last line, or its quoting is broken). Their reason names
the physical line number (line 1 is the header), e.g. `malformed_line:…/line 7 has 3 fields, expected 6`;
the quarantine's `row_number` counts records after the header, unreadable ones included, so every row of
the file is either loaded or quarantined: `accepted + rejected == rows_total`. Reasons and error messages
name lines, columns and counts, never cell content. A file whose rows are all rejected still gets its load
report (nothing written to the lake); a file that is not CSV or Parquet at all gets a 422 problem.

## Atomic loads 原子加载

A load's lake files become visible together with its load record and never without it. The files are
written under hidden temporary names (which no reader matches) and declared in flight (`<lake>/_pending/`)
until the transaction holding the load record ends: after the commit they are published (linked into place
under their final names), after a rollback they are removed at once. A load therefore checks its keys and
references only against rows of committed loads, and a client that got the load's answer finds its rows in
the next query. A process killed at any point (even `kill -9`) leaves its declaration behind, and its rows stay
invisible; before every load and when the API server starts, declarations of dead processes are settled — a
committed record's files not yet published are published, all others are removed, and so are temporary files
no live load owns. Loading the same file twice returns the first report (`already_loaded`).
"""


def _section(c: Contract) -> str:
    lines = [
        f"## `{c.name}` — {c.title}",
        "",
        f"Provider 提供方: {c.provider}. Key 主键: `{', '.join(c.key)}`.",
    ]
    kinds = ", ".join(sorted(k.value for k in c.provided_by))
    owner = f"; rows owned by `{c.owner_column}` (own organisation tree only)" if c.owner_column else ""
    if c.shared_rows_by:
        shared = ", ".join(sorted(k.value for k in c.shared_rows_by))
        owner += f"; {shared} send shared rows only (`{c.owner_column}` empty), seen by every provider's tree"
    if c.owner_via:
        via = " or ".join(f"`{col}` → `{target}`.`{own}`" for col, target, own in c.owner_via)
        owner = f"; a row is the provider's when {via} is in its own organisation tree"
    lines.append(f"Provided by 可提供方: {kinds or '-'} (and the operator){owner}.")
    if c.partition_by:
        lines.append(
            f"Lake partitions by the month of `{c.partition_by}`; sorted by `{', '.join(c.sort_by)}`."
        )
    if c.references:
        refs = ", ".join(f"`{k}` → `{v}`" for k, v in c.references.items())
        lines.append(f"References 引用: {refs}.")
    lines += [
        "",
        "| column | type | required | level | check / allowed | protect | description |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for col in c.columns:
        check = col.check.value if col.check else " / ".join(col.choices)
        if col.check_when:
            check = "; ".join(f"{c.value} if {other}={value}" for other, value, c in col.check_when)
        protect = col.protect.value if col.protect else ""
        if col.protect is not None and col.protect.value == "token" and col.token_domain != "person":
            protect += f" ({col.token_domain})"
        if col.protect_if:
            protect += f" if {col.protect_if[0]}={col.protect_if[1]}"
        lines.append(
            f"| `{col.name}` | {col.kind.value} | {'yes' if col.required else 'no'} | {col.level.value} "
            f"| {check} | {protect} | {col.description} |"
        )
    return "\n".join(lines)


def render_markdown(contracts: Iterable[Contract]) -> str:
    return HEADER + "\n" + "\n\n".join(_section(c) for c in contracts) + "\n"
