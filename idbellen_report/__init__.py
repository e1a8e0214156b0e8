"""The evaluation report: per municipality (tenant) and month, from the PII-free CloudWatch metrics,
one self-contained HTML page (and a PDF) a privacy officer and a KCC manager can read.

    python -m idbellen_report --tenant T --from 2026-11 [--to 2026-12] [--out build/report]

docs/report.md describes what it shows, how small counts are protected and how to run it.
"""
