"""Edits of a table's stored definition on SQLite, for migrations only.

SQLite cannot alter a CHECK constraint, and refuses to rebuild a table that other tables refer
to; a migration then rewrites the stored CREATE TABLE under ``writable_schema`` (the documented
procedure, https://sqlite.org/lang_altertable.html §7) and bumps ``schema_version`` so that every
connection reads it again. Migrations 0010, 0016, 0018 and 0022 carry their own copy of this (a
shipped migration stays as it ran)."""


def stored_table_sql(connection, table: str) -> str:
    """The CREATE TABLE statement SQLite keeps for ``table``."""
    return connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()


def edit_stored_table(connection, table: str, replacements) -> None:
    """Replace each ``old`` by ``new`` (each found exactly once) in the stored CREATE TABLE of
    ``table``; anything unexpected stops the migration before a byte is written."""
    ddl = stored_table_sql(connection, table)
    for old, new in replacements:
        if ddl.count(old) != 1:
            raise RuntimeError(f"unexpected {table} schema: {ddl}")
        ddl = ddl.replace(old, new)
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (ddl, table))
    # A PRAGMA takes no bound parameter: the value is SQLite's own integer, plus one.
    connection.exec_driver_sql("PRAGMA schema_version = " + str(int(version) + 1))
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
