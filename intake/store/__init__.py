"""The database: tables, migrations, queries and the poll lease."""
