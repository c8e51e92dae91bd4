"""Industrial chains and the industry mix of the region's other enterprises.

Goods flow along a chain's segments in the order listed (materials -> panels -> ... -> dealers), so money
flows the other way: each segment pays the one before it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    name: str
    share: float  # of the chain's members
    industries: tuple[str, ...]


@dataclass(frozen=True)
class Chain:
    code: str
    name: str
    share: float  # of the region's enterprises
    core_segment: str  # where the chain's core enterprise (链主) sits
    core_size: float  # its head-count
    segments: tuple[Segment, ...]


CHAINS: tuple[Chain, ...] = (
    Chain(
        "new_display",
        "新型显示产业链",
        0.12,
        "panels",
        6000.0,
        (
            Segment("materials", 0.20, ("C3985", "C3042")),
            Segment("panels", 0.08, ("C3974",)),
            Segment("modules", 0.20, ("C3979", "C3982")),
            Segment("devices", 0.22, ("C3911", "C3922", "C3951", "C3961")),
            Segment("dealers", 0.30, ("F5176", "F5177", "F5273", "F5274")),
        ),
    ),
    Chain(
        "auto",
        "智能网联新能源汽车产业链",
        0.08,
        "core",
        9000.0,
        (
            Segment("upstream", 0.50, ("C3670", "C3982")),
            Segment("core", 0.08, ("C3612", "C3611")),
            Segment("downstream", 0.42, ("F5261", "F5172", "F5263")),
        ),
    ),
    Chain(
        "biomed",
        "生物医药产业链",
        0.06,
        "core",
        2500.0,
        (
            Segment("upstream", 0.35, ("C2710",)),
            Segment("core", 0.20, ("C2720", "C2740", "C2761")),
            Segment("downstream", 0.45, ("F5151", "F5251")),
        ),
    ),
)

# Industries of enterprises outside the chains: (class, kind, weight). The kind decides which flow families
# an enterprise takes part in (merchants are paid by card processors, developers sell homes, ...).
BACKGROUND: tuple[tuple[str, str, float], ...] = (
    ("E4710", "construction", 3),
    ("E4790", "construction", 2),
    ("K7010", "developer", 3),
    ("K7020", "services", 2),
    ("F5211", "merchant", 3),
    ("F5212", "merchant", 4),
    ("H6110", "merchant", 2),
    ("H6210", "merchant", 6),
    ("H6220", "merchant", 4),
    ("O8040", "merchant", 3),
    ("F5251", "merchant", 2),
    ("I6513", "services", 6),
    ("I6531", "services", 4),
    ("G5431", "services", 5),
    ("G5920", "services", 2),
    ("L7224", "services", 3),
    ("L7241", "services", 2),
    ("I6520", "general", 1),
    ("L7212", "general", 2),
    ("M7320", "general", 3),
    ("C3973", "general", 1),
    ("C3670", "general", 3),
    ("F5176", "general", 3),
    ("F5151", "general", 1),
)

PROCESSOR_INDUSTRY = "J6930"
SECURITIES_INDUSTRY = "J6712"
