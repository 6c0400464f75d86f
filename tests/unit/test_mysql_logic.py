from __future__ import annotations

from mysqlsts.mysql import ready_endpoint_pods


def test_ready_pods_behind_a_service() -> None:
    slices = [
        {
            "endpoints": [
                {"conditions": {"ready": True}, "targetRef": {"kind": "Pod", "name": "mysql-1"}},
                {"conditions": {"ready": False}, "targetRef": {"kind": "Pod", "name": "mysql-2"}},
                {
                    "conditions": {},
                    "targetRef": {"kind": "Pod", "name": "mysql-0"},
                },  # absent = ready
            ]
        },
        {"endpoints": None},
        {
            "endpoints": [
                {"conditions": {"ready": True}, "targetRef": {"kind": "Pod", "name": "mysql-1"}}
            ]
        },
    ]
    assert ready_endpoint_pods(slices) == ["mysql-0", "mysql-1"]
