"""Joint modelling without disclosure (联合建模): private set intersection and vertical logistic regression.

Each party (the hub as host with government features, a bank as guest with labels) runs as its own process with
its own data dir; see docs/joint-modelling.md for the protocol, the threat model and the file formats.
"""
