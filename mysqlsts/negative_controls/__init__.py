"""Negative controls: broken variants of the manifests, and the checks that must catch them.

- :mod:`.catalogue` reads ``manifests/defects/<name>/defect.yaml`` (which check must fail,
  and for which reason) and ``UNCOVERED.md`` (checks no defect can make fail, and why);
- :mod:`.junit` reads pytest's JUnit XML into one result per exact node id;
- :mod:`.verdicts` turns results into verdicts: caught, WRONG REASON, MISSED,
  BASELINE FAILED, and the collateral failures of each defect;
- :mod:`.selection` chooses what each run collects (claimed checks first, then the rest
  of their areas) and the rotating CI sample;
- :mod:`.ordering` is the small pytest plugin that runs the claimed checks first;
- :mod:`.table` renders the verdicts and the coverage table.

``mysqlsts.cli.defects`` runs them.
"""
