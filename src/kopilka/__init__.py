"""Kopilka: a loyalty and bonus-points system."""
