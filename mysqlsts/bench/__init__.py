"""The performance profile of the deployment under test: clone throughput, replication lag
and recovery times (``tox -e bench``), and the suite's own cost (every run's bench.json)."""
