"""Declared loan purposes and the purpose-compatibility matrix (which misuse kinds each purpose prohibits)."""
