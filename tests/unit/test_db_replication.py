from __future__ import annotations

import pytest

from mysqlsts.db import replication as r

# As the article shows them (SHOW SLAVE STATUS of mysql-1).
REPLICA_ROW = {
    "Slave_IO_State": "Waiting for master to send event",
    "Master_Log_File": "mysqllog.000003",
    "Read_Master_Log_Pos": 154,
    "Relay_Master_Log_File": "mysqllog.000003",
    "Slave_IO_Running": "Yes",
    "Slave_SQL_Running": "Yes",
    "Exec_Master_Log_Pos": 154,
    "Seconds_Behind_Master": 0,
    "Last_IO_Error": "",
    "Last_SQL_Error": "",
}


def test_positions_order_by_file_index_then_position() -> None:
    assert r.BinlogPosition.of("mysqllog.000003", 154) < r.BinlogPosition.of("mysqllog.000003", 300)
    assert r.BinlogPosition.of("mysqllog.000009", 9000) < r.BinlogPosition.of("mysqllog.000010", 4)
    assert str(r.BinlogPosition.of("mysqllog.000003", 154)) == "mysqllog.000003:154"
    with pytest.raises(ValueError):
        r.BinlogPosition.of("nonsense", 1)


def test_caught_up_when_executed_reaches_the_master() -> None:
    progress = r.replica_status(REPLICA_ROW)
    assert r.caught_up(r.master_position({"File": "mysqllog.000003", "Position": 154}), progress)
    assert not r.caught_up(
        r.master_position({"File": "mysqllog.000003", "Position": 500}), progress
    )
    assert not r.caught_up(r.master_position({"File": "mysqllog.000004", "Position": 4}), progress)


def test_read_but_not_executed_is_not_caught_up() -> None:
    row = {**REPLICA_ROW, "Read_Master_Log_Pos": 900, "Exec_Master_Log_Pos": 154}
    assert not r.caught_up(
        r.master_position({"File": "mysqllog.000003", "Position": 900}), r.replica_status(row)
    )


def test_not_a_replica_and_other_binlog_base() -> None:
    master = r.master_position({"File": "mysqllog.000003", "Position": 154})
    assert r.replica_status(None) is None and not r.caught_up(master, None)
    other = {**REPLICA_ROW, "Relay_Master_Log_File": "mysql-bin.000003"}
    assert not r.caught_up(master, r.replica_status(other))


def test_stopped_sql_thread_fails_at_once() -> None:
    row = {
        **REPLICA_ROW,
        "Slave_SQL_Running": "No",
        "Last_SQL_Error": "Error 1062: Duplicate entry",
    }
    with pytest.raises(r.ReplicationBroken, match="Duplicate entry"):
        r.caught_up(
            r.master_position({"File": "mysqllog.000003", "Position": 154}), r.replica_status(row)
        )


def test_mysql_84_names_are_normalised() -> None:
    row = {
        "Source_Log_File": "b.000001",
        "Read_Source_Log_Pos": 10,
        "Relay_Source_Log_File": "b.000001",
        "Exec_Source_Log_Pos": 10,
        "Replica_IO_Running": "Yes",
        "Replica_SQL_Running": "Yes",
        "Seconds_Behind_Source": 0,
    }
    progress = r.replica_status(row)
    assert progress is not None and progress.sql_running == "Yes" and progress.seconds_behind == 0
    assert r.caught_up(r.BinlogPosition.of("b.000001", 10), progress)


def test_master_without_binlog() -> None:
    with pytest.raises(AssertionError, match="binary logging is off"):
        r.master_position(None)


def test_progress_text_shows_errors() -> None:
    row = {
        **REPLICA_ROW,
        "Slave_IO_Running": "Connecting",
        "Last_IO_Error": "error connecting to master",
    }
    text = str(r.replica_status(row))
    assert (
        "IO Connecting" in text
        and "executed mysqllog.000003:154" in text
        and "error connecting" in text
    )
