"""The staff commands of `libedge admin`: one module per group, above the store and the domain."""
