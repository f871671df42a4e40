"""Buckets of durations by the OpenTelemetry Python SDK's exponential mapping, and by exact
arithmetic, against ours.

stdin: lines "SCHEMA NANOSECONDS INDEX EXACT", INDEX our Prometheus bucket key (OpenTelemetry's
index + 1) of NANOSECONDS / 1e9 s, EXACT 1 to also check the line with 40-digit arithmetic (the
boundaries: bucket key k holds (2^((k-1)/2^s), 2^(k/2^s)] s). stdout: one JSON object, the lines
checked and every disagreement, [schema, ns, ours, theirs].
"""
import functools
import json
import sys
from decimal import Decimal, getcontext

from opentelemetry.sdk.metrics._internal.exponential_histogram.mapping.exponent_mapping import ExponentMapping
from opentelemetry.sdk.metrics._internal.exponential_histogram.mapping.logarithm_mapping import LogarithmMapping

getcontext().prec = 40
mappings = {s: (LogarithmMapping(s) if s > 0 else ExponentMapping(s)) for s in range(-4, 9)}


@functools.lru_cache(maxsize=None)
def upper_ns(key, schema):
    """1e9 * 2^(key/2^schema): the upper bound of bucket key in ns, to 40 digits."""
    return Decimal(10**9) * Decimal(2) ** (Decimal(key) / Decimal(2) ** schema)


checked = exact_checked = 0
otel, exact = [], []
for line in sys.stdin:
    schema, ns, ours, check = (int(field) for field in line.split())
    checked += 1
    theirs = mappings[schema].map_to_index(ns / 1e9) + 1
    if theirs != ours:
        otel.append([schema, ns, ours, theirs])
    if check or theirs != ours:
        exact_checked += 1
        inside = upper_ns(ours - 1, schema) < ns <= upper_ns(ours, schema)
        if not inside:
            exact.append([schema, ns, ours, None])
json.dump({"checked": checked, "exact_checked": exact_checked, "otel": otel, "exact": exact}, sys.stdout)
