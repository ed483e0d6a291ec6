"""Run and sweep reports: report.html (self-contained) and report.md (docs/report.md)."""
