"""Counters the hardening tests fill and the terminal summary prints."""

from collections import Counter

COUNTS: Counter[str] = Counter()

LABELS = {
    "fuzzed": "schema examples fuzzed",
    "hostile": "hostile inputs tried",
    "parallel": "parallel requests sent",
    "crashes": "crashes injected",
}
