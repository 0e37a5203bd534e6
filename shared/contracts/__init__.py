"""Versioned message contracts, one module per aggregate."""
