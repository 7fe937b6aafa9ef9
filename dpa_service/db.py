"""Database engine, session factory and the declarative Base; SQLite (embedded) or PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, String, create_engine, event, make_url
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    SessionTransaction,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.sql.base import Executable
from sqlalchemy.types import TypeDecorator

from dpa_service.log_context import current_request_id

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, also on SQLite (which stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


def _private_sqlite_file(url: str) -> None:
    """The SQLite file holds every customer's details: readable by the service's user only
    (SQLite gives its -wal and -shm files the database file's mode)."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


DATABASE_CONNECT_TIMEOUT_S = 5


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # A database that accepts connections and never answers gives up after a bounded time
    # (then 503 with Retry-After), instead of holding the request for as long as TCP allows.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        # (an operator's own connect_timeout in DPA_DATABASE_URL wins)
        connect_args={}
        if "connect_timeout=" in url
        else {"connect_timeout": DATABASE_CONNECT_TIMEOUT_S},
    )


class QueuedWork:
    """Marks a table whose new rows are work for the job engine (an e-mail to send, an object
    to archive, a webhook to deliver, an agreement to re-issue): a transaction that adds one
    wakes the engine once it commits (see `take_queued_work`). Each row keeps the id of the
    request that queued it, so the job's log lines name that request too."""

    request_id: Mapped[str | None] = mapped_column(String(64), default=None)


_QUEUED = "dpa_queued_work"


def _note_queued_work(session: Session, _context: Any, _instances: Any) -> None:
    queued = [row for row in session.new if isinstance(row, QueuedWork)]
    if queued:
        session.info[_QUEUED] = True
        request_id = current_request_id()
        for row in queued:
            if row.request_id is None:
                row.request_id = request_id


def queue_work(session: Session) -> None:
    """Say that this transaction made work due without adding a row (e.g. a redelivery)."""
    session.info[_QUEUED] = True


def take_queued_work(session: Session) -> bool:
    """Whether the committed transaction queued work; asking clears the mark."""
    return bool(session.info.pop(_QUEUED, False))


def end_read_transaction(session: Session) -> None:
    """End a transaction that has only read, before long work (rendering, sealing), so the
    database is not held meanwhile. Refuses if anything was written: that must commit in the
    caller's unit of work, not here."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_read_transaction: the transaction has unflushed changes")
    if session.info.get(_WROTE):
        raise RuntimeError("end_read_transaction: the transaction has written")
    session.commit()


_WROTE = "dpa_wrote"


def _note_write(session: Session, *_: Any) -> None:
    session.info[_WROTE] = True


def _note_orm_write(state: Any) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        state.session.info[_WROTE] = True


def _forget_writes(session: Session, *_: Any) -> None:
    session.info.pop(_WROTE, None)


def make_session_factory(engine: Engine) -> sessionmaker:  # type: ignore[type-arg]
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "before_flush", _note_queued_work)
    event.listen(factory, "after_flush", _note_write)
    event.listen(factory, "do_orm_execute", _note_orm_write)
    event.listen(factory, "after_commit", _forget_writes)
    event.listen(factory, "after_rollback", _forget_writes)
    return factory


# The largest value of an integer column (PostgreSQL's integer): a version number beyond it names
# nothing, so it is not found rather than sent to the database to fail there.
MAX_INTEGER = 2**31 - 1


def savepoint(session: Session) -> SessionTransaction:
    """`session.begin_nested()`, a savepoint inside the unit of work on every backend. pysqlite
    opens its transaction only before the first write: a SAVEPOINT taken before it would be the
    transaction itself, and its release would commit what it holds, whatever became of the
    request afterwards. So on SQLite the transaction is begun first."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and not getattr(dbapi, "in_transaction", True):
            connection.exec_driver_sql("BEGIN")
    return session.begin_nested()


def changed_rows(session: Session, statement: Executable) -> int:
    """Run an UPDATE and return how many rows it changed (our compare-and-set primitive)."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
