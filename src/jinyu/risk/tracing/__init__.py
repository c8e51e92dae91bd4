"""Return flow and misappropriation of corporate credit funds (企业信贷资金回流与挪用核查)."""
