"""Database functions and triggers declared in Python, installed with CREATE OR REPLACE.

A capability that keeps a rule in PostgreSQL (a trigger whatever writes the table) declares its
functions and triggers with these classes in one module of its own, and installs them after every
migrate: migrations carry the schema, the rule lives in one place (cartography.database,
signalements.history)."""

import functools
from dataclasses import dataclass
from importlib import import_module

from django.db import OperationalError, connection, connections, transaction
from django.db.migrations.recorder import MigrationRecorder


@dataclass(frozen=True)
class Function:
    signature: str  # name(arguments)
    returns: str
    body: str
    language: str = "plpgsql"
    options: str = ""  # STABLE, SET …

    def sql(self) -> str:
        return (
            f"CREATE OR REPLACE FUNCTION {self.signature} RETURNS {self.returns} "
            f"LANGUAGE {self.language} {self.options} AS $function${self.body}$function$"
        )

    @property
    def name(self) -> str:
        return self.signature.split("(", 1)[0]


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    definition: str  # what follows "ON table" is written in `sql()`; this is the timing and events
    rest: str  # FOR EACH … EXECUTE FUNCTION …
    constraint: bool = False
    # Fired under session_replication_role = replica too (ENABLE ALWAYS); a replaced trigger is
    # enabled as on origin again, hence the ALTER after every CREATE.
    always: bool = False

    def sql(self) -> list[str]:
        if self.constraint:  # CREATE OR REPLACE is not available for constraint triggers
            statements = [
                f"DROP TRIGGER IF EXISTS {self.name} ON {self.table}",
                f"CREATE CONSTRAINT TRIGGER {self.name} {self.definition} ON {self.table} {self.rest}",
            ]
        else:
            statements = [
                f"CREATE OR REPLACE TRIGGER {self.name} {self.definition} ON {self.table} {self.rest}"
            ]
        if self.always:
            statements.append(f"ALTER TABLE {self.table} ENABLE ALWAYS TRIGGER {self.name}")
        return statements

    @property
    def enabled(self) -> str:
        """pg_trigger.tgenabled as the declaration leaves it."""
        return "A" if self.always else "O"


# The events a statement-level trigger with transition tables can be on, one per trigger.
EVENTS = ("INSERT", "UPDATE", "DELETE")


def transition_tables(event: str, *, new: str = "new_rows", old: str = "old_rows") -> str:
    """The REFERENCING clause of a statement-level trigger AFTER `event` (INSERT, UPDATE or DELETE):
    the statement's rows after it as the table `new`, before it as `old`. Transition tables allow
    one event per trigger and no column list: a trigger per event."""
    return {
        "INSERT": f"NEW TABLE AS {new}",
        "UPDATE": f"OLD TABLE AS {old} NEW TABLE AS {new}",
        "DELETE": f"OLD TABLE AS {old}",
    }[event]


def declared_install(
    functions: list[Function], triggers: list[Trigger], connection, after: tuple[str, ...] = ()
) -> None:
    """Create or replace these functions, then these triggers, then run the statements `after`
    (what the functions derive from rows already there), in one transaction."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for function in functions:
            cursor.execute(function.sql())
        for trigger in triggers:
            for statement in trigger.sql():
                cursor.execute(statement)
        for statement in after:
            cursor.execute(statement)


def install_after_migrate(*, declaration: str, needs: tuple[str, str]):
    """A post_migrate receiver that installs the module `declaration`'s FUNCTIONS and TRIGGERS, and
    runs its AFTER_INSTALL statements if it has some, once the migration `needs` (the schema they
    read) is applied: a migrate back to an older state leaves them as its migrations made them. The
    module is imported only then, not at start-up."""

    def receiver(sender, using="default", **kwargs) -> None:
        connection = connections[using]
        if needs in MigrationRecorder(connection).applied_migrations():
            module = import_module(declaration)
            declared_install(
                module.FUNCTIONS, module.TRIGGERS, connection, tuple(getattr(module, "AFTER_INSTALL", ()))
            )

    return receiver


# A deadlock (40P01) or a serialization failure (40001): PostgreSQL aborted the transaction so that
# another could go on; the same work run again succeeds.
RETRIED_SQLSTATES = ("40P01", "40001")
RETRY_ATTEMPTS = 3


def retried_on_deadlock(function):
    """Run `function` (a whole transaction: decorated with transaction.atomic, below this) again
    when PostgreSQL aborted it for a deadlock or a serialization failure, up to RETRY_ATTEMPTS
    times. A merge locks several reports, one statement after another: two merges, or a merge and
    a desk's change, that take the same reports in opposite orders meet in a cycle. Inside an outer
    transaction nothing can be run again: the error goes up."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except OperationalError as error:
                retried = getattr(error.__cause__, "sqlstate", None) in RETRIED_SQLSTATES
                if not retried or attempt == RETRY_ATTEMPTS or connection.in_atomic_block:
                    raise

    return run
