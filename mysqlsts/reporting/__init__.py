"""What the reports carry: attachments, evidence, Allure results, run folders, durations,
the secret scan."""
