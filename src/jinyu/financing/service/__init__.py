"""Financing use cases: demands and work orders, indicators, window guidance, chain chiefs and consultants.

Services take the session first, then the principal; they never commit (the boundary does).
"""

from jinyu.financing.service import experts, guidance, outbox, products
from jinyu.financing.service.indicators import GROUPINGS, indicators, lake_indicators
from jinyu.financing.service.lake_export import export_orders
from jinyu.financing.service.managers import EnrolReport, enroll_managers
from jinyu.financing.service.mechanisms import assign_consultant, list_chain_chiefs, set_chain_chief
from jinyu.financing.service.orders import (
    act,
    assign,
    get_order,
    list_orders,
    post_demand,
    rate,
    redispatch,
)
from jinyu.financing.service.routing import route

__all__ = [
    "GROUPINGS",
    "EnrolReport",
    "act",
    "assign",
    "assign_consultant",
    "enroll_managers",
    "experts",
    "export_orders",
    "get_order",
    "guidance",
    "indicators",
    "lake_indicators",
    "list_chain_chiefs",
    "list_orders",
    "outbox",
    "post_demand",
    "products",
    "rate",
    "redispatch",
    "route",
    "set_chain_chief",
]
