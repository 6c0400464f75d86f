"""Command lines: python -m mysqlsts.cli.defects | reports | secretscan."""
