"""Fund-flow risk services for banks (资金流风险核查)."""
