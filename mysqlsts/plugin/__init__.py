"""The suite's pytest wiring, one module per concern.

- :mod:`.options`: the command-line options and the run's settings;
- :mod:`.lifecycle`: the run's environment, up once in ``pytest_sessionstart`` on the
  controller and down once at the end (Ctrl-C and SIGTERM included);
- :mod:`.fixtures`: ``deployment``, ``kube``, ``mysql``, ``mysqlsts_run``,
  ``mysqlsts_settings``, and the deployment guard (shared/exclusive lock);
- :mod:`.reports`: one folder of reports per run, Allure labels and environment,
  redaction, evidence on failure, the secret scan;
- :mod:`.bench`: the performance profile (``-m bench``) and every run's bench.json.

The controller process (no xdist, or xdist's coordinator) sets the environment up only
when the invocation targets the e2e suites, so unit test runs never touch Docker or a
cluster. xdist workers receive the run's description through ``workerinput`` and share
the one cluster. Problems the user must fix end the run at once with one line and a
distinct exit code, after removing whatever was created.
"""

pytest_plugins = [
    "mysqlsts.plugin.options",
    "mysqlsts.plugin.lifecycle",
    "mysqlsts.plugin.fixtures",
    "mysqlsts.plugin.run_reports",
    "mysqlsts.plugin.bench_profile",
]
