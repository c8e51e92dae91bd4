"""Check-digit validity computed in SQL, so a `check_digit` rule needs no code and runs inside the one scan.

Three schemes, each "the format of the house validators (`core/ids.py`) and the right check character":

- `resident_id` (GB 11643, ISO 7064 MOD 11-2): 17 digits and a digit or `X`; the check character is
  `10X98765432`[sum(d_i * (2^(18-i) mod 11)) mod 11];
- `uscc` (GB 32100-2015): 2 code characters, 6 digits, 10 code characters (digits and the capitals but
  I, O, S, V, Z); the check character has the value (31 - sum(c_i * (3^(i-1) mod 31)) mod 31) mod 31;
- `luhn` (ISO/IEC 7812, bank cards): 12–19 digits; every second digit from the right doubled (minus 9 when
  above 9), the sum a multiple of 10.
Values are judged as stored: upper case, no spaces (`x` for `X` fails).

Digits and code characters are read as their position in an alphabet string (`INSTR`), never cast, so a
malformed value cannot make the statement fail: the format test decides first (inside `CASE`, which both
DuckDB and Spark evaluate lazily per row) and a value of the wrong format fails the rule. Only plain SQL
(`LENGTH`, `SUBSTR`, `INSTR`, `REGEXP_MATCHES`, `CASE`, `%`) is used, so sqlglot carries it to Spark unchanged.
The expected verdicts in the tests come from python-stdnum, an independent implementation.
"""

from __future__ import annotations

SCHEMES = ("resident_id", "uscc", "luhn")

_DIGITS = "0123456789"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_RIC_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, ...
_USCC_WEIGHTS = tuple(3**i % 31 for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, ...
FORMATS = {
    "resident_id": "^[0-9]{17}[0-9X]$",
    "uscc": "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$",
    "luhn": "^[0-9]{12,19}$",
}


def _char_value(c: str, position: str, alphabet: str) -> str:
    """The value of the character at 1-based SQL `position` of `c`: its index in `alphabet`."""
    return f"(INSTR('{alphabet}', SUBSTR({c}, {position}, 1)) - 1)"


def _resident_id(c: str) -> str:
    total = " + ".join(f"{_char_value(c, str(i + 1), _DIGITS)} * {w}" for i, w in enumerate(_RIC_WEIGHTS))
    return f"SUBSTR('10X98765432', ({total}) % 11 + 1, 1) = SUBSTR({c}, 18, 1)"


def _uscc(c: str) -> str:
    total = " + ".join(
        f"{_char_value(c, str(i + 1), _USCC_ALPHABET)} * {w}" for i, w in enumerate(_USCC_WEIGHTS)
    )
    return f"SUBSTR('{_USCC_ALPHABET}', (31 - ({total}) % 31) % 31 + 1, 1) = SUBSTR({c}, 18, 1)"


def _luhn(c: str) -> str:
    # Position k from the right (0 = the check digit); doubled when k is odd, minus 9 when that passes 9.
    # Positions beyond the value's length count 0 (guarded, since SUBSTR of a position < 1 differs by engine).
    terms = []
    for k in range(19):
        d = _char_value(c, f"LENGTH({c}) - {k}", _DIGITS)
        value = d if k % 2 == 0 else f"(CASE WHEN {d} >= 5 THEN {d} * 2 - 9 ELSE {d} * 2 END)"
        terms.append(f"(CASE WHEN LENGTH({c}) > {k} THEN {value} ELSE 0 END)" if k >= 12 else value)
    return f"({' + '.join(terms)}) % 10 = 0"


_CHECKS = {"resident_id": _resident_id, "uscc": _uscc, "luhn": _luhn}


def failure_sql(scheme: str, c: str) -> str:
    """The condition, never NULL, under which the (non-null) value of column expression `c` fails `scheme`.

    A null value never fails (`not_null` is the rule for that)."""
    valid = _CHECKS[scheme](c)
    return (
        f"({c} IS NOT NULL AND (CASE WHEN REGEXP_MATCHES({c}, '{FORMATS[scheme]}') "
        f"THEN NOT ({valid}) ELSE TRUE END))"
    )
